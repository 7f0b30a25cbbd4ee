/** Mock outputs and errors, the manifest's `mock` blocks and the `mock` setting. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { applyMockSetting, buildDefinitions } from '../../src/config/manifest.js';
import { resolveSettings } from '../../src/config/settings.js';
import type { MockDeclaration } from '../../src/registry/function-definition.js';
import { DEFAULT_MOCK_SEED, EMPTY_MOCK, mockError, mockOutput } from '../../src/runtime/mock-output.js';
import { FIXTURES } from '../helpers/fixture-server.js';

const ROOT = join(FIXTURES, 'mock');
const MANIFEST = JSON.parse(readFileSync(join(ROOT, 'serverfull.json'), 'utf8'));
/** The fixture's customer schema: required fields, formats, patterns, enums, nested objects. */
const SCHEMA: Record<string, unknown> = MANIFEST.functions.customer.mock.schema;

const build = (mock: unknown) => buildDefinitions({ f: { handler: 'functions/never-run.handler', mock } }, ROOT, 'inline', 'serverfull.json')[0]!;
const declared = (declaration: Partial<MockDeclaration>): MockDeclaration => ({ errors: [], ...declaration });

describe('mockOutput', () => {
  it('answers the example as JSON, whatever its type', () => {
    for (const example of [{ a: [1, 'two'] }, 'text', 0, false, null]) {
      assert.equal(mockOutput(declared({ example })), JSON.stringify(example));
    }
  });

  it('answers null when nothing is declared, as a handler that returns nothing', () => {
    assert.equal(mockOutput(EMPTY_MOCK), 'null');
    assert.equal(mockOutput(declared({ errors: ['ThrottledError'] })), 'null');
  });

  it('generates the same value from the same schema and seed, a different one from another seed', () => {
    const first = mockOutput(declared({ schema: SCHEMA, seed: 42 }));
    assert.equal(mockOutput(declared({ schema: structuredClone(SCHEMA), seed: 42 })), first, 'equal declarations, not the same object');
    assert.notEqual(mockOutput(declared({ schema: SCHEMA, seed: 43 })), first);
    const value = JSON.parse(first);
    for (const field of SCHEMA.required as string[]) assert.ok(field in value, `required field ${field}`);
  });

  it('is deterministic without a seed, unless the seed is "random"', () => {
    assert.equal(mockOutput(declared({ schema: SCHEMA })), mockOutput(declared({ schema: SCHEMA, seed: DEFAULT_MOCK_SEED })));
    const random = declared({ schema: SCHEMA, seed: 'random' });
    assert.notEqual(mockOutput(random), mockOutput(random), 'a new value per call (the uuid alone makes a repeat improbable)');
  });

  it('computes a deterministic value once per declaration', () => {
    const declaration = declared({ schema: SCHEMA, seed: 5 });
    assert.equal(mockOutput(declaration), mockOutput(declaration));
  });
});

describe('mockError', () => {
  it('answers a declared error type in the shape of a thrown error, and nothing for another', () => {
    const declaration = declared({ errors: ['ThrottledError'] });
    assert.deepEqual(Object.keys(mockError(declaration, 'ThrottledError')!), ['errorType', 'errorMessage']);
    assert.equal(mockError(declaration, 'ThrottledError')!.errorType, 'ThrottledError');
    assert.equal(mockError(declaration, 'ValidationError'), undefined);
  });
});

describe('manifest "mock"', () => {
  it('keeps the declaration, copied and frozen', () => {
    const example = { id: 1 };
    const { mock } = build({ example, errors: ['A', 'Sandbox.Timedout', 'A'] });
    assert.deepEqual(mock, { example: { id: 1 }, errors: ['A', 'Sandbox.Timedout'] });
    example.id = 2;
    assert.equal(mockOutput(mock as MockDeclaration), '{"id":1}');
    assert.ok(Object.isFrozen(mock));
  });

  it('takes true as the empty mock and false as an opt-out; without the key there is no mock', () => {
    assert.equal(build(true).mock, EMPTY_MOCK);
    assert.equal(build(false).mock, false);
    assert.equal('mock' in buildDefinitions({ f: { handler: 'functions/never-run.handler' } }, ROOT, 'inline', 'm')[0]!, false);
  });

  const mistakes: Array<[string, unknown, RegExp]> = [
    ['an unknown key', { exmaple: 1 }, /function "f": field "mock": unknown field "exmaple"/],
    ['a value that is not an object', 'yes', /field "mock" must be an object/],
    ['errors that are not an array', { errors: 'ThrottledError' }, /field "mock": field "errors" must be an array/],
    ['an error type that is not a string', { errors: [42] }, /field "mock": field "errors" must be error type names/],
    ['an error type that is not a name', { errors: ['Throttled Error'] }, /field "errors" must be error type names/],
    ['a schema that is not an object', { schema: [] }, /field "mock": field "schema" must be an object/],
    ['both example and schema', { example: 1, schema: {} }, /either "example" or "schema"/],
    ['a seed without a schema', { example: 1, seed: 3 }, /"seed" applies to a "schema" only/],
    ['a seed out of range', { schema: {}, seed: 2 ** 32 }, /field "seed" must be an integer from 0 to 4294967295/],
    ['a seed of the wrong type', { schema: {}, seed: 'fixed' }, /field "seed" must be an integer/],
    ['a schema that cannot be generated', { schema: { type: 'strng' } }, /field "mock": no value can be generated from the schema: unknown primitive strng/],
    ['a remote $ref', { schema: { $ref: 'https://example.com/s.json' } }, /no value can be generated from the schema/],
  ];
  for (const [what, mock, message] of mistakes) {
    it(`refuses ${what}`, () => assert.throws(() => build(mock), message));
  }
});

describe('the mock setting', () => {
  it('mocks every function without a mock block, and keeps opt-outs and declarations', () => {
    const definitions = buildDefinitions({
      plain: { handler: 'functions/never-run.handler' },
      out: { handler: 'functions/real.handler', mock: false },
      own: { handler: 'functions/never-run.handler', mock: { example: 1 } },
    }, ROOT, 'inline', 'm');
    assert.equal(applyMockSetting(definitions, false), definitions);
    const [plain, out, own] = applyMockSetting(definitions, true);
    assert.equal(plain!.mock, EMPTY_MOCK);
    assert.ok(Object.isFrozen(plain));
    assert.equal(out, definitions[1]);
    assert.equal(own, definitions[2]);
  });

  it('is off by default and read as a boolean from every layer', () => {
    assert.equal(resolveSettings({}).mock, false);
    for (const [text, value] of [['true', true], ['1', true], ['TRUE', true], ['false', false], ['0', false]] as const) {
      assert.equal(resolveSettings({ manifest: { mock: !value }, env: { SERVERFULL_MOCK: text } }).mock, value, text);
    }
    assert.equal(resolveSettings({ env: { SERVERFULL_MOCK: '1' }, flags: { mock: false } }).mock, false);
    assert.equal(resolveSettings({ manifest: { mock: true } }).mock, true);
  });

  it('refuses anything else', () => {
    assert.throws(() => resolveSettings({ env: { SERVERFULL_MOCK: 'yes' } }), /SERVERFULL_MOCK must be true or false .*\(got "yes"\)/);
    assert.throws(() => resolveSettings({ manifest: { mock: 'true' } }), /serverfull.json: "mock" must be true or false/);
  });
});
