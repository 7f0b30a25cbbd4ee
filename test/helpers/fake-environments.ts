/**
 * @module test/helpers/fake-environments
 * In-memory execution environments for tests whose unit is the pool or the invoker: each
 * invocation waits until the test answers it, so the test decides when (and how) it ends, and
 * sees exactly which environment served which request. No threads, processes or sockets.
 */
import type { FunctionDefinition, LambdaHandler } from '../../src/registry/function-definition.js';
import type { EnvironmentFactory } from '../../src/runtime/environment-factory.js';
import type { ExecutionEnvironment, InvocationOutcome, InvocationRequest, LogSink } from '../../src/runtime/execution-environment.js';

/** One invocation a fake environment received and has not answered yet. */
export interface PendingInvocation {
  readonly request: InvocationRequest;
  readonly log: LogSink;
  /** Ends the invocation with `outcome` (by default a reusable success answering `"ok"`). */
  answer(outcome?: Partial<InvocationOutcome>): void;
}

/** An environment that holds each invocation until the test answers it. */
export class FakeEnvironment implements ExecutionEnvironment {
  alive = true;
  disposed = false;
  /** False for an environment that has yet to run its init (a cold start); undefined: the fake has no init. */
  ready: boolean | undefined;
  readonly requests: InvocationRequest[] = [];
  /** The invocation in flight, if any. */
  pending: PendingInvocation | undefined;
  /** Set to make `invoke` throw, as an environment failing in itself would. */
  failWith: Error | undefined;
  private readonly waiters: Array<(pending: PendingInvocation) => void> = [];

  constructor(readonly id: number, readonly definition: FunctionDefinition) {}

  invoke(request: InvocationRequest, log: LogSink, done: (outcome: InvocationOutcome) => void): void {
    if (this.failWith) throw this.failWith;
    if (this.pending) throw new Error(`fake environment ${this.id} got a second invocation while one is in flight`);
    this.requests.push(request);
    const pending: PendingInvocation = {
      request,
      log,
      answer: (outcome = {}) => {
        if (this.pending === pending) this.pending = undefined;
        done({ payload: '"ok"', memoryUsedMB: 10, reusable: true, ...outcome });
      },
    };
    this.pending = pending;
    for (const waiter of this.waiters.splice(0)) waiter(pending);
  }

  /** Resolves with the invocation in flight, now or once one arrives. */
  invoked(): Promise<PendingInvocation> {
    if (this.pending) return Promise.resolve(this.pending);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async dispose(): Promise<void> {
    this.alive = false;
    this.disposed = true;
  }
}

/**
 * A fake that holds one invocation behind the one it runs, as a worker environment does (`acceptsNext`): the test
 * sets how many it has in flight, and whether it takes one more.
 */
export class HoldingEnvironment extends FakeEnvironment {
  inFlight = 0;
  accepting = true;

  acceptsNext(): boolean {
    return this.accepting && this.inFlight === 1;
  }
}

/** A factory of fake environments that keeps every environment it made. */
export class FakeFactory {
  readonly made: FakeEnvironment[] = [];
  closed = false;
  /** Environments are made not ready, as a process or a worker starting its init is. */
  cold = false;
  /** Environments are made `HoldingEnvironment`s. */
  holding = false;

  create(definition: FunctionDefinition): FakeEnvironment {
    const environment = new (this.holding ? HoldingEnvironment : FakeEnvironment)(this.made.length + 1, definition);
    if (this.cold) environment.ready = false;
    this.made.push(environment);
    return environment;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The fake as the type the pool and invoker take. */
  get asFactory(): EnvironmentFactory {
    return this as unknown as EnvironmentFactory;
  }

  /** The environments made for one function version. */
  of(name: string, version = '$LATEST'): FakeEnvironment[] {
    return this.made.filter((e) => e.definition.name === name && e.definition.version === version);
  }
}

/** A function version definition for tests; the handler is never run by fake environments. */
export function fakeDefinition(name: string, extra: Partial<FunctionDefinition> = {}): FunctionDefinition {
  const handler: LambdaHandler = async () => 'unused';
  return {
    name, version: '$LATEST', runtime: 'nodejs22.x', handler, root: process.cwd(), timeout: 30, memorySize: 128,
    environment: {}, isolation: 'inline', description: '', ...extra,
  };
}
