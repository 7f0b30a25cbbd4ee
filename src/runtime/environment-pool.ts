/**
 * @module runtime/environment-pool
 * The execution environments of one function version: warm ones are reused (most
 * recently used first), idle ones are reaped, and concurrency above the function's
 * reserved concurrency or the account limit is refused at once with 429.
 */
import { throttled } from '../errors.js';
import type { FunctionDefinition } from '../registry/function-definition.js';
import type { ConcurrencyLimit } from './concurrency-limit.js';
import type { EnvironmentFactory } from './environment-factory.js';
import type { ExecutionEnvironment } from './execution-environment.js';

/** A pool per function version; one invocation per environment at a time. */
export class EnvironmentPool {
  // Parallel stacks, most recently used last: no allocation per release.
  private idle: ExecutionEnvironment[] = [];
  private idleSince: number[] = [];
  private retired = false;

  constructor(
    readonly definition: FunctionDefinition,
    private readonly factory: EnvironmentFactory,
    private readonly account: ConcurrencyLimit,
    /** The function's reserved concurrency, shared by all its versions; unlimited when none is set. */
    private readonly reserved: ConcurrencyLimit,
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
    }
    return this.factory.create(this.definition);
  }

  /** Returns an environment after an invocation; one that cannot be reused is disposed. */
  release(environment: ExecutionEnvironment, reusable: boolean): void {
    this.reserved.release();
    this.account.release();
    if (reusable && environment.alive && !this.retired) {
      this.idle.push(environment);
      this.idleSince.push(Date.now());
    } else {
      void environment.dispose();
    }
  }

  /** Disposes environments idle for longer than `idleMs`. */
  reap(idleMs: number, now = Date.now()): void {
    const keep: ExecutionEnvironment[] = [];
    const keepSince: number[] = [];
    this.idle.forEach((environment, index) => {
      const since = this.idleSince[index]!;
      if (now - since >= idleMs || !environment.alive) {
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
  async retire(): Promise<void> {
    this.retired = true;
    const idle = this.idle;
    this.idle = [];
    this.idleSince = [];
    await Promise.all(idle.map((environment) => environment.dispose()));
  }
}
