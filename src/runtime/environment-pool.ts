/**
 * @module runtime/environment-pool
 * The execution environments of one function version: warm ones are reused (most
 * recently used first), idle ones are reaped, and concurrency above the function's
 * reserved concurrency or the account limit is refused at once with 429. It publishes
 * each environment's creation and stop (`lifecycle-events`), as it is the one that decides both.
 */
import { throttled } from '../errors.js';
import type { FunctionDefinition } from '../registry/function-definition.js';
import type { ConcurrencyLimit } from './concurrency-limit.js';
import { environmentKind, type EnvironmentFactory } from './environment-factory.js';
import type { ExecutionEnvironment, PlatformFailure } from './execution-environment.js';
import { environmentCreateChannel, environmentStopChannel, publish, type EnvironmentCreateMessage, type EnvironmentStopMessage, type EnvironmentStopReason } from './lifecycle-events.js';

/** Ids of environments for their lifecycle events; assigned on every creation (a cold path) so a late subscriber still gets them. */
const environmentIds = new WeakMap<ExecutionEnvironment, number>();
let lastEnvironmentId = 0;

/** Why a retired pool stops its environments: the version went away, or the server is closing. */
export type RetireReason = Extract<EnvironmentStopReason, 'retired' | 'close'>;

/** A pool per function version; one invocation per environment at a time. */
export class EnvironmentPool {
  // Parallel stacks, most recently used last: no allocation per release.
  private idle: ExecutionEnvironment[] = [];
  private idleSince: number[] = [];
  private retired: RetireReason | undefined;

  constructor(
    readonly definition: FunctionDefinition,
    private readonly factory: EnvironmentFactory,
    private readonly account: ConcurrencyLimit,
    /** The function's reserved concurrency, shared by all its versions; unlimited when none is set. */
    private readonly reserved: ConcurrencyLimit,
    /** The server its lifecycle events name (`Invoker.serverId`). */
    private readonly serverId = 0,
  ) {}

  /** A warm environment, or a new one; throws `TooManyRequestsException` when over a limit. */
  acquire(): ExecutionEnvironment {
    if (!this.reserved.tryAcquire()) throw throttled('ReservedFunctionConcurrentInvocationLimitExceeded');
    if (!this.account.tryAcquire()) {
      this.reserved.release();
      throw throttled('ConcurrentInvocationLimitExceeded');
    }
    for (let environment = this.idle.pop(); environment; environment = this.idle.pop()) {
      this.idleSince.pop();
      if (environment.alive) return environment;
      // It died while idle (a crash, an exit from a timer): only now does the pool see it.
      this.stopped(environment, 'crash');
    }
    let environment: ExecutionEnvironment;
    try {
      environment = this.factory.create(this.definition);
    } catch (error) {
      // No environment (a Python function on a machine without Python, say): the slots go back, or each such
      // invocation would keep one for good, until the function, then the whole server, only throttled.
      this.reserved.release();
      this.account.release();
      throw error;
    }
    environmentIds.set(environment, ++lastEnvironmentId);
    if (environmentCreateChannel.hasSubscribers) {
      const { name, version } = this.definition;
      publish(environmentCreateChannel, { serverId: this.serverId, functionName: name, version, environmentId: lastEnvironmentId, kind: environmentKind(this.definition) } satisfies EnvironmentCreateMessage);
    }
    return environment;
  }

  /** Returns an environment after an invocation; one that cannot be reused is disposed, `failure` saying why. */
  release(environment: ExecutionEnvironment, reusable: boolean, failure?: PlatformFailure): void {
    this.reserved.release();
    this.account.release();
    if (reusable && environment.alive && !this.retired) {
      this.idle.push(environment);
      this.idleSince.push(Date.now());
      return;
    }
    // The reason first: disposing marks the environment dead.
    this.stopped(environment, !reusable || !environment.alive ? stopReason(failure) : this.retired!);
    void environment.dispose();
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

  /** Disposes idle environments now and busy ones when they come back. */
  async retire(reason: RetireReason): Promise<void> {
    this.retired = reason;
    const idle = this.idle;
    this.idle = [];
    this.idleSince = [];
    for (const environment of idle) this.stopped(environment, environment.alive ? reason : 'crash');
    await Promise.all(idle.map((environment) => environment.dispose()));
  }

  private stopped(environment: ExecutionEnvironment, reason: EnvironmentStopReason): void {
    if (!environmentStopChannel.hasSubscribers) return;
    const { name, version } = this.definition;
    publish(environmentStopChannel, {
      serverId: this.serverId, functionName: name, version, environmentId: environmentIds.get(environment) ?? 0, kind: environmentKind(this.definition), reason,
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
