/**
 * @module runtime/invocation-recorder
 * The seam through which the invoker hands each invocation's log, line by line, and its summary
 * to a store (`logs/log-store.ts`). The invoker knows only this interface; with no recorder set it
 * builds nothing. A recorder must not block: it queues and writes later.
 */
import type { FunctionLogLevel } from './execution-environment.js';

/** How an invocation that ran ended, as its stored record says it. */
export type RecordedStatus = 'success' | 'error' | 'timeout';

/** What the recorder learns when an invocation starts. */
export interface RecordedStart {
  readonly functionName: string;
  /** `$LATEST` or a published version number. */
  readonly version: string;
  readonly requestId: string;
  /** The X-Ray trace id of the invocation (`1-5759e988-bd862e3fe1be46a994272793`), when the invocation carries one. */
  readonly traceId: string | undefined;
  /** The log stream of the environment that runs it (its context's `logStreamName`): one per environment, as in Lambda. */
  readonly logStreamName: string;
  /** Wall-clock start, in milliseconds since the epoch. */
  readonly startTime: number;
}

/** What the recorder learns when an invocation ends: what its END and REPORT lines and its record say. */
export interface RecordedEnd {
  readonly durationMs: number;
  readonly memorySize: number;
  readonly memoryUsedMB: number;
  /** Set on a cold start: the environment's init duration. */
  readonly initDurationMs: number | undefined;
  /** A failed init reports its duration in its INIT_REPORT line instead of REPORT. */
  readonly initFailed: boolean;
  readonly status: RecordedStatus;
  /** With `status: 'error'` (and on a timeout): the error type. */
  readonly errorType: string | undefined;
}

/** One invocation being recorded; the handle the invoker passes back with each line. */
export interface RecordingHandle {
  readonly start: RecordedStart;
}

/** Takes invocations' logs; every method returns at once. */
export interface InvocationRecorder {
  /** An invocation starts: records its START line. */
  begin(start: RecordedStart): RecordingHandle;
  /** One output line of the invocation, as the invoker's log sink receives it. */
  line(handle: RecordingHandle, level: FunctionLogLevel, text: string, raw: string | undefined): void;
  /** The invocation ended: records its END and REPORT lines and its summary. */
  end(handle: RecordingHandle, end: RecordedEnd): void;
}
