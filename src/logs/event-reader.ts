/**
 * @module logs/event-reader
 * Reads a function's log events from the two shapes they are stored in: output lines as rows of
 * their own, and invocation records standing for their START, END and REPORT lines (`record-lines.ts`).
 * Each source is read in order from its own index and the three are merged, so that a page stops
 * reading once it is full instead of sorting every record of the function first.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { RecordedStatus } from '../runtime/invocation-recorder.js';
import { END_EVENT, END_LINES, REPORT_EVENT, START_EVENT, START_LINE, STORED_EVENT } from './record-lines.js';

/** A read event: a stored line (`kind` STORED_EVENT), or one of the lines a record stands for, with the record's fields. */
export interface EventRow {
  /** UTF-8 bytes (see the writer); text in a store written before that; null for a record's line. */
  id: number; function_name: string; stream: string; timestamp: number; ingestion_time: number; message: Uint8Array | string | null; request_id: string | null; trace_id: string | null;
  kind: number; version: string | null; duration_ms: number | null; memory_size: number | null; memory_used: number | null;
  init_duration_ms: number | null; init_failed: number | null; status: RecordedStatus | null; error_type: string | null;
}

/** One read of a function's events. */
export interface EventRead {
  readonly functionName: string;
  /** SQL narrowing each source (`AND ...`), given its time and id columns; its `params` are bound for each source. */
  readonly where: (time: string, id: string) => string;
  readonly params: ReadonlyArray<string | number>;
  /** Whether an END or REPORT line is in the read (the SQL reads their record when either may be). */
  readonly within: (timestamp: number, id: number) => boolean;
  /** In id order (a stream's window) rather than time then id order. */
  readonly byId: boolean;
  readonly descending: boolean;
  /** At most this many events. */
  readonly limit?: number;
}

const RECORD_FIELDS = 'version, duration_ms, memory_size, memory_used, init_duration_ms, init_failed, status, error_type';

/** The events of `read`, in its order, read lazily: stop iterating and the rest is not read. */
export function* readEvents(db: DatabaseSync, read: EventRead): Generator<EventRow> {
  const direction = read.descending ? 'DESC' : 'ASC';
  const limit = read.limit === undefined ? '' : ` LIMIT ${read.limit}`;
  const params = [read.functionName, ...read.params];
  const stored = db.prepare(`SELECT id, function_name, stream, timestamp, ingestion_time, message, request_id, trace_id, ${STORED_EVENT} AS kind
    FROM log_events WHERE function_name = ? ${read.where('timestamp', 'id')}
    ORDER BY ${read.byId ? '' : `timestamp ${direction}, `}id ${direction}${limit}`).iterate(...params) as Iterator<EventRow>;
  // In id order, records are read by rowid (their START line's id), not through the time index.
  const starts = db.prepare(`SELECT rowid AS id, function_name, stream, start_time AS timestamp, ingestion_time, request_id, trace_id, ${START_EVENT} AS kind, ${RECORD_FIELDS}
    FROM invocations WHERE ${read.byId ? '+' : ''}function_name = ? AND lines & ${START_LINE} ${read.where('start_time', 'rowid')}
    ORDER BY ${read.byId ? '' : `start_time ${direction}, `}rowid ${direction}${limit}`).iterate(...params) as Iterator<EventRow>;
  // END and REPORT ids follow END times (the writer gives them in the order of the ends, their times never going back):
  // one index serves both orders. A record yields END then REPORT (`end_id + 1`), which no other event comes between.
  const ends = db.prepare(`SELECT end_id AS id, function_name, stream, end_time AS timestamp, ingestion_time, request_id, trace_id, ${END_EVENT} AS kind, ${RECORD_FIELDS}
    FROM invocations WHERE function_name = ? AND lines & ${END_LINES} ${read.where('end_time', read.descending ? 'end_id' : 'end_id + 1')}
    ORDER BY end_time ${direction}, end_id ${direction}${limit}`).iterate(...params) as Iterator<EventRow>;
  const sources = [stored, starts, expandEnds(ends, read)];
  const heads = sources.map((source) => source.next());
  const before = read.byId
    ? (a: EventRow, b: EventRow) => a.id < b.id
    : (a: EventRow, b: EventRow) => a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.id < b.id);
  let count = 0;
  try {
    while (read.limit === undefined || count < read.limit) {
      let next = -1;
      for (let index = 0; index < heads.length; index++) {
        const head = heads[index]!;
        if (head.done) continue;
        const current = next < 0 ? undefined : (heads[next]!.value as EventRow);
        if (current === undefined || (read.descending ? before(current, head.value) : before(head.value, current))) next = index;
      }
      if (next < 0) return;
      yield heads[next]!.value as EventRow;
      count++;
      heads[next] = sources[next]!.next();
    }
  } finally {
    // An unfinished statement would keep its read open.
    for (const source of sources) source.return?.(undefined);
  }
}

/** Each record's END and REPORT lines, in the read's order, those within it. */
function* expandEnds(records: Iterator<EventRow>, read: EventRead): Generator<EventRow> {
  try {
    for (let next = records.next(); !next.done; next = records.next()) {
      const end = next.value;
      const report = { ...end, id: end.id + 1, kind: REPORT_EVENT };
      for (const row of read.descending ? [report, end] : [end, report]) {
        if (read.within(row.timestamp, row.id)) yield row;
      }
    }
  } finally {
    records.return?.(undefined);
  }
}
