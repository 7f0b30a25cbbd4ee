/**
 * @module runtime/unresolved-environment
 * An execution environment whose variables could not be built (a `{{resolve:ssm:...}}` reference to a
 * parameter that is missing, or that the function may not read): it fails each invocation as an init
 * failure would, with the reason in the log and the payload, and is never reused, so that the next
 * invocation tries again (the parameter may exist by then).
 */
import type { ExecutionEnvironment, InvocationOutcome, InvocationRequest, LogSink } from './execution-environment.js';
import { logOutsideInvocation, platformFailure } from './execution-environment.js';

/** Fails every invocation with `reason` (which names the variable and the reference, never a value). */
export class UnresolvedEnvironment implements ExecutionEnvironment {
  alive = true;

  constructor(private readonly reason: string) {}

  invoke(request: InvocationRequest, log: LogSink, done: (outcome: InvocationOutcome) => void): void {
    logOutsideInvocation(log, `Runtime.InitError: ${this.reason}`);
    this.alive = false;
    done(platformFailure({ errorType: 'Runtime.InitError', errorMessage: `RequestId: ${request.requestId} Error: ${this.reason}` }, { failure: 'runtime' }));
  }

  dispose(): Promise<void> {
    this.alive = false;
    return Promise.resolve();
  }
}
