/**
 * @module runtime/mock-environment
 * Execution environments of mocked functions: they answer the declared output (or a
 * declared error) without loading the function's code. They still go through the pool and
 * the invoker, so request ids, concurrency limits and Tail logs work as for real code.
 */
import type { MockDeclaration } from '../registry/function-definition.js';
import type { ExecutionEnvironment, InvocationOutcome, InvocationRequest, LogSink } from './execution-environment.js';
import { invokeErrorMessage } from '../handler/error-log-lines.js';
import { usedHeapMB } from './invocation-executor.js';
import { mockError, mockOutput } from './mock-output.js';

/**
 * The event of an `X-Amz-Invocation-Type: Error` invocation: it travels through the invoker
 * in place of the event, which a mock never reads, so the invoker needs no mock-specific field.
 */
export class MockErrorRequest {
  constructor(readonly errorType: string) {}
}

/** One environment of a mocked function; it has no state, so it is always reusable. */
export class MockEnvironment implements ExecutionEnvironment {
  alive = true;

  constructor(private readonly declaration: MockDeclaration) {}

  invoke(request: InvocationRequest, log: LogSink, done: (outcome: InvocationOutcome) => void): void {
    const memoryUsedMB = usedHeapMB(request.report);
    const { event } = request;
    if (!(event instanceof MockErrorRequest)) {
      done({ payload: mockOutput(this.declaration), memoryUsedMB, reusable: true });
      return;
    }
    const error = mockError(this.declaration, event.errorType);
    // The Invoke API checks the type first: reaching here undeclared is a fault of serverfull, reported as such by the invoker.
    if (!error) throw new Error(`mock error ${event.errorType} is not declared`);
    // A declared error stands for one the function threw: AWS's runtime would log it, so the mock does too.
    log('ERROR', invokeErrorMessage(undefined, error));
    done({ payload: JSON.stringify(error), functionError: error.errorType, memoryUsedMB, reusable: true });
  }

  async dispose(): Promise<void> {
    this.alive = false;
  }
}
