/** The environments of one function version: warm reuse, one invocation each, limits, idle reaping and disposal (in-memory environments). */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { AwsError } from '../../src/errors.js';
import { ConcurrencyLimit } from '../../src/runtime/concurrency-limit.js';
import { EnvironmentPool } from '../../src/runtime/environment-pool.js';
import type { ExecutionEnvironment } from '../../src/runtime/execution-environment.js';
import { ScalingPolicy } from '../../src/runtime/scaling-policy.js';
import { subscribeLifecycle } from '../../src/runtime/lifecycle-events.js';
import { FakeFactory, HoldingEnvironment, fakeDefinition, type FakeEnvironment } from '../helpers/fake-environments.js';

/** Whether `error` is the 429 of a throttle for `reason`. */
function throttledFor(reason: string) {
  return (error: unknown) => error instanceof AwsError && error.type === 'TooManyRequestsException' && error.status === 429
    && error.extra.Reason === reason;
}

describe('EnvironmentPool', () => {
  let factory: FakeFactory;
  let account: ConcurrencyLimit;
  let reserved: ConcurrencyLimit;
  let pool: EnvironmentPool;
  beforeEach(() => {
    factory = new FakeFactory();
    account = new ConcurrencyLimit(10);
    reserved = new ConcurrencyLimit(Infinity);
    pool = new EnvironmentPool(fakeDefinition('pooled'), factory.asFactory, account, reserved);
  });
  const acquire = () => pool.acquire() as FakeEnvironment;

  it('creates an environment when none is warm, and reuses it warm after release', () => {
    const first = acquire();
    assert.equal(factory.made.length, 1);
    assert.equal(first.definition.name, 'pooled', 'made for the pool’s definition');
    pool.release(first, true);
    assert.equal(acquire(), first, 'the warm environment serves again');
    assert.equal(factory.made.length, 1, 'no second environment');
  });

  it('gives each concurrent invocation its own environment; the most recently used is reused first', () => {
    const a = acquire();
    const b = acquire();
    const c = acquire();
    assert.equal(new Set([a, b, c]).size, 3, 'one invocation per environment');
    pool.release(a, true);
    pool.release(c, true);
    pool.release(b, true);
    assert.equal(acquire(), b);
    assert.equal(acquire(), c);
    assert.equal(acquire(), a);
    assert.equal(factory.made.length, 3);
  });

  it('counts every environment in use against the reserved and the account limits, and frees them on release', () => {
    const a = acquire();
    const b = acquire();
    assert.equal(account.inFlight, 2);
    assert.equal(reserved.inFlight, 2);
    pool.release(a, true);
    pool.release(b, false);
    assert.equal(account.inFlight, 0);
    assert.equal(reserved.inFlight, 0);
  });

  it('throttles above the reserved concurrency with 429, and gives no account slot away for it', () => {
    reserved.limit = 1;
    const running = acquire();
    assert.throws(() => pool.acquire(), throttledFor('ReservedFunctionConcurrentInvocationLimitExceeded'));
    assert.equal(account.inFlight, 1, 'the refused invocation holds no account slot');
    assert.equal(factory.made.length, 1, 'no environment for a throttled invocation');
    pool.release(running, true);
    assert.equal(acquire(), running, 'admitted again once the running one ends');
  });

  it('throttles above the account limit with 429, handing the reserved slot back', () => {
    account.limit = 2;
    acquire();
    acquire();
    assert.throws(() => pool.acquire(), throttledFor('ConcurrentInvocationLimitExceeded'));
    assert.equal(reserved.inFlight, 2, 'the reserved slot taken for the refused invocation is given back');
    assert.equal(account.inFlight, 2);
  });

  it('hands both slots back when no environment can be made, so that failed creations never throttle later invocations', () => {
    const broken = new FakeFactory();
    broken.create = () => { throw new AwsError('ServiceException', 'no interpreter'); };
    const failing = new EnvironmentPool(fakeDefinition('broken'), broken.asFactory, account, reserved);
    for (let i = 0; i < 20; i++) assert.throws(() => failing.acquire(), /no interpreter/);
    assert.equal(account.inFlight, 0);
    assert.equal(reserved.inFlight, 0);
    acquire();
    assert.equal(account.inFlight, 1, 'the next invocation still gets a slot');
  });

  it('shares the account limit and a function’s reserved concurrency between pools', () => {
    const other = new EnvironmentPool(fakeDefinition('pooled', { version: '1' }), factory.asFactory, account, reserved);
    reserved.limit = 2;
    acquire();
    other.acquire();
    assert.throws(() => pool.acquire(), throttledFor('ReservedFunctionConcurrentInvocationLimitExceeded'));
    assert.throws(() => other.acquire(), throttledFor('ReservedFunctionConcurrentInvocationLimitExceeded'));
    const unrelated = new EnvironmentPool(fakeDefinition('unrelated'), factory.asFactory, account, new ConcurrencyLimit(Infinity));
    account.limit = 3;
    unrelated.acquire();
    assert.throws(() => unrelated.acquire(), throttledFor('ConcurrentInvocationLimitExceeded'));
  });

  it('disposes an environment released as not reusable, and makes a new one next', () => {
    const broken = acquire();
    pool.release(broken, false, 'timeout');
    assert.equal(broken.disposed, true);
    const next = acquire();
    assert.notEqual(next, broken);
    assert.equal(factory.made.length, 2);
  });

  it('disposes an environment that died during its invocation, even when released as reusable', () => {
    const dying = acquire();
    dying.alive = false;
    pool.release(dying, true);
    assert.equal(dying.disposed, true);
    assert.notEqual(acquire(), dying);
  });

  it('skips an environment that died while idle', () => {
    const a = acquire();
    const b = acquire();
    pool.release(a, true);
    pool.release(b, true);
    b.alive = false;
    assert.equal(acquire(), a, 'the dead one on top is passed over for the live one below');
    const fresh = acquire();
    assert.notEqual(fresh, b);
    assert.equal(factory.made.length, 3);
  });

  it('reaps the environments idle for at least the idle time, and only those', (t) => {
    let now = 1_000_000;
    t.mock.method(Date, 'now', () => now);
    const old = acquire();
    const young = acquire();
    const dead = acquire();
    pool.release(old, true);
    pool.release(dead, true);
    dead.alive = false;
    now += 30_000;
    pool.release(young, true);
    pool.reap(60_000, now);
    assert.equal(old.disposed, false, 'idle for less than the idle time: kept');
    assert.equal(dead.disposed, true, 'a dead idle environment goes at the next reaping');
    pool.reap(60_000, now + 30_000);
    assert.equal(old.disposed, true, 'idle for the idle time: reaped');
    assert.equal(young.disposed, false, 'idle for half of it: kept');
    assert.equal(acquire(), young, 'what is kept still serves');
    assert.equal(factory.made.length, 3);
  });

  describe('with environments that hold one invocation behind another', () => {
    /** A pool of one environment, whose later invocations wait (the host never has room). */
    let holding: EnvironmentPool;
    let environment: HoldingEnvironment;
    /** The waiting invocations given an environment, in the order they got one. */
    let given: Array<[string, ExecutionEnvironment | undefined]>;
    /** A waiting invocation: given an environment, it invokes it, as the invoker does. */
    const waiter = (name: string) => (got: ExecutionEnvironment | undefined) => {
      given.push([name, got]);
      if (got instanceof HoldingEnvironment) got.inFlight++;
    };
    /** The environment's invocation (and any it held) ended. */
    const free = () => {
      environment.inFlight = 0;
      holding.release(environment, true);
    };
    const names = () => given.map(([name]) => name);
    beforeEach(() => {
      factory.holding = true;
      given = [];
      holding = new EnvironmentPool(fakeDefinition('holding'), factory.asFactory, account, reserved, new ScalingPolicy('measured', { hasRoom: () => false }));
      environment = holding.acquire() as HoldingEnvironment;
      environment.inFlight = 1;
      for (const name of ['first', 'second', 'third']) {
        assert.equal(holding.acquire(), undefined, 'waits: no room for a second environment');
        holding.enqueue(waiter(name));
      }
    });

    it('gives a freed environment the oldest waiting invocation, and the next held behind it', () => {
      free();
      assert.deepEqual(names(), ['first', 'second'], 'the two oldest, in order');
      assert.ok(given.every(([, got]) => got === environment));
      assert.equal(environment.inFlight, 2);
      assert.equal(account.inFlight, 3, 'the ended invocation’s slot is free; the three waiting keep theirs');
    });

    it('gives an environment that went on to the invocation it held the next waiting one behind that', () => {
      holding.release(environment, true);
      assert.deepEqual(names(), ['first'], 'busy still: one behind, none to run now');
      holding.release(environment, true);
      assert.deepEqual(names(), ['first'], 'two in flight: it takes no more');
      environment.accepting = false;
      environment.inFlight = 1;
      holding.release(environment, true);
      assert.deepEqual(names(), ['first'], 'one that does not accept gets none');
      free();
      assert.deepEqual(names(), ['first', 'second'], 'freed, it runs the oldest waiting one');
    });

    it('never makes a busy environment idle', () => {
      environment.accepting = false;
      holding.release(environment, true);
      assert.equal(holding.acquire(), undefined, 'no idle environment: the next invocation waits');
      assert.equal(environment.disposed, false);
    });

    it('puts an invocation given back unstarted first in line, or on a warm environment at once', () => {
      environment.accepting = false;
      holding.requeue(waiter('given back'), performance.now());
      for (let i = 0; i < 4; i++) free();
      assert.deepEqual(names(), ['given back', 'first', 'second', 'third'], 'it waited longest');
      free();
      holding.requeue(waiter('again'), performance.now());
      assert.deepEqual(given.at(-1), ['again', environment], 'a warm environment takes it at once');
    });

    it('counts an environment stopped once, though the invocation it went on to comes back after the stop', () => {
      const stops: unknown[] = [];
      const unsubscribe = subscribeLifecycle('serverfull:environment:stop', (message) => void stops.push(message));
      try {
        environment.inFlight = 1;
        holding.release(environment, false, 'timeout');
        holding.release(environment, false);
      } finally {
        unsubscribe();
      }
      assert.equal(stops.length, 1);
      // One new environment for the waiting ones; a second stop counted would have made room for another.
      assert.equal(factory.made.length, 2);
    });

    it('once retired, disposes an environment that went on to the invocation it held only when that one comes back', async () => {
      await holding.retire('retired');
      holding.release(environment, true);
      assert.equal(environment.disposed, false, 'the held invocation runs to its end');
      free();
      assert.equal(environment.disposed, true);
    });
  });

  it('on retire, disposes idle environments at once and busy ones when they come back', async () => {
    const idle = acquire();
    const busy = acquire();
    pool.release(idle, true);
    await pool.retire('retired');
    assert.equal(idle.disposed, true);
    assert.equal(busy.disposed, false, 'an invocation in flight is not cut short');
    pool.release(busy, true);
    assert.equal(busy.disposed, true, 'a retired pool keeps nothing warm');
    assert.equal(account.inFlight, 0);
  });
});
