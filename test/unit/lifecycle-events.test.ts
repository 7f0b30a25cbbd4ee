/** Lifecycle events of the invoker and its pools, seen by a `diagnostics_channel` subscriber, with inline handlers and stand-in environments. */
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AwsError } from '../../src/errors.js';
import { lifecycleChannelNames, subscribeLifecycle, type LifecycleMessages } from '../../src/index.js';
import { createLogger } from '../../src/log.js';
import type { FunctionDefinition, LambdaHandler } from '../../src/registry/function-definition.js';
import { ConcurrencyLimit } from '../../src/runtime/concurrency-limit.js';
import type { EnvironmentFactory } from '../../src/runtime/environment-factory.js';
import { EnvironmentPool } from '../../src/runtime/environment-pool.js';
import type { ExecutionEnvironment } from '../../src/runtime/execution-environment.js';
import { Invoker, type InvokeInput, type InvokeOutput } from '../../src/runtime/invoker.js';
import { ScalingPolicy } from '../../src/runtime/scaling-policy.js';
import { FakeFactory } from '../helpers/fake-environments.js';
import { waitUntil } from '../helpers/wait-until.js';

type Name = keyof LifecycleMessages;
type Seen = { [N in Name]: { channel: N; message: LifecycleMessages[N] } }[Name];

/** Everything published on the lifecycle channels while a test runs, in order. */
let seen: Seen[] = [];
let unsubscribes: Array<() => void> = [];

function record(): void {
  seen = [];
  unsubscribes = (Object.values(lifecycleChannelNames) as Name[]).map((name) =>
    subscribeLifecycle(name, (message) => void seen.push({ channel: name, message } as Seen)));
}

function messages<N extends Name>(channel: N): Array<LifecycleMessages[N]> {
  return seen.filter((s) => s.channel === channel).map((s) => s.message as LifecycleMessages[N]);
}

function definition(name: string, handler: LambdaHandler, extra: Partial<FunctionDefinition> = {}): FunctionDefinition {
  return {
    name, version: '$LATEST', runtime: 'nodejs22.x', handler, root: process.cwd(), timeout: 30, memorySize: 128,
    environment: {}, isolation: 'inline', description: '', ...extra,
  };
}

