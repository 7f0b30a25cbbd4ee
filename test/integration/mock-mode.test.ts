/**
 * Mock mode through @aws-sdk/client-lambda: declared examples, values generated from a
 * schema (the same on every start), the empty value, `--mock` for every function with
 * `"mock": false` opting out, and declared errors triggered with `X-Amz-Invocation-Type: Error`.
 * The fixture handlers throw: a mocked function that ran its code would fail these tests.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, ResourceNotFoundException, TooManyRequestsException, type InvocationType } from '@aws-sdk/client-lambda';
import { listeningUrl, runCli } from '../helpers/cli-process.js';
import { FIXTURES, decodeLog, lambdaClient, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';

const MOCK_MANIFEST = join(FIXTURES, 'mock/serverfull.json');
const SCHEMA = JSON.parse(readFileSync(MOCK_MANIFEST, 'utf8')).functions.customer.mock.schema;

/** An InvokeCommand sending `X-Amz-Invocation-Type: Error` and `X-Error-Type`, which the SDK has no parameter for. */
function errorInvocation(functionName: string, errorType: string): InvokeCommand {
  const command = new InvokeCommand({ FunctionName: functionName, InvocationType: 'Error' as InvocationType, LogType: 'Tail' });
  command.middlewareStack.add((next) => (args) => {
    (args.request as { headers: Record<string, string> }).headers['x-error-type'] = errorType;
    return next(args);
  }, { step: 'build', name: 'mockErrorType' });
  return command;
}

/** A POST to the Invoke API with raw headers, for the answers the SDK turns into exceptions. */
async function post(fx: FixtureServer, functionName: string, headers: Record<string, string>): Promise<{ status: number; errorType: string | null; body: any }> {
  const response = await fetch(`${fx.server.url}/2015-03-31/functions/${functionName}/invocations`, { method: 'POST', headers, body: '{}' });
  return { status: response.status, errorType: response.headers.get('x-amzn-errortype'), body: await response.json() };
}

/** Checks `value` against the keywords the fixture schema uses; returns the mismatches. */
function schemaErrors(schema: any, value: unknown, path = '$'): string[] {
  const errors: string[] = [];
  const fail = (what: string) => errors.push(`${path}: ${what} (got ${JSON.stringify(value)})`);
  if (schema.enum && !schema.enum.includes(value)) fail(`not one of ${schema.enum}`);
  const type = schema.type as string | undefined;
  if (type === 'object') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [...errors, `${path}: not an object`];
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in record)) fail(`missing ${key}`);
    for (const [key, item] of Object.entries(record)) {
      if (schema.properties?.[key]) errors.push(...schemaErrors(schema.properties[key], item, `${path}.${key}`));
      else if (schema.additionalProperties === false) fail(`unexpected ${key}`);
    }
  } else if (type === 'array') {
    if (!Array.isArray(value)) return [...errors, `${path}: not an array`];
    if (value.length < (schema.minItems ?? 0) || value.length > (schema.maxItems ?? Infinity)) fail('wrong length');
    value.forEach((item, i) => errors.push(...schemaErrors(schema.items, item, `${path}[${i}]`)));
  } else if (type === 'integer') {
    if (!Number.isInteger(value) || (value as number) < schema.minimum || (value as number) > schema.maximum) fail('not an integer in range');
  } else if (type === 'string') {
    if (typeof value !== 'string') return [...errors, `${path}: not a string`];
    if (value.length < (schema.minLength ?? 0) || value.length > (schema.maxLength ?? Infinity)) fail('wrong length');
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) fail(`does not match ${schema.pattern}`);
    const formats: Record<string, RegExp> = {
      uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      email: /^[^@\s]+@[^@\s]+\.[a-z]+$/,
      'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/,
    };
    if (schema.format && !formats[schema.format]!.test(value)) fail(`not a ${schema.format}`);
  }
  return errors;
}

