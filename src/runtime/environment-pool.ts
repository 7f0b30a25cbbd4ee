/**
 * @module runtime/environment-pool
 * The execution environments of one function version: warm ones are reused (most
 * recently used first), idle ones are reaped, and concurrency above the function's
 * reserved concurrency or the account limit is refused at once with 429.
 */
import { throttled } from '../errors.js';
import type { FunctionDefinition } from '../registry/function-definition.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import type { EnvironmentFactory } from './environment-factory.js';
import type { ExecutionEnvironment } from './execution-environment.js';

interface IdleEnvironment {
  readonly environment: ExecutionEnvironment;
  readonly since: number;
}

/** A pool per function version; one invocation per environment at a time. */
export class EnvironmentPool {
  private idle: IdleEnvironment[] = [];
  private readonly reserved: ConcurrencyLimit | undefined;
  private retired = false;
  private busy = 0;

  constructor(
    readonly definition: FunctionDefinition,
    private readonly factory: EnvironmentFactory,
    private readonly account: ConcurrencyLimit,
  ) {
    const limit = definition.reservedConcurrency;
    this.reserved = limit === undefined ? undefined : new ConcurrencyLimit(limit);
  }

  /** Invocations running in this pool now. */
  get inFlight(): number {
    return this.busy;
  }

  /** A warm environment, or a new one; throws `TooManyRequestsException` when over a limit. */
  acquire(): ExecutionEnvironment {
    if (this.reserved && !this.reserved.tryAcquire()) throw throttled('ReservedFunctionConcurrentInvocationLimitExceeded');
    if (!this.account.tryAcquire()) {
      this.reserved?.release();
      throw throttled('ConcurrentInvocationLimitExceeded');
    }
    this.busy++;
    for (let entry = this.idle.pop(); entry; entry = this.idle.pop()) {
      if (entry.environment.alive) return entry.environment;
    }
    return this.factory.create(this.definition);
  }

  /** Returns an environment after an invocation; one that cannot be reused is disposed. */
  release(environment: ExecutionEnvironment, reusable: boolean): void {
    this.busy--;
    this.reserved?.release();
    this.account.release();
    if (reusable && environment.alive && !this.retired) this.idle.push({ environment, since: Date.now() });
    else void environment.dispose();
  }

  /** Disposes environments idle for longer than `idleMs`. */
  reap(idleMs: number, now = Date.now()): void {
    const keep: IdleEnvironment[] = [];
    for (const entry of this.idle) {
      if (now - entry.since >= idleMs || !entry.environment.alive) void entry.environment.dispose();
      else keep.push(entry);
    }
    this.idle = keep;
  }

  /** Number of warm environments waiting for work. */
  get idleCount(): number {
    return this.idle.length;
  }

  /** Disposes idle environments now and busy ones when they come back. */
  async retire(): Promise<void> {
    this.retired = true;
    const idle = this.idle;
    this.idle = [];
    await Promise.all(idle.map((entry) => entry.environment.dispose()));
  }
}
