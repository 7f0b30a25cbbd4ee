/**
 * @module runtime/worker-protocol
 * Messages between a worker environment and its thread.
 */
import type { EnvironmentIdentity } from '../handler/lambda-context.js';
import type { FunctionLogLevel, InvocationRequest } from './execution-environment.js';

/** Given to the thread at start (`workerData`). */
export interface WorkerBootData {
  readonly root: string;
  readonly handler: string;
  readonly identity: EnvironmentIdentity;
}

/** Host → thread: run one invocation. */
export interface InvokeMessage extends Omit<InvocationRequest, 'event'> {
  readonly type: 'invoke';
}

/** Thread → host: one line of function output. */
export interface LogMessage {
  readonly type: 'log';
  readonly level: FunctionLogLevel;
  readonly text: string;
}

/** Thread → host: the invocation finished. */
export interface ResultMessage {
  readonly type: 'result';
  readonly payload: string;
  readonly functionError?: string;
  readonly initDurationMs?: number;
  readonly durationMs?: number;
  readonly memoryUsedMB: number;
  /** The thread is about to exit (failed init, uncaught error). */
  readonly fatal: boolean;
}

/** Anything the thread sends. */
export type ThreadMessage = LogMessage | ResultMessage;
