/**
 * @module logs/record-lines
 * The START, END and REPORT lines an invocation's stored record stands for: the store keeps one
 * row per invocation and builds these lines from it when read, byte for byte as they were once
 * stored (`runtime/invocation-log.ts` formats them, as AWS does). Also the size bound of an event.
 */
import { endLine, reportLine, startLine } from '../runtime/invocation-log.js';
import type { RecordedEnd } from '../runtime/invocation-recorder.js';

/** CloudWatch's per-event overhead, counted in stored bytes. */
export const EVENT_OVERHEAD_BYTES = 26;
/** CloudWatch's largest event: 256 KB, overhead included. */
export const MAX_EVENT_BYTES = 262_144 - EVENT_OVERHEAD_BYTES;

/** Which lines a record stands for: a flag each, in the record's `lines` column (0: a record of a store that kept every line as a row). */
export const START_LINE = 1;
export const END_LINES = 2;

/** Kinds of read events: a stored line, or one of the lines a record stands for. */
export const STORED_EVENT = 0;
export const START_EVENT = 1;
export const END_EVENT = 2;
export const REPORT_EVENT = 3;

/** What a record says that its lines show: what the recorder learnt at the end, and whose invocation it was. */
export interface RecordFields extends RecordedEnd {
  readonly requestId: string;
  readonly version: string;
}

/** The line of `kind` (`START_EVENT`, `END_EVENT` or `REPORT_EVENT`) that a record stands for, as stored before. */
export function recordLine(kind: typeof START_EVENT | typeof END_EVENT | typeof REPORT_EVENT, record: RecordFields): string {
  switch (kind) {
    case START_EVENT:
      return boundedMessage(startLine(record.requestId, record.version));
    case END_EVENT:
      return boundedMessage(endLine(record.requestId));
    case REPORT_EVENT:
      return boundedMessage(reportLine(record.requestId, {
        durationMs: record.durationMs, memorySize: record.memorySize, memoryUsedMB: record.memoryUsedMB,
        // A failed init is reported by its INIT_REPORT line, not in REPORT.
        initDurationMs: record.initFailed ? undefined : record.initDurationMs,
        status: record.status === 'success' ? undefined : record.status, errorType: record.errorType,
      }));
  }
}

/** Stored bytes of a line (as CloudWatch counts them: UTF-8 bytes plus the overhead). */
export function eventBytes(message: string): number {
  return Buffer.byteLength(message) + EVENT_OVERHEAD_BYTES;
}

/** `message` cut to CloudWatch's largest event. */
export function boundedMessage(message: string): string {
  if (message.length * 3 <= MAX_EVENT_BYTES) return message;
  const bytes = Buffer.from(message);
  if (bytes.length <= MAX_EVENT_BYTES) return message;
  // A cut inside a multi-byte character leaves a replacement character, never a broken sequence.
  return bytes.subarray(0, MAX_EVENT_BYTES).toString('utf8').replace(/\uFFFD$/, '');
}
