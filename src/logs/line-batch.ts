/**
 * @module logs/line-batch
 * The lines the log store queues for its writer thread, as one flat array of strings, numbers and
 * booleans: each line is a row of fields, its kind first. A message to a thread is a structured clone,
 * which copies every property name of an object with its value: a silent invocation's END line as
 * objects (the line, its start, its end) cost about 3.5–5.5 µs to send and receive, as a row of this
 * array about 0.5 µs, on a server that sends tens of thousands a second.
 */
import type { FunctionLogLevel } from '../runtime/execution-environment.js';
import type { RecordedEnd, RecordedStart, RecordedStatus } from '../runtime/invocation-recorder.js';

/** Kinds of queued lines: an output line, or the end (END and REPORT). */
export const OUTPUT = 1;
export const END = 2;

/**
 * A queued line, formatted only by the writer: recording costs a row of fields, not a string. The
 * START line is not queued: the invocation's record stands for it (and for END and REPORT).
 */
export interface PendingLine {
  readonly start: RecordedStart;
  readonly kind: typeof OUTPUT | typeof END;
  readonly time: number;
  readonly level?: FunctionLogLevel;
  readonly text?: string;
  readonly raw?: string;
  readonly end?: RecordedEnd;
}

/** Queued lines, as rows of fields (see the module's comment). */
export type LineBatch = Array<string | number | boolean | undefined>;

/** Appends an output line of the invocation that `start` began. */
export function queueOutput(batch: LineBatch, start: RecordedStart, time: number, level: FunctionLogLevel, text: string, raw: string | undefined): void {
  batch.push(OUTPUT, start.functionName, start.version, start.requestId, start.traceId, start.logStreamName, start.startTime, time, level, text, raw);
}

/** Appends the end of the invocation that `start` began. */
export function queueEnd(batch: LineBatch, start: RecordedStart, time: number, end: RecordedEnd): void {
  batch.push(
    END, start.functionName, start.version, start.requestId, start.traceId, start.logStreamName, start.startTime, time,
    end.durationMs, end.memorySize, end.memoryUsedMB, end.initDurationMs, end.initFailed, end.status, end.errorType,
  );
}

/** The lines of a batch, in the order they were queued. */
export function readLineBatch(batch: LineBatch): PendingLine[] {
  const lines: PendingLine[] = [];
  let at = 0;
  while (at < batch.length) {
    const kind = batch[at] as typeof OUTPUT | typeof END;
    const start: RecordedStart = {
      functionName: batch[at + 1] as string, version: batch[at + 2] as string, requestId: batch[at + 3] as string,
      traceId: batch[at + 4] as string | undefined, logStreamName: batch[at + 5] as string, startTime: batch[at + 6] as number,
    };
    const time = batch[at + 7] as number;
    if (kind === OUTPUT) {
      lines.push({ start, kind, time, level: batch[at + 8] as FunctionLogLevel, text: batch[at + 9] as string, raw: batch[at + 10] as string | undefined });
      at += 11;
    } else {
      const end: RecordedEnd = {
        durationMs: batch[at + 8] as number, memorySize: batch[at + 9] as number, memoryUsedMB: batch[at + 10] as number,
        initDurationMs: batch[at + 11] as number | undefined, initFailed: batch[at + 12] as boolean, status: batch[at + 13] as RecordedStatus,
        errorType: batch[at + 14] as string | undefined,
      };
      lines.push({ start, kind, time, end });
      at += 15;
    }
  }
  return lines;
}
