/**
 * The invoker with in-memory environments: which pool and environment an invocation goes to,
 * what the environment is asked, timeouts, limits, the response cap, logs, retiring and closing.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AwsError } from '../../src/errors.js';
import { MAX_RESPONSE_BYTES } from '../../src/handler/function-errors.js';
import { createLogger } from '../../src/log.js';
import type { FunctionDefinition } from '../../src/registry/function-definition.js';
import { Invoker, type InvokeInput } from '../../src/runtime/invoker.js';
import { FakeFactory, fakeDefinition } from '../helpers/fake-environments.js';
import { waitUntil } from '../helpers/wait-until.js';

let requests = 0;
function input(definition: FunctionDefinition, extra: Partial<InvokeInput> = {}): InvokeInput {
  return {
    definition, requestId: `req-${++requests}`, payload: '{"n":1}', event: { n: 1 },
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${definition.name}`, tail: false, ...extra,
  };
}

const decode = (logResult: string | undefined) => Buffer.from(logResult ?? '', 'base64').toString('utf8');
const isThrottle = (reason: string) => (error: unknown) =>
  error instanceof AwsError && error.type === 'TooManyRequestsException' && error.extra.Reason === reason;

describe('Invoker', () => {
  let factory: FakeFactory;
  let invoker: Invoker;
  let logged: Array<{ level: string; msg: string; function?: string; requestId?: string; functionError?: string }>;
  const start = (concurrency = 10, idleTimeout = 300) => {
    invoker = new Invoker({
      region: 'us-east-1', concurrency, idleTimeout, environments: factory.asFactory,
      logger: createLogger({ level: 'debug', format: 'json', write: (line) => void logged.push(JSON.parse(line)) }),
    });
  };
  beforeEach(() => {
    factory = new FakeFactory();
    logged = [];
    start();
  });
  afterEach(() => invoker.close());

  it('hands the environment the request, and answers with its payload and the executed version', async () => {
    const fn = fakeDefinition('fn', { version: '3', timeout: 7 });
    const request = input(fn, { clientContext: '{"custom":{"a":1}}', tail: true });
    const before = Date.now();
    const output = invoker.invokeAsync(request);
    const [environment] = factory.made;
    const pending = await environment!.invoked();
    assert.equal(pending.request.requestId, request.requestId);
    assert.equal(pending.request.payload, '{"n":1}');
    assert.equal(pending.request.event, request.event, 'the parsed event is passed on, not parsed again');
    assert.equal(pending.request.invokedFunctionArn, request.invokedFunctionArn);
    assert.equal(pending.request.clientContext, '{"custom":{"a":1}}');
    assert.equal(pending.request.report, true, 'a Tail log asks for memory measurement');
    assert.ok(pending.request.deadlineMs >= before + 7000 && pending.request.deadlineMs <= Date.now() + 7000, 'deadline = now + timeout');
    pending.answer({ payload: '{"answer":42}' });
    const out = await output;
    assert.equal(out.payload, '{"answer":42}');
    assert.equal(out.functionError, undefined);
    assert.equal(out.executedVersion, '3');
    assert.match(decode(out.logResult), new RegExp(`^START RequestId: ${request.requestId} Version: 3\n`));
  });

  it('makes the JSON text from the event when the caller brought only the event (the gateway)', async () => {
    const output = invoker.invokeAsync(input(fakeDefinition('fn'), { payload: undefined, event: { route: '/a', n: [1, 2] } }));
    const pending = await factory.made[0]!.invoked();
    assert.equal(pending.request.payload, '{"route":"/a","n":[1,2]}');
    pending.answer({ payload: '{}' });
    await output;
  });

  it('returns no log unless a Tail log is asked for', async () => {
    const fn = fakeDefinition('fn');
    const output = invoker.invokeAsync(input(fn));
    (await factory.made[0]!.invoked()).answer();
    assert.equal((await output).logResult, undefined);
  });

  it('reuses a warm environment, gives concurrent invocations their own, and keeps versions apart', async () => {
    const latest = fakeDefinition('fn');
    const v1 = fakeDefinition('fn', { version: '1' });
    const a = invoker.invokeAsync(input(latest));
    const b = invoker.invokeAsync(input(latest));
    const c = invoker.invokeAsync(input(v1));
    assert.equal(factory.of('fn').length, 2, 'two concurrent invocations, two environments');
    assert.equal(factory.of('fn', '1').length, 1, 'a version has its own environments');
    assert.equal(invoker.inFlight, 3);
    for (const environment of factory.made) (await environment.invoked()).answer();
    await Promise.all([a, b, c]);
    assert.equal(invoker.inFlight, 0);

    const again = invoker.invokeAsync(input(latest));
    assert.equal(factory.made.length, 3, 'the next invocation is warm');
    const warm = factory.of('fn').find((e) => e.pending);
    assert.ok(warm, 'one of the earlier environments serves it');
    warm.pending!.answer({ payload: '"warm"' });
    assert.equal((await again).payload, '"warm"');
  });

  it('passes a function error through, and logs it when the runtime logged no error line', async () => {
    const fn = fakeDefinition('failing');
    const request = input(fn);
    const output = invoker.invokeAsync(request);
    (await factory.made[0]!.invoked()).answer({ payload: '{"errorType":"Oops","errorMessage":"bad"}', functionError: 'Oops' });
    const out = await output;
    assert.equal(out.functionError, 'Oops');
    assert.equal(out.payload, '{"errorType":"Oops","errorMessage":"bad"}');
    const line = logged.find((l) => l.msg.startsWith('function error:'));
    assert.ok(line, 'the server log tells of the error');
    assert.equal(line.requestId, request.requestId);
    assert.equal(line.functionError, 'Oops');
    assert.equal(factory.made[0]!.disposed, false, 'a function error keeps the environment');
  });

  it('writes function output to the server log at its level, and only that when the runtime logged the error', async () => {
    const fn = fakeDefinition('logs');
    const request = input(fn, { tail: true });
    const output = invoker.invokeAsync(request);
    const pending = await factory.made[0]!.invoked();
    pending.log('WARN', 'careful\n', 'raw warn line\n');
    pending.log(undefined, 'plain write');
    pending.log('ERROR', 'it failed');
    pending.answer({ payload: '{"errorType":"E","errorMessage":"m"}', functionError: 'E' });
    const out = await output;
    const mine = logged.filter((l) => l.requestId === request.requestId);
    assert.deepEqual(mine.map((l) => [l.level, l.msg, l.function]), [
      ['warn', 'careful', 'logs'], ['info', 'plain write', 'logs'], ['error', 'it failed', 'logs'],
    ]);
    const tail = decode(out.logResult);
    assert.match(tail, /raw warn line\n/, 'the Tail log keeps the raw line');
  });

  it('times out an invocation that does not end: Sandbox.Timedout, the platform line, and the environment disposed', async () => {
    const fn = fakeDefinition('slow', { timeout: 0.05 });
    const request = input(fn, { tail: true });
    const output = invoker.invokeAsync(request);
    const environment = factory.made[0]!;
    const pending = await environment.invoked();
    const out = await output;
    assert.equal(out.functionError, 'Sandbox.Timedout');
    assert.deepEqual(JSON.parse(out.payload), { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${request.requestId} Error: Task timed out after 0.05 seconds` });
    assert.match(decode(out.logResult), new RegExp(`${request.requestId} Task timed out after 0\\.05 seconds\n`));
    assert.match(decode(out.logResult), /Status: timeout/);
    assert.equal(environment.disposed, true, 'a timed-out environment is destroyed');
    assert.equal(invoker.inFlight, 0);
    // The environment answering late changes nothing: `done` counts once.
    pending.answer({ payload: '"late"' });
    assert.equal(invoker.inFlight, 0);
    const next = invoker.invokeAsync(input(fn));
    assert.equal(factory.made.length, 2, 'the next invocation gets a fresh environment');
    (await factory.made[1]!.invoked()).answer();
    await next;
  });

  it('reports a runtime that died with its platform line, and disposes the environment', async () => {
    const fn = fakeDefinition('crashes');
    const request = input(fn, { tail: true });
    const output = invoker.invokeAsync(request);
    const environment = factory.made[0]!;
    (await environment.invoked()).answer({
      payload: '{"errorType":"Runtime.ExitError","errorMessage":"exit status 3"}', functionError: 'Runtime.ExitError', reusable: false, failure: 'runtime',
    });
    const out = await output;
    assert.equal(out.functionError, 'Runtime.ExitError');
    assert.match(decode(out.logResult), /exit status 3\nRuntime\.ExitError\n/);
    assert.match(decode(out.logResult), /Status: error\tError Type: Runtime\.ExitError/);
    assert.equal(environment.disposed, true);
  });

  it('turns an environment failing in itself into this invocation’s error only', async () => {
    const fn = fakeDefinition('broken');
    factory.create = ((create) => (definition: FunctionDefinition) => {
      const environment = create(definition);
      environment.failWith = new Error('environment bug');
      return environment;
    })(factory.create.bind(factory));
    const request = input(fn);
    const out = await invoker.invokeAsync(request);
    assert.equal(out.functionError, 'Runtime.Unknown');
    assert.ok(logged.some((l) => l.level === 'error' && l.msg.includes('execution environment failed: Error: environment bug') && l.requestId === request.requestId));
    assert.equal(factory.made[0]!.disposed, true);
    assert.equal(invoker.inFlight, 0, 'its slots are given back');
  });

  it('caps the response at 6 MB with Function.ResponseSizeTooLarge', async () => {
    const fn = fakeDefinition('big');
    const output = invoker.invokeAsync(input(fn));
    (await factory.made[0]!.invoked()).answer({ payload: JSON.stringify('x'.repeat(MAX_RESPONSE_BYTES)) });
    const out = await output;
    assert.equal(out.functionError, 'Function.ResponseSizeTooLarge');
    assert.equal(JSON.parse(out.payload).errorType, 'Function.ResponseSizeTooLarge');

    const fits = invoker.invokeAsync(input(fn));
    const exactly = JSON.stringify('x'.repeat(MAX_RESPONSE_BYTES - 2));
    (await factory.made[0]!.invoked()).answer({ payload: exactly });
    assert.equal((await fits).payload, exactly, 'a payload of exactly the cap passes');
  });

  it('refuses at once above the account limit with 429, and admits again once an invocation ends', async () => {
    await invoker.close();
    start(1);
    const fn = fakeDefinition('fn');
    const running = invoker.invokeAsync(input(fn));
    assert.throws(() => invoker.invoke(input(fn), () => assert.fail('a throttled invocation never completes')), isThrottle('ConcurrentInvocationLimitExceeded'));
    await assert.rejects(invoker.invokeAsync(input(fakeDefinition('other'))), isThrottle('ConcurrentInvocationLimitExceeded'));
    assert.equal(factory.made.length, 1, 'no environment for a refused invocation');
    (await factory.made[0]!.invoked()).answer();
    await running;
    const admitted = invoker.invokeAsync(input(fn));
    (await factory.made[0]!.invoked()).answer({ payload: '"again"' });
    assert.equal((await admitted).payload, '"again"');
  });

  it('applies reserved concurrency to all versions of a function, and lifts it', async () => {
    invoker.setReservedConcurrency('fn', 1);
    const latest = fakeDefinition('fn');
    const running = invoker.invokeAsync(input(latest));
    await assert.rejects(invoker.invokeAsync(input(fakeDefinition('fn', { version: '2' }))), isThrottle('ReservedFunctionConcurrentInvocationLimitExceeded'));
    const other = invoker.invokeAsync(input(fakeDefinition('other')));
    invoker.setReservedConcurrency('fn', undefined);
    const lifted = invoker.invokeAsync(input(latest));
    for (const environment of factory.made) (await environment.invoked()).answer();
    await Promise.all([running, other, lifted]);
    invoker.setReservedConcurrency('fn', 0);
    await assert.rejects(invoker.invokeAsync(input(latest)), isThrottle('ReservedFunctionConcurrentInvocationLimitExceeded'));
  });

  it('serves a new definition of the same version from new environments; the old ones stop once idle', async () => {
    const v1 = fakeDefinition('fn');
    const inFlight = invoker.invokeAsync(input(v1));
    const idle = invoker.invokeAsync(input(v1));
    const [busyEnv, idleEnv] = factory.made;
    (await idleEnv!.invoked()).answer();
    await idle;
    const v2 = { ...v1, environment: { CHANGED: '1' } };
    const updated = invoker.invokeAsync(input(v2));
    assert.equal(factory.made.length, 3, 'new code or configuration, new environment');
    assert.equal(factory.made[2]!.definition, v2);
    assert.equal(idleEnv!.disposed, true, 'the old idle environment is stopped');
    assert.equal(busyEnv!.disposed, false, 'the old busy one finishes its invocation');
    (await busyEnv!.invoked()).answer({ payload: '"old"' });
    assert.equal((await inFlight).payload, '"old"');
    assert.equal(busyEnv!.disposed, true, 'and then stops');
    (await factory.made[2]!.invoked()).answer();
    await updated;
  });

  it('retires one version’s environments, leaving the others warm', async () => {
    const latest = fakeDefinition('fn');
    const v1 = fakeDefinition('fn', { version: '1' });
    for (const definition of [latest, v1]) {
      const output = invoker.invokeAsync(input(definition));
      (await factory.made.at(-1)!.invoked()).answer();
      await output;
    }
    invoker.retire('fn', '1');
    assert.deepEqual(factory.made.map((e) => e.disposed), [false, true]);
    const warm = invoker.invokeAsync(input(latest));
    assert.equal(factory.made.length, 2);
    (await factory.made[0]!.invoked()).answer();
    await warm;
  });

  it('reaps environments idle longer than the idle timeout', async () => {
    await invoker.close();
    start(10, 0.02);
    const fn = fakeDefinition('fn');
    const output = invoker.invokeAsync(input(fn));
    (await factory.made[0]!.invoked()).answer();
    await output;
    await waitUntil(() => factory.made[0]!.disposed, 'the idle environment is reaped');
  });

  it('on close stops every environment and the factory', async () => {
    const a = fakeDefinition('a');
    const b = fakeDefinition('b');
    for (const definition of [a, b]) {
      const output = invoker.invokeAsync(input(definition));
      (await factory.made.at(-1)!.invoked()).answer();
      await output;
    }
    await invoker.close();
    assert.deepEqual(factory.made.map((e) => e.disposed), [true, true]);
    assert.equal(factory.closed, true);
  });
});