describe('mock mode: per-function mocks', () => {
  let fx: FixtureServer;
  before(async () => {
    fx = await startFixtureServer({ config: MOCK_MANIFEST });
  });
  after(() => fx.close());

  it('answers the declared example, with a request id and the executed version', async () => {
    const out = await fx.invoke('order', { any: 'event' });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, undefined);
    assert.equal(out.ExecutedVersion, '$LATEST');
    assert.match(out.$metadata.requestId!, /^[0-9a-f-]{36}$/);
    assert.deepEqual(out.json, { orderId: 7, status: 'shipped', items: [{ sku: 'TEA-0001', qty: 2 }] });
  });

  it('generates a value that satisfies the schema', async () => {
    const out = await fx.invoke('customer');
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(schemaErrors(SCHEMA, out.json), []);
  });

  it('generates the same value on every invocation, and across server starts; another seed differs', async () => {
    const first = (await fx.invoke('customer')).text;
    assert.equal((await fx.invoke('customer')).text, first);
    const defaultSeed = (await fx.invoke('customer-default-seed')).text;
    const other = await startFixtureServer({ config: MOCK_MANIFEST });
    try {
      assert.equal((await other.invoke('customer')).text, first);
      assert.equal((await other.invoke('customer-default-seed')).text, defaultSeed, 'no seed is a fixed seed');
      const seven = await other.invoke('customer-seed-7');
      assert.notEqual(seven.text, first);
      assert.deepEqual(schemaErrors(SCHEMA, seven.json), []);
    } finally {
      await other.close();
    }
  });

  it('generates a new value on each invocation with "seed": "random"', async () => {
    const [a, b] = await Promise.all([fx.invoke('customer-random'), fx.invoke('customer-random')]);
    assert.notEqual(a.text, b.text);
    assert.deepEqual(schemaErrors(SCHEMA, b.json), []);
  });

  it('answers null when the mock declares no output', async () => {
    const out = await fx.invoke('empty');
    assert.equal(out.FunctionError, undefined);
    assert.equal(out.text, 'null');
  });

  it('runs the code of a function without a mock block', async () => {
    const out = await fx.invoke('unmocked');
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(out.json.errorMessage, 'the code of a mocked function ran');
  });

  it('returns the Tail log: START, END and REPORT', async () => {
    const out = await fx.invoke('order', {}, { LogType: 'Tail' });
    const id = out.$metadata.requestId!;
    assert.match(decodeLog(out.LogResult), new RegExp(
      `^START RequestId: ${id} Version: \\$LATEST\\nEND RequestId: ${id}\\nREPORT RequestId: ${id}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB\\t\\n$`,
    ));
  });

  it('keeps concurrency limits', async () => {
    await assert.rejects(fx.invoke('blocked'), (error: unknown) => error instanceof TooManyRequestsException);
  });

  it('runs Event and DryRun invocations as usual', async () => {
    assert.equal((await fx.invoke('order', {}, { InvocationType: 'Event' })).StatusCode, 202);
    assert.equal((await fx.invoke('order', {}, { InvocationType: 'DryRun' })).StatusCode, 204);
  });

  it('answers a declared error as a function error, through the SDK', async () => {
    const out = await fx.lambda.send(errorInvocation('order', 'ThrottledError'));
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(out.ExecutedVersion, '$LATEST');
    const body = JSON.parse(Buffer.from(out.Payload!).toString());
    assert.deepEqual(Object.keys(body), ['errorType', 'errorMessage']);
    assert.equal(body.errorType, 'ThrottledError');
    assert.match(decodeLog(out.LogResult), new RegExp(`^START RequestId: ${out.$metadata.requestId} .*\\nEND .*\\nREPORT `, 's'));
    const other = await fx.lambda.send(errorInvocation('order', 'ValidationError'));
    assert.equal(JSON.parse(Buffer.from(other.Payload!).toString()).errorType, 'ValidationError');
  });

  it('answers 404 ResourceNotFoundException for an error type the mock does not declare', async () => {
    await assert.rejects(fx.lambda.send(errorInvocation('order', 'TeapotError')), (error: unknown) =>
      error instanceof ResourceNotFoundException && /TeapotError/.test(error.message));
    const plain = await post(fx, 'empty', { 'X-Amz-Invocation-Type': 'Error', 'X-Error-Type': 'ValidationError' });
    assert.equal(plain.status, 404);
    assert.equal(plain.errorType, 'ResourceNotFoundException');
    assert.match(plain.body.Message, /ValidationError .*\(declared: ThrottledError\)/);
    const missing = await post(fx, 'order', { 'X-Amz-Invocation-Type': 'Error' });
    assert.equal(missing.status, 404);
    assert.match(missing.body.Message, /no X-Error-Type header/);
  });

  it('refuses the Error invocation type for a function that is not mocked, as AWS refuses unknown types', async () => {
    for (const name of ['unmocked', 'opted-out']) {
      const out = await post(fx, name, { 'X-Amz-Invocation-Type': 'Error', 'X-Error-Type': 'ThrottledError' });
      assert.equal(out.status, 400);
      assert.equal(out.errorType, 'ValidationException');
      assert.match(out.body.message, /Value 'Error' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: \[RequestResponse, Event, DryRun\]/);
    }
  });
});

describe('mock mode: the mock setting', () => {
  let fx: FixtureServer;
  before(async () => {
    fx = await startFixtureServer({ config: MOCK_MANIFEST, mock: true });
  });
  after(() => fx.close());

  it('mocks every function without a mock block with the empty value', async () => {
    const out = await fx.invoke('unmocked');
    assert.equal(out.FunctionError, undefined);
    assert.equal(out.text, 'null');
    assert.ok(fx.server.functions.find((d) => d.name === 'unmocked')!.mock);
  });

  it('runs the code of a function with "mock": false', async () => {
    const out = await fx.invoke('opted-out', { n: 1 });
    assert.deepEqual(out.json, { ran: true, event: { n: 1 } });
  });

  it('keeps the declared mocks and their errors', async () => {
    assert.equal((await fx.invoke('order')).json.orderId, 7);
    assert.equal((await fx.invoke('empty')).text, 'null');
    const error = await fx.lambda.send(errorInvocation('order', 'ThrottledError'));
    assert.equal(error.FunctionError, 'Unhandled');
    // A function mocked by the setting declares no error.
    assert.equal((await post(fx, 'unmocked', { 'X-Amz-Invocation-Type': 'Error', 'X-Error-Type': 'ThrottledError' })).status, 404);
  });

  it('is read from SERVERFULL_MOCK', async () => {
    const fromEnv = await startFixtureServer({ config: MOCK_MANIFEST, env: { SERVERFULL_MOCK: '1' } });
    try {
      assert.equal((await fromEnv.invoke('unmocked')).text, 'null');
    } finally {
      await fromEnv.close();
    }
  });
});

describe('serverfull start --mock', () => {
  it('is a flag without a value', async () => {
    const cli = runCli(['start', '--config', MOCK_MANIFEST, '--mock', '--port', '0']);
    try {
      const url = await listeningUrl(cli);
      const lambda = lambdaClient(url);
      const out = await lambda.send(new InvokeCommand({ FunctionName: 'unmocked' }));
      lambda.destroy();
      assert.equal(out.FunctionError, undefined);
      assert.equal(Buffer.from(out.Payload!).toString(), 'null');
    } finally {
      cli.child.kill('SIGTERM');
      assert.equal(await cli.exited, 0);
    }
  });
});
