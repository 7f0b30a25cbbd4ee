/**
 * Hot reload (`watch`): a project in a temporary folder, served with `watch` on; the test edits its
 * files and invokes until the new result shows, never sleeping. Inline, worker and process
 * isolation, TypeScript, an imported module, manifest changes, an invalid manifest, a function
 * that stays warm, and an invocation in flight that finishes on the old code.
 */
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger, lifecycleChannelNames, type EnvironmentCreateMessage, type EnvironmentStopMessage } from '../../src/index.js';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { gate } from '../helpers/gate.js';
import { waitUntil } from '../helpers/wait-until.js';

/** A handler module returning `{ version }`, optionally stopping at a gate first. */
const versioned = (version: number | string) => `import { passGate } from './gate.mjs';
export const handler = async (event) => {
  await passGate(event.gate);
  return { version: ${JSON.stringify(version)} };
};
`;

const typed = (version: number) => `interface Answer { readonly version: number; readonly fn: string }
export const handler = async (_event: unknown, context: { functionName: string }): Promise<Answer> => ({ version: ${version}, fn: context.functionName });
`;

const message = (version: number) => `export const version = ${version};\n`;

/** Generous timeouts: a cold start on a loaded machine is no failure of hot reload. */
const MANIFEST = {
  functions: {
    inlineFn: { handler: 'inline.handler', isolation: 'inline', timeout: 30 },
    workerFn: { handler: 'worker.handler', isolation: 'worker', timeout: 30 },
    inlineGated: { handler: 'worker.handler', isolation: 'inline', timeout: 30 },
    processFn: { handler: 'proc.handler', isolation: 'process', timeout: 30 },
    typedFn: { handler: 'typed.handler', isolation: 'inline', timeout: 30 },
    typedWorker: { handler: 'typed.handler', isolation: 'worker', timeout: 30 },
    steady: { handler: 'steady.handler', isolation: 'worker', timeout: 30, http: [{ method: 'GET', path: '/steady' }] },
    configured: { handler: 'configured.handler', isolation: 'worker', timeout: 30, environment: { GREETING: 'hello' } },
    runner: { handler: 'serverfull/command-runner', isolation: 'inline', timeout: 30 },
  },
};

/** A SAM template with one function, whose `COLOR` variable is `color`. */
const template = (color: string) => `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  FromTemplate:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: tpl/
      Handler: app.handler
      Runtime: nodejs22.x
      Timeout: 30
      Environment:
        Variables:
          COLOR: ${color}
`;

