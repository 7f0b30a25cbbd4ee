/**
 * The JSON Schema of `serverfull.json` (schema/serverfull.schema.json, published with the package for editors)
 * says what the manifest reader accepts: the same fields and lists, every manifest of the repository passes,
 * and manifests the reader refuses fail it too.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildDefinitions, FUNCTION_KEYS, MANIFEST_KEYS, readManifest } from '../../src/config/manifest.js';
import { resolveSettings } from '../../src/config/settings.js';
import { readManifestGateway } from '../../src/gateway/manifest-gateway.js';
import { FUNCTION_NETWORKS, ISOLATION_KINDS } from '../../src/registry/function-definition.js';
import { EPHEMERAL_STORAGE, MAXIMUM_EVENT_AGE, MEMORY_SIZE, RESERVED_CONCURRENCY, TIMEOUT } from '../../src/registry/function-limits.js';
import { SUPPORTED_RUNTIMES } from '../../src/registry/runtimes.js';
import { SANDBOX_MODES } from '../../src/runtime/sandbox-support.js';
import { FIXTURES, REPO_ROOT } from '../helpers/fixture-server.js';
import { schemaErrors } from '../helpers/json-schema-check.js';

type Schema = Record<string, any>;
const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schema/serverfull.schema.json'), 'utf8')) as Schema;
const fn = schema.$defs.function as Schema;

/** The JSON files under `folder` that are manifests (they declare functions; SAM templates have Resources). */
function manifestsUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.json') && !name.includes('node_modules') && !name.endsWith('package.json'))
    .map((name) => join(folder, name))
    .filter((path) => {
      const json = JSON.parse(readFileSync(path, 'utf8')) as unknown;
      return typeof json === 'object' && json !== null && 'functions' in json && !('Resources' in json);
    });
}

/** Whether serverfull's own reader accepts `manifest` (handlers resolved in the fixtures folder). */
function readerAccepts(manifest: unknown, work: string): boolean {
  const path = join(work, 'serverfull.json');
  writeFileSync(path, JSON.stringify(manifest));
  try {
    const read = readManifest(path);
    resolveSettings({ manifest: read.settings });
    buildDefinitions(read.functions, FIXTURES, 'worker', path);
    readManifestGateway(read.http, read.functions, path);
    return true;
  } catch {
    return false;
  }
}

describe('serverfull.json schema', () => {
  const work = mkdtempSync(join(tmpdir(), 'serverfull-schema-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('has exactly the fields and choices the manifest reader has', () => {
    assert.deepEqual(Object.keys(schema.properties).sort(), [...MANIFEST_KEYS].sort(), 'top-level fields: a new setting needs its schema entry');
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(fn.properties).sort(), [...FUNCTION_KEYS].sort());
    assert.equal(fn.additionalProperties, false);
    assert.deepEqual(fn.properties.runtime.enum, SUPPORTED_RUNTIMES);
    assert.deepEqual(fn.properties.isolation.enum, ISOLATION_KINDS);
    assert.deepEqual(schema.properties.isolation.enum, ISOLATION_KINDS);
    assert.deepEqual(fn.properties.network.enum, FUNCTION_NETWORKS);
    assert.deepEqual(schema.properties.sandbox.enum, SANDBOX_MODES);
    for (const [name, limit] of Object.entries({ timeout: TIMEOUT, memorySize: MEMORY_SIZE, ephemeralStorage: EPHEMERAL_STORAGE, reservedConcurrency: RESERVED_CONCURRENCY, maximumEventAge: MAXIMUM_EVENT_AGE })) {
      assert.deepEqual([fn.properties[name].minimum, fn.properties[name].maximum], [limit.min, limit.max], name);
    }
  });

  it('accepts every manifest of the repository: examples, fixtures and the init template', () => {
    const manifests = ['examples', 'test/fixtures', 'templates'].flatMap((folder) => manifestsUnder(join(REPO_ROOT, folder)));
    assert.ok(manifests.length >= 10, `found ${manifests.length}`);
    for (const path of manifests) {
      assert.deepEqual(schemaErrors(schema, JSON.parse(readFileSync(path, 'utf8'))), [], relative(REPO_ROOT, path));
    }
  });

  it('accepts a manifest using every kind of field, as the reader does', () => {
    const full = {
      $schema: './node_modules/serverfull/schema/serverfull.schema.json',
      port: 0, region: 'eu-west-1', isolation: 'process', logRetention: '12h', allowedOrigins: ['http://localhost:5173'], runtimesDir: '/opt/runtimes',
      functions: {
        echo: {
          handler: 'functions/echo.handler', runtime: 'nodejs22.x', timeout: 900, memorySize: 256, environment: { GREETING: 'hi' },
          http: [{ method: 'get', path: '/echo/{id}' }], mock: { schema: { type: 'object' }, seed: 'random', errors: ['Sandbox.Timedout'] },
        },
      },
      http: { kind: 'rest', stage: 'v1', cors: { allowOrigins: ['*'], maxAge: 60 }, basePaths: { v1: '$LATEST' }, routes: [{ path: '/all', function: 'echo' }], timeout: 29 },
    };
    assert.deepEqual(schemaErrors(schema, full), []);
    assert.equal(readerAccepts(full, work), true);
  });

  const base = { functions: { echo: { handler: 'functions/echo.handler' } } };
  const wrong: Array<[string, unknown, RegExp]> = [
    ['a misspelt setting', { ...base, prot: 8080 }, /\$\.prot: unknown field/],
    ['a port as text', { ...base, port: '8080' }, /\$\.port: must be integer/],
    ['a function without a handler', { functions: { echo: { timeout: 3 } } }, /"handler" is required/],
    ['a runtime AWS retired', { functions: { echo: { handler: 'functions/echo.handler', runtime: 'nodejs16.x' } } }, /runtime: must be one of/],
    ['a timeout over 15 minutes', { functions: { echo: { handler: 'functions/echo.handler', timeout: 901 } } }, /timeout: must be <= 900/],
    ['a bad variable name', { functions: { echo: { handler: 'functions/echo.handler', environment: { '1BAD': 'x' } } } }, /1BAD \(name\): must match/],
    ['an unknown method', { functions: { echo: { handler: 'functions/echo.handler', http: [{ method: 'FETCH', path: '/x' }] } } }, /method: must be one of/],
    ['a bad function name', { functions: { 'a b': { handler: 'functions/echo.handler' } } }, /a b \(name\): must match/],
    ['a field of a function misspelt', { functions: { echo: { handler: 'functions/echo.handler', memory: 256 } } }, /\.memory: unknown field/],
  ];
  for (const [what, manifest, error] of wrong) {
    it(`refuses ${what}, as the reader does`, () => {
      assert.match(schemaErrors(schema, manifest).join('\n'), error);
      assert.equal(readerAccepts(manifest, work), false);
    });
  }
});
