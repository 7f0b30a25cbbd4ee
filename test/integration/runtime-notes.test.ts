/** Every Node.js runtime is accepted everywhere, and a runtime that is not what runs is said once. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CreateFunctionCommand, GetFunctionConfigurationCommand, type Runtime } from '@aws-sdk/client-lambda';
import { createLogger } from '../../src/log.js';
import { startFixtureServer } from '../helpers/fixture-server.js';
import { zipOf } from '../helpers/zip-fixture.js';

const RUNTIMES = ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'];
const running = `nodejs${process.versions.node.split('.')[0]}.x`;

it('accepts nodejs20.x, 22.x and 24.x in serve() and CreateFunction; warns once per runtime that is not the running Node.js', async () => {
  const lines: Array<Record<string, string>> = [];
  const logger = createLogger({ level: 'warn', format: 'json', write: (line) => void lines.push(JSON.parse(line)) });
  const functions = Object.fromEntries(RUNTIMES.flatMap((runtime, i) => [
    [`fn${i}a`, { handler: 'functions/echo.handler', runtime }],
    [`fn${i}b`, { handler: 'functions/echo.handler', runtime }],
  ]));
  const fx = await startFixtureServer({ config: undefined, functions, root: new URL('../../../test/fixtures/', import.meta.url).pathname, logger });
  try {
    const notes = () => lines.filter((line) => line.runtime !== undefined);
    const expected = RUNTIMES.filter((runtime) => runtime !== running);
    assert.deepEqual(notes().map((line) => line.runtime).sort(), expected);
    for (const note of notes()) {
      assert.equal(note.level, 'warn');
      assert.match(note.msg, new RegExp(`^${note.runtime} functions run on Node\\.js ${process.versions.node.replaceAll('.', '\\.')} `));
      const index = RUNTIMES.indexOf(note.runtime!);
      assert.equal(note.functions, `fn${index}a,fn${index}b`);
    }
    const zip = await zipOf({ 'index.mjs': 'export const handler = async () => 1;' });
    for (const runtime of RUNTIMES) {
      await fx.lambda.send(new CreateFunctionCommand({
        FunctionName: `deployed-${runtime.replace('.', '-')}`, Runtime: runtime as Runtime, Handler: 'index.handler', Role: 'arn:aws:iam::000000000000:role/r', Code: { ZipFile: zip },
      }));
      const configuration = await fx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: `deployed-${runtime.replace('.', '-')}` }));
      assert.equal(configuration.Runtime, runtime);
      assert.equal((await fx.invoke(`deployed-${runtime.replace('.', '-')}`)).json, 1);
    }
    assert.equal(notes().length, expected.length, 'said once per runtime, not again for each new function');
  } finally {
    await fx.close();
  }
});