describe('hot reload (watch)', () => {
  let project: string;
  let fx: FixtureServer;
  const logs: Array<{ level: string; msg: string; functions?: string }> = [];
  const created: EnvironmentCreateMessage[] = [];
  const stopped: EnvironmentStopMessage[] = [];
  const onCreate = (m: unknown) => void created.push(m as EnvironmentCreateMessage);
  const onStop = (m: unknown) => void stopped.push(m as EnvironmentStopMessage);
  const write = (name: string, text: string) => writeFileSync(join(project, name), text);
  const writeManifest = (manifest: unknown) => write('serverfull.json', JSON.stringify(manifest, null, 2));
  /** The last answer of each function, for failure messages. */
  const answers = new Map<string, string>();
  const versionOf = async (name: string) => {
    const { text, json } = await fx.invoke(name);
    answers.set(name, text);
    return json?.version;
  };
  const until = (name: string, expected: unknown) =>
    waitUntil(async () => (await versionOf(name)) === expected, `${name} answers version ${JSON.stringify(expected)}`, {
      detail: () => `last answer ${answers.get(name)}; last log lines ${JSON.stringify(logs.slice(-5))}`,
    });
  const createdFor = (name: string) => created.filter((m) => m.serverId === fx.server.serverId && m.functionName === name).length;

  before(async () => {
    project = mkdtempSync(join(tmpdir(), 'serverfull-hot-reload-'));
    write('package.json', JSON.stringify({ type: 'module' }));
    cpSync(join(FIXTURES, 'functions/gate.mjs'), join(project, 'gate.mjs'));
    mkdirSync(join(project, 'lib'));
    write('lib/message.mjs', message(1));
    write('inline.mjs', `import { version } from './lib/message.mjs';\nexport const handler = async () => ({ version });\n`);
    write('worker.mjs', versioned(1));
    write('proc.mjs', versioned(1));
    write('typed.ts', typed(1));
    write('steady.mjs', versioned('steady'));
    write('configured.mjs', `export const handler = async () => ({ version: process.env.GREETING });\n`);
    writeManifest(MANIFEST);
    mkdirSync(join(project, 'tpl'));
    write('tpl/app.mjs', `export const handler = async () => ({ version: process.env.COLOR });\n`);
    write('template.yaml', template('blue'));
    diagnosticsChannel.subscribe(lifecycleChannelNames.environmentCreate, onCreate);
    diagnosticsChannel.subscribe(lifecycleChannelNames.environmentStop, onStop);
    const logger = createLogger({ level: 'info', format: 'json', write: (line) => void logs.push(JSON.parse(line)) });
    fx = await startFixtureServer({ config: join(project, 'serverfull.json'), template: join(project, 'template.yaml'), watch: true, logger });
  });

  after(async () => {
    await fx?.close();
    diagnosticsChannel.unsubscribe(lifecycleChannelNames.environmentCreate, onCreate);
    diagnosticsChannel.unsubscribe(lifecycleChannelNames.environmentStop, onStop);
    rmSync(project, { recursive: true, force: true });
  });

  it('inline: a change to a module the handler imports runs on a fresh module instance; no bundle is left behind', async () => {
    assert.equal(await versionOf('inlineFn'), 1);
    write('lib/message.mjs', message(2));
    await until('inlineFn', 2);
    assert.deepEqual(readdirSync(project).filter((name) => name.includes('.serverfull-')), []);
  });

  it('inline: a built-in handler (serverfull\'s own module, not the project\'s) loads as always', async () => {
    const { json } = await fx.invoke('runner', { commands: ['true'] });
    assert.equal(json?.passed, true, JSON.stringify(json));
  });

  it('worker: an edited handler runs in a new environment; the old one is retired', async () => {
    assert.equal(await versionOf('workerFn'), 1);
    write('worker.mjs', versioned(2));
    await until('workerFn', 2);
    await waitUntil(() => stopped.some((m) => m.serverId === fx.server.serverId && m.functionName === 'workerFn' && m.reason === 'retired'), 'the old workerFn environment is retired');
  });

  it('process: an edited handler runs in a new process', async () => {
    assert.equal(await versionOf('processFn'), 1);
    write('proc.mjs', versioned(2));
    await until('processFn', 2);
  });

  it('TypeScript: an edited handler is compiled again, inline and in a worker', async () => {
    assert.deepEqual((await fx.invoke('typedFn')).json, { version: 1, fn: 'typedFn' });
    assert.deepEqual((await fx.invoke('typedWorker')).json, { version: 1, fn: 'typedWorker' });
    write('typed.ts', typed(2));
    await until('typedFn', 2);
    await until('typedWorker', 2);
  });

  it('inline: a syntax error is the runtime\'s init error until the file is fixed', async () => {
    write('inline.mjs', 'export const handler = async () => ({ version: 3 ;\n');
    await waitUntil(async () => (await fx.invoke('inlineFn')).json?.errorType === 'Runtime.UserCodeSyntaxError', 'inlineFn fails with a syntax error');
    write('inline.mjs', `import { version } from './lib/message.mjs';\nexport const handler = async () => ({ version: version + 1 });\n`);
    await until('inlineFn', 3);
  });

  it('an unchanged function keeps its warm environment while others reload', async () => {
    assert.equal(await versionOf('steady'), 'steady');
    const before = createdFor('steady');
    write('worker.mjs', versioned(3));
    await until('workerFn', 3);
    writeManifest({ ...MANIFEST, functions: { ...MANIFEST.functions, configured: { ...MANIFEST.functions.configured, environment: { GREETING: 'steady?' } } } });
    await until('configured', 'steady?');
    assert.equal(await versionOf('steady'), 'steady');
    assert.equal(createdFor('steady'), before, 'no new environment (no cold start) for the unchanged function');
  });

  it('a manifest change: a new environment variable value, and a new function', async () => {
    writeManifest({
      ...MANIFEST,
      functions: { ...MANIFEST.functions, configured: { ...MANIFEST.functions.configured, environment: { GREETING: 'bonjour' } }, added: { handler: 'steady.handler' } },
    });
    await until('configured', 'bonjour');
    assert.equal(await versionOf('added'), 'steady');
    assert.ok(fx.server.functions.some((d) => d.name === 'added'), 'the server lists the new function');
  });

  it('a manifest change to routes: the gateway serves the new route', async () => {
    const status = async (path: string) => (await fetch(`${fx.server.httpUrl}${path}`)).status;
    assert.equal(await status('/moved'), 404);
    writeManifest({
      ...MANIFEST,
      functions: { ...MANIFEST.functions, configured: { ...MANIFEST.functions.configured, environment: { GREETING: 'bonjour' } }, added: { handler: 'steady.handler' },
        steady: { ...MANIFEST.functions.steady, http: [{ method: 'GET', path: '/moved' }] } },
    });
    await waitUntil(async () => (await status('/moved')) === 200, 'the new route answers');
    assert.equal(await status('/steady'), 404);
  });

  it('an invalid manifest keeps the last good configuration and says why; a valid one applies again', async () => {
    const said = () => logs.filter((line) => line.level === 'warn' && line.msg.includes('keeping the last good configuration'));
    const warnings = said().length;
    write('serverfull.json', '{ "functions": { "configured": ');
    await waitUntil(() => said().length > warnings, 'the server says the manifest does not validate');
    assert.match(said().at(-1)!.msg, /not valid JSON/);
    writeManifest({ functions: { ...MANIFEST.functions, configured: { handler: 'configured.handler', timeout: 'soon' } } });
    await waitUntil(() => said().length > warnings + 1, 'the server says the manifest does not validate');
    assert.match(said().at(-1)!.msg, /timeout/);
    assert.equal(await versionOf('configured'), 'bonjour');
    assert.equal(await versionOf('added'), 'steady');
    writeManifest({ ...MANIFEST, functions: { ...MANIFEST.functions, configured: { ...MANIFEST.functions.configured, environment: { GREETING: 'again' } } } });
    await until('configured', 'again');
    await assert.rejects(fx.invoke('added'), { name: 'ResourceNotFoundException' }, 'a function removed from the manifest is gone');
  });

  it('a template change applies; a template that no longer parses keeps the last good one', async () => {
    assert.equal(await versionOf('FromTemplate'), 'blue');
    write('template.yaml', template('green'));
    await until('FromTemplate', 'green');
    const said = () => logs.filter((line) => line.level === 'warn' && line.msg.includes('keeping the last good configuration')).length;
    const warnings = said();
    write('template.yaml', 'Resources: [unclosed');
    await waitUntil(() => said() > warnings, 'the server says the template does not validate');
    assert.equal(await versionOf('FromTemplate'), 'green');
    write('template.yaml', template('red'));
    await until('FromTemplate', 'red');
  });

  it('invocations in flight (worker, inline) finish on the old code; the next ones run the new code', async () => {
    const door = gate();
    try {
      assert.equal(await versionOf('workerFn'), 3);
      assert.equal(await versionOf('inlineGated'), 3);
      const inFlight = [fx.invoke('workerFn', { gate: door.dir }), fx.invoke('inlineGated', { gate: door.dir })];
      await door.arrived(2);
      write('worker.mjs', versioned(4));
      await until('workerFn', 4);
      await until('inlineGated', 4);
      door.open();
      assert.deepEqual((await Promise.all(inFlight)).map((output) => output.json.version), [3, 3]);
    } finally {
      door.open();
      door.remove();
    }
  });
});
