/**
 * @module runtime/execution-environment
 * The contract every kind of execution environment keeps (inline, worker, and later
 * process): one invocation at a time, module state kept between invocations.
 */
import type { FunctionErrorPayload } from '../handler/function-errors.js';
import type { InvocationInfo } from '../handler/lambda-context.js';

/** Log level of a function output line, as the Node.js runtime prints it; undefined for raw stdout/stderr writes. */
export type FunctionLogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | undefined;

/** The console methods the Node.js runtime captures, with the level each one logs at. */
export const CONSOLE_LEVELS: ReadonlyArray<readonly ['log' | 'info' | 'warn' | 'error' | 'debug' | 'trace', FunctionLogLevel]> = [
  ['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR'], ['debug', 'DEBUG'], ['trace', 'TRACE'],
];

/**
 * Receives a function's output lines for one invocation: `text` is the message (what the server
 * log shows); `raw`, when given, is the whole line as the runtime wrote it (what the Tail log keeps).
 */
export type LogSink = (level: FunctionLogLevel, text: string, raw?: string) => void;

/**
 * Why an invocation failed, when the platform (not the function's runtime) has to say so in the
 * log: the function's init failed (INIT_REPORT), the runtime died (exit, crash, out of memory), or
 * the invocation timed out.
 */
export type PlatformFailure = 'init' | 'runtime' | 'timeout';

/** One invocation as an environment receives it. */
export interface InvocationRequest extends InvocationInfo {
  /** The event as JSON text (already validated). */
  readonly payload: string;
  /** The same event, parsed: in-process environments use it instead of parsing again. */
  readonly event: unknown;
  /** Measure memory for a REPORT line (only needed for Tail logs). */
  readonly report: boolean;
}

/** How an invocation ended, from the environment's point of view. */
export interface InvocationOutcome {
  /** JSON text: the handler's result, or the error payload when `functionError` is set. */
  readonly payload: string;
  /** The error type when the invocation failed. */
  readonly functionError?: string;
  /** Time spent in the handler, excluding init; the host measures when absent. */
  readonly durationMs?: number;
  /** Set on the invocation that initialised the environment (a cold start). */
  readonly initDurationMs?: number;
  readonly memoryUsedMB: number;
  /** False when the environment must be discarded (exit, crash, timeout, failed init). */
  readonly reusable: boolean;
  /** Set on failures the platform reports in the log; absent for errors the runtime posted. */
  readonly failure?: PlatformFailure;
}

/** An execution environment: initialises its function once, then serves invocations one by one. */
export interface ExecutionEnvironment {
  /** False once the environment died or was disposed; the pool then drops it. */
  readonly alive: boolean;
  /**
   * False while the function's init has not finished (a cold start, or an init still running): the next invocation
   * then gets `initialized`. Absent: the environment is always ready (it has no init of its own).
   */
  readonly ready?: boolean;
  /**
   * Invocations handed to it and not yet ended: two while it holds one behind the one it runs (`acceptsNext`).
   * Absent: at most one.
   */
  readonly inFlight?: number;
  /**
   * Whether it takes one more invocation now, held behind the one it runs and started as soon as that one ends,
   * without a wake-up in between. Absent: never.
   */
  acceptsNext?(): boolean;
  /** Gives back the invocation `requestId` it holds, if it has not started: its `done` gets `NOT_STARTED`. */
  recallNext?(requestId: string): void;
  /**
   * Runs one invocation; calls `done` exactly once. Callback-based to keep promises off the hot path. When given,
   * `initialized` is called once the handler is about to run after a wait of the environment's: the function's init
   * (a cold start), or the invocation it was held behind. The invocation's timeout counts from there, as in AWS,
   * where init has a limit of its own.
   */
  invoke(request: InvocationRequest, log: LogSink, done: (outcome: InvocationOutcome) => void, initialized?: () => void): void;
  /** Stops the environment at once, even mid-invocation. */
  dispose(): Promise<void>;
}

/**
 * The outcome an environment gives an invocation it held and never started, because it ended first or the invocation
 * was recalled: the invoker runs it elsewhere. Compared by identity.
 */
export const NOT_STARTED: InvocationOutcome = Object.freeze({ payload: '', memoryUsedMB: 0, reusable: true });

/** The outcome of an invocation the platform ended with `error` (`failure` says why); the environment is not reused. */
export function platformFailure(
  error: FunctionErrorPayload,
  details: { durationMs?: number; memoryUsedMB?: number; failure?: PlatformFailure } = {},
): InvocationOutcome {
  return {
    payload: JSON.stringify(error), functionError: error.errorType, durationMs: details.durationMs,
    memoryUsedMB: details.memoryUsedMB ?? 0, reusable: false, failure: details.failure ?? 'runtime',
  };
}

/** The raw line of an error the Node.js runtime logs outside any invocation (a failed init): its request id prints as `undefined`. */
export function lineOutsideInvocation(message: string): string {
  return `${new Date().toISOString()}\tundefined\tERROR\t${message}\n`;
}

/** Logs an error line the runtime writes outside any invocation, as AWS's Node.js runtime prints it. */
export function logOutsideInvocation(log: LogSink, message: string): void {
  log('ERROR', message, lineOutsideInvocation(message));
}
