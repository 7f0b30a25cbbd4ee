/**
 * When an invocation that finds every environment busy starts a new one or waits (`measured` and `eager`
 * scaling), through the pool that asks, with in-memory environments and a host whose room the test sets.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { AwsError } from '../../src/errors.js';
import { ConcurrencyLimit } from '../../src/runtime/concurrency-limit.js';
import { EnvironmentPool, type EnvironmentWaiter } from '../../src/runtime/environment-pool.js';
import type { ExecutionEnvironment } from '../../src/runtime/execution-environment.js';
import type { HostLoad } from '../../src/runtime/host-load.js';
import { ScalingPolicy, type ScalingMode } from '../../src/runtime/scaling-policy.js';
import { FakeFactory, fakeDefinition, type FakeEnvironment } from '../helpers/fake-environments.js';

/** A host whose room the test decides. */
class FakeHost implements HostLoad {
  room = false;
  hasRoom(): boolean {
    return this.room;
  }
}

/** What a waiting invocation was given, once it was. */
interface Waited {
  readonly environment: ExecutionEnvironment | undefined;
  readonly error: unknown;
}

describe('scaling of a pool whose environments are all busy', () => {
  let factory: FakeFactory;
  let host: FakeHost;
  let account: ConcurrencyLimit;
  let reserved: ConcurrencyLimit;
  const poolWith = (mode: ScalingMode, maxStarting = 2) =>
    new EnvironmentPool(fakeDefinition('scaled'), factory.asFactory, account, reserved, new ScalingPolicy(mode, host, maxStarting));
  beforeEach(() => {
    factory = new FakeFactory();
    host = new FakeHost();
    account = new ConcurrencyLimit(100);
    reserved = new ConcurrencyLimit(Infinity);
  });

  /** Queues an invocation `acquire` gave no environment; resolves with what it is given. */
  function wait(pool: EnvironmentPool): Promise<Waited> {
    assert.equal(pool.acquire(), undefined, 'the invocation waits');
    return new Promise((resolve) => {
      const waiter: EnvironmentWaiter = (environment, error) => resolve({ environment, error });
      pool.enqueue(waiter);
    });
  }

  it('measured, on a host without room: a new invocation waits for the busy environment and gets it when it is free', async () => {
    const pool = poolWith('measured');
    const busy = pool.acquire() as FakeEnvironment;
    // A long cold start measured: the wait below ends by the release, not by the invocation having waited long enough.
    pool.initialized(busy, 60_000);
    const waiting = wait(pool);
    assert.equal(account.inFlight, 2, 'a waiting invocation holds its concurrency slot');
    pool.release(busy, true);
    assert.equal((await waiting).environment, busy);
    assert.equal(factory.made.length, 1, 'no second environment');
    assert.equal(account.inFlight, 1, 'the released invocation\'s slot went back, the waiting one kept its own');
  });

  it('measured, on a host with room: a new environment at once, as Lambda would', () => {
    const pool = poolWith('measured');
    host.room = true;
    const first = pool.acquire();
    const second = pool.acquire();
    assert.ok(first && second && first !== second);
    assert.equal(factory.made.length, 2);
  });

  it('eager: a new environment for every invocation that finds all busy, whatever the host', () => {
    const pool = poolWith('eager');
    const environments = [pool.acquire(), pool.acquire(), pool.acquire()];
    assert.equal(new Set(environments).size, 3);
    assert.ok(environments.every((environment) => environment !== undefined));
  });

  it('measured: an invocation that has waited as long as a cold start takes starts a new environment', async () => {
    const pool = poolWith('measured');
    const busy = pool.acquire()!;
    pool.initialized(busy, 5);
    const waited = await wait(pool);
    assert.ok(waited.environment !== undefined && waited.environment !== busy, 'a new environment, the busy one still busy');
    assert.equal(factory.made.length, 2);
  });

  it('measured: at most maxStarting environments start at once, even on a host with room', async () => {
    factory.cold = true;
    const pool = poolWith('measured', 2);
    host.room = true;
    const first = pool.acquire()!;
    const second = pool.acquire()!;
    const third = wait(pool);
    assert.equal(factory.made.length, 2, 'the third waits while two start');
    pool.initialized(first, 50);
    const waited = await third;
    assert.equal(factory.made.length, 3, 'a start ended: the third gets a new one');
    assert.ok(waited.environment !== first && waited.environment !== second);
  });

  it('queued invocations keep their order, and a new arrival waits behind them', async () => {
    const pool = poolWith('measured');
    const busy = pool.acquire()!;
    pool.initialized(busy, 60_000);
    const order: number[] = [];
    const first = wait(pool).then((waited) => (order.push(1), waited));
    const second = wait(pool).then((waited) => (order.push(2), waited));
    host.room = true;
    // Room now, but invocations already wait: the new one queues behind them.
    assert.equal(pool.acquire(), undefined);
    pool.release(busy, true);
    assert.equal((await first).environment, busy);
    await second;
    assert.deepEqual(order, [1, 2]);
  });

  it('waiting invocations count against the reserved concurrency: one more is throttled', async () => {
    reserved.limit = 2;
    const pool = poolWith('measured');
    const busy = pool.acquire()!;
    pool.initialized(busy, 60_000);
    const waiting = wait(pool);
    assert.throws(() => pool.acquire(), (error: unknown) => error instanceof AwsError && error.extra.Reason === 'ReservedFunctionConcurrentInvocationLimitExceeded');
    pool.release(busy, true);
    await waiting;
  });

  it('a retired pool starts an environment for each waiting invocation; a closing one fails them and frees their slots', async () => {
    const retired = poolWith('measured');
    const busy = retired.acquire()!;
    retired.initialized(busy, 60_000);
    const waiting = wait(retired);
    await retired.retire('retired');
    const waited = await waiting;
    assert.ok(waited.environment !== undefined && waited.environment !== busy);

    const closing = poolWith('measured');
    const held = closing.acquire()!;
    closing.initialized(held, 60_000);
    const failing = wait(closing);
    const before = account.inFlight;
    await closing.retire('close');
    const failed = await failing;
    assert.equal(failed.environment, undefined);
    assert.match(String(failed.error), /closing/);
    assert.equal(account.inFlight, before - 1, 'the failed invocation\'s slot is free');
  });

  it('an environment that cannot be reused leaves its place to a new one for a waiting invocation', async () => {
    const pool = poolWith('measured');
    const crashed = pool.acquire()!;
    pool.initialized(crashed, 60_000);
    const waiting = wait(pool);
    pool.release(crashed, false, 'runtime');
    const waited = await waiting;
    assert.ok(waited.environment !== undefined && waited.environment !== crashed, 'the only environment is gone: a new one starts');
  });
});
