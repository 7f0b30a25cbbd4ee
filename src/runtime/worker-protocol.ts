/**
 * @module runtime/worker-protocol
 * Messages between a worker environment and its thread.
 */
import type { EnvironmentIdentity } from '../handler/lambda-context.js';
import type { FunctionLogLevel, InvocationRequest } from './execution-environment.js';

/** Given to a thread when it starts (`workerData`), before it knows its function. */
export interface WorkerStartData {
  /** Load the TypeScript compiler ahead of a TypeScript handler's init. */
  readonly warmTypeScript: boolean;
}

/** Host → thread, first message: the function this (possibly pre-started) thread becomes. */
export interface BindMessage {
  readonly type: 'bind';
  readonly root: string;
  readonly handler: string;
  readonly identity: EnvironmentIdentity;
  /** The complete `process.env` of the environment. */
  readonly env: Readonly<Record<string, string>>;
  /** The function's timeout: a cold invocation's deadline is the init's end plus this. */
  readonly timeoutMs: number;
}

/** Host → thread: run one invocation. */
export interface InvokeMessage extends Omit<InvocationRequest, 'event'> {
  readonly type: 'invoke';
}

/** Host → thread: give back the invocation held behind the running one, if it is `requestId` and has not started. */
export interface RecallMessage {
  readonly type: 'recall';
  readonly requestId: string;
}

/** Thread → host: the held invocation `requestId` was given back unstarted. */
export interface RecalledMessage {
  readonly type: 'recalled';
  readonly requestId: string;
}

/** Thread → host: one line of function output. */
export interface LogMessage {
  readonly type: 'log';
  readonly level: FunctionLogLevel;
  readonly text: string;
  /** The whole line, when the runtime wrote it itself (lines outside an invocation). */
  readonly raw?: string;
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
  /** Set (on the error path only) when the thread fails because an error escaped user code; `fatal` without it means the init failed. */
  readonly uncaught?: true;
}

/** Thread → host: the function's init has finished (the handler is loaded, or failed to load). */
export interface InitializedMessage {
  readonly type: 'initialized';
}

/** Thread → host, first message, as the thread starts: its id as Linux knows it, for its scheduling policy. */
export interface ThreadStartedMessage {
  readonly type: 'thread';
  readonly threadId: number;
}

/** Anything the thread sends. */
export type ThreadMessage = LogMessage | ResultMessage | InitializedMessage | ThreadStartedMessage | RecalledMessage;

/** Anything the host sends. */
export type HostMessage = BindMessage | InvokeMessage | RecallMessage;