let requests = 0;
function input(def: FunctionDefinition): InvokeInput {
  return { definition: def, requestId: `req-${++requests}`, payload: '{}', event: {}, invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${def.name}`, tail: false };
}

function invoke(invoker: Invoker, request: InvokeInput): Promise<InvokeOutput> {
  return invoker.invokeAsync(request);
}

describe('lifecycle events: invoker', () => {
  let invoker: Invoker;
  beforeEach(() => {
    record();
    invoker = new Invoker({ region: 'us-east-1', concurrency: 10, idleTimeout: 300, logger: createLogger({ level: 'silent' }) });
  });
  afterEach(async () => {
    await invoker.close();
    for (const unsubscribe of unsubscribes) unsubscribe();
  });

  it('publishes start, environment create, cold start and end; a warm invocation has no cold start', async () => {
    const echo = definition('echo', async () => ({ ok: true }));
    const first = input(echo);
    await invoke(invoker, first);
    assert.deepEqual(seen.map((s) => s.channel), [
      'serverfull:invocation:start', 'serverfull:environment:create', 'serverfull:coldstart', 'serverfull:invocation:end',
    ]);
    const start = messages('serverfull:invocation:start')[0]!;
    assert.deepEqual(start, { serverId: invoker.serverId, functionName: 'echo', version: '$LATEST', requestId: first.requestId, traceId: start.traceId });
    assert.match(start.traceId, /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    const created = messages('serverfull:environment:create')[0]!;
    assert.equal(created.kind, 'inline');
    assert.equal(created.functionName, 'echo');
    const cold = messages('serverfull:coldstart')[0]!;
    assert.equal(cold.requestId, first.requestId);
    assert.equal(cold.initSucceeded, true);
    assert.ok(cold.initDurationMs >= 0);
    const end = messages('serverfull:invocation:end')[0]!;
    assert.equal(end.outcome, 'success');
    assert.equal(end.requestId, first.requestId);
    assert.equal(end.traceId, start.traceId, 'the end names the trace of its start');
    assert.equal(end.initDurationMs, cold.initDurationMs);
    assert.ok(end.durationMs >= 0);

    seen = [];
    const second = input(echo);
    await invoke(invoker, second);
    assert.deepEqual(seen.map((s) => s.channel), ['serverfull:invocation:start', 'serverfull:invocation:end']);
    const warm = messages('serverfull:invocation:end')[0]!;
    assert.equal(warm.outcome, 'success');
    assert.equal(warm.initDurationMs, undefined);
  });

  it('names the error type of a function error', async () => {
    const failing = definition('failing', async () => {
      throw new RangeError('out of range');
    });
    await invoke(invoker, input(failing));
    const end = messages('serverfull:invocation:end')[0]!;
    assert.equal(end.outcome, 'functionError');
    assert.equal(end.outcome === 'functionError' && end.errorType, 'RangeError');
  });

  it('ends a timed-out invocation with timeout and stops its environment for that reason', async () => {
    const hangs = definition('hangs', () => new Promise(() => {}), { timeout: 0.05 });
    await invoke(invoker, input(hangs));
    assert.equal(messages('serverfull:invocation:end')[0]!.outcome, 'timeout');
    const [created] = messages('serverfull:environment:create');
    assert.deepEqual(messages('serverfull:environment:stop'), [
      { serverId: invoker.serverId, functionName: 'hangs', version: '$LATEST', environmentId: created!.environmentId, kind: 'inline', reason: 'timeout' },
    ]);
  });

  it('ends a throttled invocation with its reason, reserved or server-wide', async () => {
    const blocked = definition('blocked', async () => 'never');
    invoker.setReservedConcurrency('blocked', 0);
    const refused = input(blocked);
    await assert.rejects(invoke(invoker, refused), (error: unknown) => error instanceof AwsError && error.type === 'TooManyRequestsException');
    const [start] = messages('serverfull:invocation:start');
    assert.deepEqual(messages('serverfull:invocation:end'), [
      { serverId: invoker.serverId, functionName: 'blocked', version: '$LATEST', requestId: refused.requestId, traceId: start!.traceId, durationMs: 0, outcome: 'throttle', reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' },
    ]);
    assert.equal(messages('serverfull:environment:create').length, 0, 'no environment for a throttled invocation');

    const small = new Invoker({ region: 'us-east-1', concurrency: 1, idleTimeout: 300, logger: createLogger({ level: 'silent' }) });
    try {
      let answer: (() => void) | undefined;
      const waits = definition('waits', () => new Promise<void>((resolve) => (answer = resolve)));
      const running = invoke(small, input(waits));
      await assert.rejects(invoke(small, input(waits)));
      const throttle = messages('serverfull:invocation:end').at(-1)!;
      assert.equal(throttle.outcome === 'throttle' && throttle.reason, 'ConcurrentInvocationLimitExceeded');
      await waitUntil(() => answer !== undefined, 'the first invocation runs');
      answer!();
      await running;
    } finally {
      await small.close();
    }
  });

  it('ends an invocation that waited for an environment and got none (the server closing) as a Runtime.Unknown error', async () => {
    const factory = new FakeFactory();
    const noRoom = new ScalingPolicy('measured', { hasRoom: () => false });
    const closing = new Invoker({ region: 'us-east-1', concurrency: 10, idleTimeout: 300, logger: createLogger({ level: 'silent' }), environments: factory.asFactory, scaling: noRoom });
    const waits = definition('waits', async () => 'unused', { isolation: 'worker', handler: 'index.handler' });
    const first = invoke(closing, input(waits));
    const pending = await factory.made[0]!.invoked();
    // The only environment is busy and the host has no room for another: the second invocation waits for it.
    const second = input(waits);
    const waiting = invoke(closing, second);
    assert.equal(factory.made.length, 1);
    const closed = closing.close();
    const out = await waiting;
    assert.equal(out.functionError, 'Runtime.Unknown');
    const start = messages('serverfull:invocation:start').find((m) => m.requestId === second.requestId)!;
    assert.deepEqual(messages('serverfull:invocation:end').filter((m) => m.requestId === second.requestId), [
      { serverId: closing.serverId, functionName: 'waits', version: '$LATEST', requestId: second.requestId, traceId: start.traceId, durationMs: 0, outcome: 'functionError', errorType: 'Runtime.Unknown' },
    ]);
    pending.answer();
    await first;
    await closed;
    assert.equal(closing.inFlight, 0, 'its slots are given back');
  });

  it('stops environments of a retired version as retired, and the rest on close', async () => {
    const old = definition('versioned', async () => 1);
    const other = definition('other', async () => 2);
    await invoke(invoker, input(old));
    await invoke(invoker, input(other));
    invoker.retire('versioned', '$LATEST');
    await invoker.close();
    const stops = messages('serverfull:environment:stop');
    assert.deepEqual(stops.map((m) => [m.functionName, m.reason]), [['versioned', 'retired'], ['other', 'close']]);
    const created = messages('serverfull:environment:create');
    assert.deepEqual(stops.map((m) => m.environmentId).sort(), created.map((m) => m.environmentId).sort(), 'every environment created is stopped once');
  });

  it('runs subscribers as server code, outside the inline function that just ended', async () => {
    process.env.LIFECYCLE_MARKER = 'the server sees this';
    const envSeen: Array<string | undefined> = [];
    const stop = subscribeLifecycle('serverfull:invocation:end', () => void envSeen.push(process.env.LIFECYCLE_MARKER));
    try {
      const inside = definition('scoped', async () => process.env.LIFECYCLE_MARKER ?? 'hidden from the function');
      const out = await invoke(invoker, input(inside));
      assert.equal(out.payload, '"hidden from the function"');
      assert.deepEqual(envSeen, ['the server sees this']);
    } finally {
      stop();
      delete process.env.LIFECYCLE_MARKER;
    }
  });

  it("names a mocked function's environments mock, whatever its isolation", async () => {
    const mocked = definition('mocked', 'index.handler' as unknown as LambdaHandler, { isolation: 'worker', mock: { example: { ok: 1 }, errors: [] } });
    const out = await invoke(invoker, input(mocked));
    assert.equal(out.payload, '{"ok":1}');
    assert.equal(messages('serverfull:environment:create')[0]!.kind, 'mock');
    assert.equal(messages('serverfull:invocation:end')[0]!.outcome, 'success');
  });

  it('publishes nothing to no one: a server with no subscriber runs the same', async () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
    unsubscribes = [];
    for (const name of Object.values(lifecycleChannelNames)) assert.equal(diagnosticsChannel.channel(name).hasSubscribers, false);
    const out = await invoke(invoker, input(definition('quiet', async () => 'hi')));
    assert.equal(out.payload, '"hi"');
    assert.equal(seen.length, 0);
  });
});

/** A stand-in environment whose liveness the test sets. */
class StandIn implements ExecutionEnvironment {
  alive = true;
  disposed = false;
  invoke(): void {}
  async dispose(): Promise<void> {
    this.alive = false;
    this.disposed = true;
  }
}

describe('lifecycle events: environment pool', () => {
  let pool: EnvironmentPool;
  let made: StandIn[];
  beforeEach(() => {
    record();
    made = [];
    const factory = { create: () => made[made.push(new StandIn()) - 1]! } as unknown as EnvironmentFactory;
    pool = new EnvironmentPool(definition('pooled', async () => 1, { isolation: 'worker', handler: 'index.handler' }), factory, new ConcurrencyLimit(10), new ConcurrencyLimit(Infinity));
  });
  afterEach(() => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  });

  const reasons = () => messages('serverfull:environment:stop').map((m) => m.reason);

  it('reaps idle environments as idle', () => {
    const environment = pool.acquire()!;
    pool.release(environment, true);
    pool.reap(1000, Date.now() + 1000);
    assert.deepEqual(reasons(), ['idle']);
    assert.equal(messages('serverfull:environment:create')[0]!.kind, 'worker');
  });

  it('tells a crash, a failed init and a dead idle environment apart', () => {
    const crashed = pool.acquire()!;
    pool.release(crashed, false, 'runtime');
    const failedInit = pool.acquire()!;
    pool.release(failedInit, false, 'init');
    const diedIdle = pool.acquire() as StandIn;
    pool.release(diedIdle, true);
    diedIdle.alive = false;
    pool.acquire();
    assert.deepEqual(reasons(), ['crash', 'initFailed', 'crash']);
    assert.equal(made.length, 4);
  });

  it('stops a busy environment of a retired pool when it comes back', async () => {
    const busy = pool.acquire()!;
    await pool.retire('close');
    assert.deepEqual(reasons(), []);
    pool.release(busy, true);
    assert.deepEqual(reasons(), ['close']);
    assert.ok((busy as StandIn).disposed);
  });
});
