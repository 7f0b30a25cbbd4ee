/**
 * @module handler/lambda-context
 * The `context` object of the AWS Node.js runtime, built per invocation.
 */
import type { Context } from 'aws-lambda';

/** What stays the same for every invocation of one execution environment. */
export interface EnvironmentIdentity {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly memorySize: number;
  readonly logGroupName: string;
  readonly logStreamName: string;
}

/** What differs per invocation; plain data so it crosses a worker boundary as is. */
export interface InvocationInfo {
  readonly requestId: string;
  readonly invokedFunctionArn: string;
  /** Epoch milliseconds at which the invocation times out. */
  readonly deadlineMs: number;
  /** Decoded `X-Amz-Client-Context` JSON text, when the caller sent one. */
  readonly clientContext?: string;
  /**
   * The X-Ray trace header (`Root=...;Parent=...;Sampled=0`) the function sees as `_X_AMZN_TRACE_ID`;
   * the invoker always sets it, only hand-built invocations (tests) go without.
   */
  readonly traceHeader?: string;
}

/** A context whose `done`/`succeed`/`fail` the handler runner wires up. */
export type LambdaContext = Context;

/** A fresh context object for one invocation. */
export function createContext(environment: EnvironmentIdentity, invocation: InvocationInfo): LambdaContext {
  const { deadlineMs } = invocation;
  const unwired = () => {
    throw new Error('context completion methods are wired by the handler runner');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: environment.functionName,
    functionVersion: environment.functionVersion,
    invokedFunctionArn: invocation.invokedFunctionArn,
    // The Node.js runtime passes memory as a string.
    memoryLimitInMB: String(environment.memorySize),
    awsRequestId: invocation.requestId,
    logGroupName: environment.logGroupName,
    logStreamName: environment.logStreamName,
    identity: undefined,
    clientContext: invocation.clientContext === undefined ? undefined : JSON.parse(invocation.clientContext),
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
    done: unwired,
    fail: unwired,
    succeed: unwired,
  };
}
