/**
 * @module runtime/environment-pool
 * The execution environments of one function version: warm ones are reused (most
 * recently used first), idle ones are reaped, and concurrency above the function's
 * reserved concurrency or the account limit is refused at once with 429. When all are busy, the
 * scaling policy says whether an invocation starts a new one or waits for one to be free (its
 * concurrency slots taken all the same). It publishes each environment's creation and stop
 * (`lifecycle-events`), as it is the one that decides both.
 */
import { throttled } from '../errors.js';
import type { FunctionDefinition } from '../registry/function-definition.js';
import type { ConcurrencyLimit } from './concurrency-limit.js';
import { environmentKind, type EnvironmentFactory } from './environment-factory.js';
import type { ExecutionEnvironment, PlatformFailure } from './execution-environment.js';
import type { ScalingPolicy } from './scaling-policy.js';
import { environmentCreateChannel, environmentStopChannel, publish, type EnvironmentCreateMessage, type EnvironmentStopMessage, type EnvironmentStopReason } from './lifecycle-events.js';

/** Ids of live environments for their lifecycle events; assigned on every creation (a cold path) so a late subscriber still gets them. */
const environmentIds = new WeakMap<ExecutionEnvironment, number>();
let lastEnvironmentId = 0;

/** Why a retired pool stops its environments: the version went away, or the server is closing. */
export type RetireReason = Extract<EnvironmentStopReason, 'retired' | 'close'>;

/** An invocation waiting for an environment: given one, or, when none could be had (the server closing), the reason. */
export type EnvironmentWaiter = (environment: ExecutionEnvironment | undefined, error?: unknown) => void;

/** The cold start assumed until one has been measured. */
const DEFAULT_COLD_START_MS = 100;
/** How often waiting invocations look again at whether the host has room for a new environment. */
const RECHECK_MS = 20;

/** A pool per function version; one invocation per environment at a time. */
export class EnvironmentPool {
  // Parallel stacks, most recently used last: no allocation per release.
  private idle: ExecutionEnvironment[] = [];
  private idleSince: number[] = [];
  private retired: RetireReason | undefined;
  /** Environments made and not yet stopped. */
  private live = 0;
  /** Environments still in their init (a cold start not yet over). */
  private readonly starting = new Set<ExecutionEnvironment>();
  /** Invocations waiting for an environment, oldest first, with when each began to wait. */
  private waiters: EnvironmentWaiter[] = [];
  private waitingSince: number[] = [];
  private recheck: NodeJS.Timeout | undefined;
  /** A moving average of this version's measured cold starts; the default until the first is measured. */
  private coldStartMs = DEFAULT_COLD_START_MS;
  private coldStartMeasured = false;

  constructor(
    readonly definition: FunctionDefinition,
    private readonly factory: EnvironmentFactory,
    private readonly account: ConcurrencyLimit,
    /** The function's reserved concurrency, shared by all its versions; unlimited when none is set. */
    private readonly reserved: ConcurrencyLimit,
    /** Whether an invocation that finds every environment busy starts a new one; none: always, as Lambda. */
    private readonly scaling?: ScalingPolicy,
    /** The server its lifecycle events name (`Invoker.serverId`). */
    private readonly serverId = 0,
  ) {}

  /**
   * A warm environment, or a new one; or undefined: the invocation must wait for one, and the caller hands `enqueue` its
   * waiter at once. Throws `TooManyRequestsException` when over a limit: a waiting invocation holds its concurrency
   * slots, as a running one does.
   */
  acquire(): ExecutionEnvironment | undefined {
    if (!this.reserved.tryAcquire()) throw throttled('ReservedFunctionConcurrentInvocationLimitExceeded');
    if (!this.account.tryAcquire()) {
      this.reserved.release();
      throw throttled('ConcurrentInvocationLimitExceeded');
    }
    const warm = this.takeIdle();
    if (warm !== undefined) return warm;
    if (this.waiters.length > 0 || !this.mayStart(0)) return undefined;
    try {
      return this.create();
    } catch (error) {
      // No environment (a Python function on a machine without Python, say): the slots go back, or each such
      // invocation would keep one for good, until the function, then the whole server, only throttled.
      this.reserved.release();
      this.account.release();
      throw error;
    }
  }

