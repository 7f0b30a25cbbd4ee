/**
 * @module logs/record-blocks
 * Invocation records kept many to a row. Under load, one row per invocation (its record, with three
 * indexes) was about three quarters of the log writer's time, which on a two-core machine is the
 * server's too. An invocation whose start and end the writer sees in the same batch (nearly all of
 * them) goes into that batch's block of its function's stream: one row of `record_blocks`, its
 * records as JSON text, with the range of their times and ids so that reads and bounds can pick
 * blocks without decoding them. A block is dropped whole, with its newest line. Records that span
 * batches stay rows of `invocations`.
 */
import type { RecordedStatus } from '../runtime/invocation-recorder.js';
import { END_EVENT, REPORT_EVENT, START_EVENT } from './record-lines.js';
import type { EventRow } from './event-reader.js';
import type { StoredInvocation } from './log-store.js';

/**
 * The table of blocks and its indexes, one per order a read or bound walks them in: by first time (reads in time order), by
 * last time then id (bounds; with the first time, where a read from a time starts), and a stream's by first or last id, each
 * with the other (GetLogEvents forward or backward, and where it starts). They cost a few entries per block, a few hundred invocations.
 */
export const RECORD_BLOCKS_SCHEMA = `
CREATE TABLE IF NOT EXISTS record_blocks (
  id INTEGER PRIMARY KEY,
  function_name TEXT NOT NULL,
  stream TEXT NOT NULL,
  first_time INTEGER NOT NULL,
  last_time INTEGER NOT NULL,
  first_id INTEGER NOT NULL,
  last_id INTEGER NOT NULL,
  ingestion_time INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  records TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS record_blocks_by_first ON record_blocks (function_name, first_time);
CREATE INDEX IF NOT EXISTS record_blocks_by_last ON record_blocks (function_name, last_time, last_id, first_time);
CREATE INDEX IF NOT EXISTS record_blocks_by_stream_first ON record_blocks (function_name, stream, first_id, last_id);
CREATE INDEX IF NOT EXISTS record_blocks_by_stream_last ON record_blocks (function_name, stream, last_id, first_id);
`;

/**
 * One record in a block, as an array (names would be most of the text): request id, version, trace id, START id, start
 * time, END id (REPORT's is the next), END time, duration, status, error type, cold start (0/1), init duration, memory
 * size, memory used, init failed (0/1), and the bytes of its three lines.
 */
export type BlockRecord = [
  requestId: string, version: string, traceId: string | null, startId: number, startTime: number, endId: number, endTime: number,
  durationMs: number, status: RecordedStatus, errorType: string | null, coldStart: number, initDurationMs: number | null,
  memorySize: number, memoryUsedMB: number, initFailed: number, bytes: number,
];

/** A block read back, its records still text. */
export interface BlockRow {
  readonly function_name: string;
  readonly stream: string;
  readonly first_time: number;
  readonly last_time: number;
  readonly first_id: number;
  readonly last_id: number;
  readonly ingestion_time: number;
  readonly records: string;
}

/** The columns a read takes of a block. */
export const BLOCK_COLUMNS = 'function_name, stream, first_time, last_time, first_id, last_id, ingestion_time, records';

/** A block being filled by the writer: one function's stream (which the writer keeps beside it), one batch. */
export class BlockBuilder {
  readonly records: BlockRecord[] = [];
  firstTime = Number.MAX_SAFE_INTEGER;
  lastTime = 0;
  firstId = Number.MAX_SAFE_INTEGER;
  lastId = 0;
  bytes = 0;

  /** Adds a record; its lines run from its START (`startTime`, `startId`) to its REPORT (`endTime`, `endId + 1`). */
  add(record: BlockRecord): void {
    this.records.push(record);
    if (record[4] < this.firstTime) this.firstTime = record[4];
    if (record[6] > this.lastTime) this.lastTime = record[6];
    if (record[3] < this.firstId) this.firstId = record[3];
    if (record[5] + 1 > this.lastId) this.lastId = record[5] + 1;
    this.bytes += record[15];
  }
}

/** The START, END and REPORT events of a block's records, as read rows (in no particular order). */
export function blockEvents(block: BlockRow): EventRow[] {
  const records = JSON.parse(block.records) as BlockRecord[];
  const events: EventRow[] = [];
  for (const record of records) {
    const [requestId, version, traceId, startId, startTime, endId, endTime, durationMs, status, errorType, , initDurationMs, memorySize, memoryUsed, initFailed] = record;
    const row = (id: number, timestamp: number, kind: number): EventRow => ({
      id, function_name: block.function_name, stream: block.stream, timestamp, ingestion_time: block.ingestion_time, message: null,
      request_id: requestId, trace_id: traceId, kind, version, duration_ms: durationMs, memory_size: memorySize, memory_used: memoryUsed,
      init_duration_ms: initDurationMs, init_failed: initFailed, status, error_type: errorType,
    });
    events.push(row(startId, startTime, START_EVENT), row(endId, endTime, END_EVENT), row(endId + 1, endTime, REPORT_EVENT));
  }
  return events;
}

/** A block's records as the console lists them. */
export function blockInvocations(block: BlockRow): StoredInvocation[] {
  return (JSON.parse(block.records) as BlockRecord[]).map((record) => ({
    requestId: record[0], functionName: block.function_name, version: record[1], stream: block.stream, startTime: record[4],
    durationMs: record[7], status: record[8], errorType: record[9] ?? undefined, coldStart: record[10] === 1,
    initDurationMs: record[11] ?? undefined, traceId: record[2] ?? undefined,
  }));
}
