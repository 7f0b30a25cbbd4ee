/** Manifest validation: every mistake names the function and the field. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { buildDefinitions, readManifest } from '../../src/config/manifest.js';
import { FIXTURES } from '../helpers/fixture-server.js';
import { DEFAULT_RUNTIME } from '../../src/registry/runtimes.js';

const build = (functions: Record<string, unknown>) => buildDefinitions(functions, FIXTURES, 'worker', 'serverfull.json');

describe('manifest', () => {
  it('builds definitions with Lambda defaults', () => {
    const [definition] = build({ hello: { handler: 'functions/echo.handler' } });
    assert.deepEqual({ ...definition }, {
      name: 'hello', version: '$LATEST', runtime: DEFAULT_RUNTIME, handler: 'functions/echo.handler', root: FIXTURES, timeout: 3, memorySize: 128,
      reservedConcurrency: undefined, environment: {}, isolation: 'worker', description: '',
    });
    assert.ok(Object.isFrozen(definition));
  });

  it('finds .js, .mjs, .cjs and .ts files', () => {
    for (const handler of ['functions/echo.handler', 'functions/callback.handler', 'functions/typed.handler']) {
      assert.equal(build({ f: { handler } })[0]!.handler, handler);
    }
  });

  it('reads a function\'s ephemeral storage, in MB', () => {
    assert.equal(build({ f: { handler: 'functions/echo.handler', ephemeralStorage: 4096 } })[0]!.ephemeralStorage, 4096);
  });

  it('reads a function\'s maximum event age', () => {
    assert.equal(build({ f: { handler: 'functions/echo.handler', maximumEventAge: 120 } })[0]!.maximumEventAge, 120);
    assert.equal(build({ f: { handler: 'functions/echo.handler' } })[0]!.maximumEventAge, undefined, 'unset: the server\'s maxEventAge');
  });

  it('reads a function\'s network: none runs in a process, the isolation it then gets unless it names process', () => {
    assert.equal(build({ f: { handler: 'functions/echo.handler' } })[0]!.network, undefined, 'unset: the server\'s functionNetwork');
    const [isolated] = build({ f: { handler: 'functions/echo.handler', network: 'none' } });
    assert.equal(isolated!.network, 'none');
    assert.equal(isolated!.isolation, 'process');
    assert.equal(build({ f: { handler: 'functions/echo.handler', network: 'all' } })[0]!.isolation, 'worker');
  });

  const mistakes: Array<[string, unknown, RegExp]> = [
    ['a missing handler file', { handler: 'functions/nope.handler' }, /function "f": field "handler": no file functions\/nope/],
    ['a handler without an export', { handler: 'functions/echo' }, /function "f": field "handler" must look like "file.export"/],
    ['a handler that is not a string', { handler: 42 }, /function "f": field "handler" must be/],
    ['an unknown key', { handler: 'functions/echo.handler', memory: 128 }, /function "f": unknown field "memory"/],
    ['a timeout out of range', { handler: 'functions/echo.handler', timeout: 901 }, /function "f": field "timeout" must be an integer from 1 to 900 \(got 901\)/],
    ['a timeout of the wrong type', { handler: 'functions/echo.handler', timeout: '3' }, /field "timeout" must be an integer/],
    ['ephemeral storage below 512', { handler: 'functions/echo.handler', ephemeralStorage: 256 }, /field "ephemeralStorage" must be an integer from 512 to 10240/],
    ['a memory size below 128', { handler: 'functions/echo.handler', memorySize: 64 }, /field "memorySize" must be an integer from 128 to 10240/],
    ['a negative reserved concurrency', { handler: 'functions/echo.handler', reservedConcurrency: -1 }, /field "reservedConcurrency"/],
    ['a non-string variable', { handler: 'functions/echo.handler', environment: { A1: 1 } }, /field "environment": "A1" must be a string/],
    ['a reserved variable', { handler: 'functions/echo.handler', environment: { AWS_REGION: 'x' } }, /"AWS_REGION" is reserved/],
    ['an unknown isolation', { handler: 'functions/echo.handler', isolation: 'vm' }, /field "isolation" must be one of "worker", "inline", "process"/],
    ['a function that is not an object', 'functions/echo.handler', /function "f" must be an object/],
    ['a maximum event age under AWS\'s 60 seconds', { handler: 'functions/echo.handler', maximumEventAge: 30 }, /field "maximumEventAge" must be an integer from 60 to 21600/],
    ['a handler leaving the folder with ".."', { handler: '../fixtures/functions/echo.handler' }, /function "f": field "handler" must name a file inside .* has a "\.\." segment/],
    ['a handler deep in ".." segments', { handler: 'functions/../../../etc/x.handler' }, /field "handler" must name a file inside/],
    ['an absolute handler path', { handler: '/etc/passwd.handler' }, /field "handler" must name a file inside .*absolute path/],
    ['a handler with a backslash', { handler: '..\\x.handler' }, /field "handler" must name a file inside .*backslash/],
    ['an unknown network', { handler: 'functions/echo.handler', network: 'host' }, /field "network" must be one of "all", "none"/],
    ['no network in a worker thread', { handler: 'functions/echo.handler', network: 'none', isolation: 'worker' }, /field "network": "none" runs the function in a sandboxed process/],
    ['no network inline', { handler: 'functions/echo.handler', network: 'none', isolation: 'inline' }, /field "network": "none"/],
    ['a custom runtime handler leaving the folder', { handler: '../../x.handler', runtime: 'provided.al2023' }, /field "handler" must name a file inside/],
  ];
  for (const [title, config, message] of mistakes) {
    it(`refuses ${title}`, () => {
      assert.throws(() => build({ f: config }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('refuses an invalid function name', () => {
    assert.throws(() => build({ 'bad name': { handler: 'functions/echo.handler' } }), /function "bad name": the name must be/);
  });

  describe('runtimes', () => {
    const CUSTOM_ROOT = join(FIXTURES, '../../examples/custom-runtime');
    const custom = (config: Record<string, unknown>) => buildDefinitions({ f: config }, CUSTOM_ROOT, 'worker', 'serverfull.json')[0]!;

    it('a Node.js runtime is kept; provided.al2023 runs the bootstrap as a process, with any handler string', () => {
      for (const runtime of ['nodejs22.x', 'nodejs24.x']) {
        assert.equal(build({ f: { handler: 'functions/echo.handler', runtime } })[0]!.runtime, runtime);
      }
      const definition = custom({ runtime: 'provided.al2023', handler: 'function.handler' });
      assert.equal(definition.runtime, 'provided.al2023');
      assert.equal(definition.isolation, 'process');
      assert.equal(definition.handler, 'function.handler');
    });

    it('refuses an unknown runtime, a custom runtime without a bootstrap, and a custom runtime in a thread', () => {
      assert.throws(() => build({ f: { handler: 'functions/echo.handler', runtime: 'python3.9' } }), /field "runtime" must be one of "nodejs18.x"/);
      assert.throws(() => build({ f: { handler: 'x', runtime: 'provided.al2023' } }), /field "runtime": provided.al2023 needs an executable file .*\/bootstrap/);
      assert.throws(() => custom({ runtime: 'provided', handler: 'function.handler', isolation: 'worker' }), /"isolation" can only be "process"/);
    });
  });

  it('a handler given as a function runs inline', () => {
    const [definition] = build({ f: async () => 'ok' });
    assert.equal(definition!.isolation, 'inline');
  });

  it('reads settings and refuses unknown top-level keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-manifest-'));
    writeFileSync(join(dir, 'good.json'), JSON.stringify({ port: 9000, functions: {} }));
    assert.deepEqual(readManifest(join(dir, 'good.json')).settings, { port: 9000 });
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ prot: 9000 }));
    assert.throws(() => readManifest(join(dir, 'bad.json')), /unknown field "prot"/);
    writeFileSync(join(dir, 'broken.json'), '{');
    assert.throws(() => readManifest(join(dir, 'broken.json')), /is not valid JSON/);
  });
});