  /** Queues an invocation `acquire` gave no environment: `wait` is called once one is free, or a new one is started for it. */
  enqueue(wait: EnvironmentWaiter): void {
    this.waiters.push(wait);
    this.waitingSince.push(performance.now());
    if (this.retired !== undefined) this.startForWaiters();
    else this.scheduleRecheck();
  }

  /**
   * Puts an invocation an environment held and gave back unstarted (`NOT_STARTED`) first in line, as waiting since
   * `since`: a warm environment takes it at once, else it waits as any other.
   */
  requeue(wait: EnvironmentWaiter, since: number): void {
    const warm = this.takeIdle();
    if (warm !== undefined) return wait(warm);
    this.waiters.unshift(wait);
    this.waitingSince.unshift(since);
    this.startForWaiters();
  }

  /** A cold start has ended its init: it took `initMs`, which the next decisions expect of a new environment. */
  initialized(environment: ExecutionEnvironment, initMs: number): void {
    if (!this.starting.delete(environment)) return;
    this.coldStartMs = this.coldStartMeasured ? 0.7 * this.coldStartMs + 0.3 * initMs : initMs;
    this.coldStartMeasured = true;
    if (this.waiters.length > 0) this.startForWaiters();
  }

  /** The most recently used idle environment that is still alive, taken out of the idle ones. */
  private takeIdle(): ExecutionEnvironment | undefined {
    for (let environment = this.idle.pop(); environment; environment = this.idle.pop()) {
      this.idleSince.pop();
      if (environment.alive) return environment;
      // It died while idle (a crash, an exit from a timer): only now does the pool see it.
      this.stopped(environment, 'crash');
    }
    return undefined;
  }

  private create(): ExecutionEnvironment {
    const environment = this.factory.create(this.definition);
    this.live++;
    // Only an environment that has yet to run its init is starting: a worker bound to a spare thread may be ready at once.
    if (environment.ready === false) this.starting.add(environment);
    environmentIds.set(environment, ++lastEnvironmentId);
    if (environmentCreateChannel.hasSubscribers) {
      const { name, version } = this.definition;
      publish(environmentCreateChannel, { serverId: this.serverId, functionName: name, version, environmentId: lastEnvironmentId, kind: environmentKind(this.definition) } satisfies EnvironmentCreateMessage);
    }
    return environment;
  }

  /**
   * Returns an environment after an invocation; one that cannot be reused is disposed, `failure` saying why. One that
   * went straight on to an invocation it held is still busy: it may take the next waiting one behind that.
   */
  release(environment: ExecutionEnvironment, reusable: boolean, failure?: PlatformFailure): void {
    this.reserved.release();
    this.account.release();
    this.starting.delete(environment);
    const busy = environment.inFlight !== undefined && environment.inFlight > 0;
    if (reusable && environment.alive && !this.retired) {
      if (!busy) {
        // The oldest waiting invocation takes it at once: its slots are its own, taken when it arrived.
        const waiter = this.waiters.shift();
        if (waiter === undefined) {
          this.idle.push(environment);
          this.idleSince.push(Date.now());
          return;
        }
        this.waitingSince.shift();
        waiter(environment);
      }
      // The next waiting one too, held behind, when the environment takes it (`acceptsNext`): the oldest waiting
      // invocations go first either way, and each environment goes from one to the next without a wake-up.
      if (this.waiters.length > 0 && environment.acceptsNext?.() === true) {
        this.waitingSince.shift();
        this.waiters.shift()!(environment);
      }
      return;
    }
    // A retired pool's environment that went on to an invocation it held is disposed when that one comes back.
    if (busy && reusable && environment.alive) return;
    // The reason first: disposing marks the environment dead.
    this.stopped(environment, !reusable || !environment.alive ? stopReason(failure) : this.retired!);
    void environment.dispose();
    // One environment fewer: those waiting may need a new one.
    if (this.waiters.length > 0) this.startForWaiters();
  }

