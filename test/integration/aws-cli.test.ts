/**
 * The real `aws` CLI (v2, Debian's awscli) against a running server, as the README shows it.
 * CI installs it; on a developer machine without it the test is skipped, in CI it must run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { handlerZip } from '../helpers/zip-fixture.js';

const AWS = '/usr/bin/aws';
const available = existsSync(AWS);
if (!available && process.env.CI) throw new Error(`${AWS} is missing: .ci/run installs Debian's awscli`);
const run = promisify(execFile);

// Each call starts the CLI's Python afresh (about a second of CPU): the tests, which share nothing but the
// server, run at once.
describe('aws CLI', { skip: available ? false : `${AWS} not installed (apt-get install awscli)`, concurrency: true }, () => {
  let fx: FixtureServer;
  let dir: string;
  before(async () => {
    fx = await startFixtureServer();
    dir = mkdtempSync(join(tmpdir(), 'serverfull-awscli-'));
  });
  after(() => fx.close());

  const aws = (args: string[]) =>
    run(AWS, ['lambda', ...args, '--endpoint-url', fx.server.url, '--region', 'us-east-1', '--output', 'json'], {
      env: { PATH: process.env.PATH, HOME: dir, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_PAGER: '' },
    });

  it('reports a function error', async () => {
    const outFile = join(dir, 'error.json');
    const { stdout } = await aws(['invoke', '--function-name', 'faults', '--cli-binary-format', 'raw-in-base64-out', '--payload', '{"fault":"throw"}', outFile]);
    assert.equal(JSON.parse(stdout).FunctionError, 'Unhandled');
    assert.equal(JSON.parse(readFileSync(outFile, 'utf8')).errorType, 'TeapotError');
  });

  it('invokes the bundled examples exactly as the README shows, with the log tail', async () => {
    const examples = await startFixtureServer({ config: join(REPO_ROOT, 'examples/serverfull.json') });
    try {
      const outFile = join(dir, 'hello.json');
      const { stdout } = await run(AWS, [
        'lambda', 'invoke', '--endpoint-url', examples.server.url, '--region', 'us-east-1',
        '--function-name', 'hello', '--cli-binary-format', 'raw-in-base64-out',
        '--payload', '{"name":"Ada"}', '--log-type', 'Tail', outFile,
      ], { env: { PATH: process.env.PATH, HOME: dir, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_PAGER: '' } });
      const meta = JSON.parse(stdout);
      assert.equal(meta.StatusCode, 200);
      assert.equal(meta.ExecutedVersion, '$LATEST');
      assert.match(Buffer.from(meta.LogResult, 'base64').toString(), /^START RequestId: /);
      assert.deepEqual(JSON.parse(readFileSync(outFile, 'utf8')), { message: 'Hello, Ada!' });
    } finally {
      await examples.close();
    }
  });

  it('deploys with create-function, publish-version and create-alias, then invokes the alias', async () => {
    const zipFile = join(dir, 'function.zip');
    writeFileSync(zipFile, await handlerZip('from-cli'));
    const { stdout: created } = await aws([
      'create-function', '--function-name', 'cli-deployed', '--runtime', 'nodejs20.x', '--handler', 'index.handler',
      '--role', 'arn:aws:iam::000000000000:role/lambda', '--zip-file', `fileb://${zipFile}`,
      '--environment', 'Variables={GREETING=hey}', '--timeout', '30',
    ]);
    assert.equal(JSON.parse(created).FunctionName, 'cli-deployed');
    const { stdout: published } = await aws(['publish-version', '--function-name', 'cli-deployed']);
    assert.equal(JSON.parse(published).Version, '1');
    await Promise.all([
      aws(['create-alias', '--function-name', 'cli-deployed', '--name', 'live', '--function-version', '1']),
      aws(['wait', 'function-active-v2', '--function-name', 'cli-deployed']),
    ]);

    const outFile = join(dir, 'deployed.json');
    const { stdout } = await aws(['invoke', '--function-name', 'cli-deployed:live', '--cli-binary-format', 'raw-in-base64-out', '--payload', '{}', outFile]);
    assert.equal(JSON.parse(stdout).ExecutedVersion, '1');
    assert.deepEqual(JSON.parse(readFileSync(outFile, 'utf8')), { label: 'from-cli', greeting: 'hey', version: '1' });
  });

  it('names ResourceNotFoundException for an unknown function', async () => {
    await assert.rejects(aws(['invoke', '--function-name', 'nope', join(dir, 'nope.json')]), (error: Error & { stderr: string }) => {
      assert.match(error.stderr, /ResourceNotFoundException/);
      assert.match(error.stderr, /Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope/);
      return true;
    });
  });
});