  /** Disposes environments idle for longer than `idleMs`. */
  reap(idleMs: number, now = Date.now()): void {
    const keep: ExecutionEnvironment[] = [];
    const keepSince: number[] = [];
    this.idle.forEach((environment, index) => {
      const since = this.idleSince[index]!;
      if (now - since >= idleMs || !environment.alive) {
        this.stopped(environment, environment.alive ? 'idle' : 'crash');
        void environment.dispose();
      } else {
        keep.push(environment);
        keepSince.push(since);
      }
    });
    this.idle = keep;
    this.idleSince = keepSince;
  }

  /**
   * Disposes idle environments now and busy ones when they come back. Waiting invocations get an environment each at
   * once (the version's code still runs them, as it would have on arrival), or fail if the server is closing.
   */
  async retire(reason: RetireReason): Promise<void> {
    this.retired = reason;
    this.startForWaiters();
    const idle = this.idle;
    this.idle = [];
    this.idleSince = [];
    for (const environment of idle) this.stopped(environment, environment.alive ? reason : 'crash');
    await Promise.all(idle.map((environment) => environment.dispose()));
  }

  /** Whether a new environment starts now for an invocation that has waited `waitedMs`. */
  private mayStart(waitedMs: number): boolean {
    if (this.scaling === undefined) return true;
    return this.scaling.mayStart({ live: this.live, starting: this.starting.size, waitedMs, coldStartMs: this.coldStartMs }, performance.now());
  }

  /** Starts environments for the oldest waiting invocations while the policy allows (all of them once the pool is retired). */
  private startForWaiters(): void {
    while (this.waiters.length > 0) {
      if (this.retired === undefined && !this.mayStart(performance.now() - this.waitingSince[0]!)) break;
      const waiter = this.waiters.shift()!;
      this.waitingSince.shift();
      let environment: ExecutionEnvironment | undefined;
      let error: unknown;
      if (this.retired === 'close') {
        error = new Error('the server is closing');
      } else {
        try {
          environment = this.create();
        } catch (thrown) {
          error = thrown;
        }
      }
      if (environment === undefined) {
        this.reserved.release();
        this.account.release();
      }
      waiter(environment, error);
    }
    if (this.waiters.length > 0) this.scheduleRecheck();
  }

  /** Looks again soon, for as long as invocations wait: the host may have room by then, or the oldest may have waited long enough. */
  private scheduleRecheck(): void {
    if (this.recheck !== undefined) return;
    const untilPatient = this.coldStartMs - (performance.now() - this.waitingSince[0]!);
    this.recheck = setTimeout(() => {
      this.recheck = undefined;
      this.startForWaiters();
    }, Math.max(1, Math.min(RECHECK_MS, untilPatient)));
    // Invocations wait only while another is busy or starting, and that one's own timer keeps the process alive.
    this.recheck.unref();
  }

  private stopped(environment: ExecutionEnvironment, reason: EnvironmentStopReason): void {
    const environmentId = environmentIds.get(environment);
    // Once: an invocation an environment went on to can end after the environment was stopped (a held one cut short).
    if (environmentId === undefined) return;
    environmentIds.delete(environment);
    this.live--;
    this.starting.delete(environment);
    if (!environmentStopChannel.hasSubscribers) return;
    const { name, version } = this.definition;
    publish(environmentStopChannel, {
      serverId: this.serverId, functionName: name, version, environmentId, kind: environmentKind(this.definition), reason,
    } satisfies EnvironmentStopMessage);
  }
}

/** The stop reason of an environment that cannot serve again after an invocation. */
function stopReason(failure: PlatformFailure | undefined): EnvironmentStopReason {
  if (failure === 'timeout') return 'timeout';
  if (failure === 'init') return 'initFailed';
  // An uncaught error that ended the runtime, an exit, running out of memory: the runtime is gone.
  return 'crash';
}
