/**
 * @module logs/event-reader
 * Reads a function's log events from the three shapes they are stored in: output lines as rows of
 * their own, invocation records standing for their START, END and REPORT lines (`record-lines.ts`),
 * and blocks of such records (`record-blocks.ts`). Each source is read in order (blocks in the order
 * of their bounds) and they are merged, so that a page stops reading once it is full instead of
 * sorting every record of the function first.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { RecordedStatus } from '../runtime/invocation-recorder.js';
import { mergeBlocks, mergeSources } from './ordered-merge.js';
import { BLOCK_COLUMNS, blockEvents, type BlockRow } from './record-blocks.js';
import { END_EVENT, END_LINES, REPORT_EVENT, START_EVENT, START_LINE, STORED_EVENT } from './record-lines.js';

/** A read event: a stored line (`kind` STORED_EVENT), or one of the lines a record stands for, with the record's fields. */
export interface EventRow {
  /** UTF-8 bytes (see the writer); text in a store written before that; null for a record's line. */
  id: number; function_name: string; stream: string; timestamp: number; ingestion_time: number; message: Uint8Array | string | null; request_id: string | null; trace_id: string | null;
  kind: number; version: string | null; duration_ms: number | null; memory_size: number | null; memory_used: number | null;
  init_duration_ms: number | null; init_failed: number | null; status: RecordedStatus | null; error_type: string | null;
}

/** One read of a function's events: the conditions every event read meets, and the order. */
export interface EventRead {
  readonly functionName: string;
  readonly stream?: string;
  readonly requestId?: string;
  readonly traceId?: string;
  /** Inclusive, milliseconds. */
  readonly startTime: number;
  /** Inclusive, milliseconds. */
  readonly endTime: number;
  /** Events after this position in time then id order (a page's token); `startTime` is then at least its time. */
  readonly after?: { readonly timestamp: number; readonly id: number };
  readonly afterId?: number;
  readonly beforeId?: number;
  /** In id order (a stream's window) rather than time then id order. */
  readonly byId: boolean;
  readonly descending: boolean;
  /** At most this many events. */
  readonly limit?: number;
}

const RECORD_FIELDS = 'version, duration_ms, memory_size, memory_used, init_duration_ms, init_failed, status, error_type';

/** The SQL narrowing a source of `read` (`AND ...`), given its time and id columns, and its parameters. */
function conditions(read: EventRead, time: string, id: string): { sql: string; params: Array<string | number> } {
  let sql = `AND ${time} >= ? AND ${time} <= ?`;
  const params: Array<string | number> = [read.startTime, read.endTime];
  if (read.stream !== undefined) (sql += ' AND stream = ?'), params.push(read.stream);
  if (read.requestId !== undefined) (sql += ' AND request_id = ?'), params.push(read.requestId);
  if (read.traceId !== undefined) (sql += ' AND trace_id = ?'), params.push(read.traceId);
  if (read.after !== undefined) (sql += ` AND (${time} > ? OR ${id} > ?)`), params.push(read.after.timestamp, read.after.id);
  if (read.afterId !== undefined) (sql += ` AND ${id} > ?`), params.push(read.afterId);
  if (read.beforeId !== undefined) (sql += ` AND ${id} < ?`), params.push(read.beforeId);
  return { sql, params };
}

/** Whether an event meets the conditions of `read`: for the lines of records, which SQL selects by their record. */
function meets(read: EventRead, row: EventRow): boolean {
  return row.timestamp >= read.startTime && row.timestamp <= read.endTime
    && (read.stream === undefined || row.stream === read.stream)
    && (read.requestId === undefined || row.request_id === read.requestId)
    && (read.traceId === undefined || row.trace_id === read.traceId)
    && (read.after === undefined || row.timestamp > read.after.timestamp || row.id > read.after.id)
    && (read.afterId === undefined || row.id > read.afterId)
    && (read.beforeId === undefined || row.id < read.beforeId);
}

/** The events of `read`, in its order, read lazily: stop iterating and the rest is not read. */
export function* readEvents(db: DatabaseSync, read: EventRead): Generator<EventRow> {
  const direction = read.descending ? 'DESC' : 'ASC';
  const limit = read.limit === undefined ? '' : ` LIMIT ${read.limit}`;
  const statement = (sql: string, where: { sql: string; params: Array<string | number> }) =>
    db.prepare(sql.replace('$where', where.sql)).iterate(read.functionName, ...where.params) as Iterator<EventRow>;
  const stored = statement(`SELECT id, function_name, stream, timestamp, ingestion_time, message, request_id, trace_id, ${STORED_EVENT} AS kind
    FROM log_events WHERE function_name = ? $where
    ORDER BY ${read.byId ? '' : `timestamp ${direction}, `}id ${direction}${limit}`, conditions(read, 'timestamp', 'id'));
  // In id order, records are read by rowid (their START line's id), not through the time index.
  const starts = statement(`SELECT rowid AS id, function_name, stream, start_time AS timestamp, ingestion_time, request_id, trace_id, ${START_EVENT} AS kind, ${RECORD_FIELDS}
    FROM invocations WHERE ${read.byId ? '+' : ''}function_name = ? AND lines & ${START_LINE} $where
    ORDER BY ${read.byId ? '' : `start_time ${direction}, `}rowid ${direction}${limit}`, conditions(read, 'start_time', 'rowid'));
  // END and REPORT ids follow END times (the writer gives them in the order of the ends, their times never going back):
  // one index serves both orders. A record yields END then REPORT (`end_id + 1`), which no other event comes between.
  const ends = statement(`SELECT end_id AS id, function_name, stream, end_time AS timestamp, ingestion_time, request_id, trace_id, ${END_EVENT} AS kind, ${RECORD_FIELDS}
    FROM invocations WHERE function_name = ? AND lines & ${END_LINES} $where
    ORDER BY end_time ${direction}, end_id ${direction}${limit}`, conditions(read, 'end_time', read.descending ? 'end_id' : 'end_id + 1'));
  const before = read.byId
    ? (a: EventRow, b: EventRow) => (read.descending ? a.id > b.id : a.id < b.id)
    : read.descending
      ? (a: EventRow, b: EventRow) => a.timestamp > b.timestamp || (a.timestamp === b.timestamp && a.id > b.id)
      : (a: EventRow, b: EventRow) => a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.id < b.id);
  const merged = mergeSources([stored, starts, expandEnds(ends, read), blockSource(db, read, before)], before);
  let count = 0;
  try {
    for (const row of merged) {
      if (read.limit !== undefined && count >= read.limit) return;
      yield row;
      count++;
    }
  } finally {
    merged.return(undefined);
  }
}

/** Each record's END and REPORT lines, in the read's order, those within it. */
function* expandEnds(records: Iterator<EventRow>, read: EventRead): Generator<EventRow> {
  try {
    for (let next = records.next(); !next.done; next = records.next()) {
      const end = next.value;
      const report = { ...end, id: end.id + 1, kind: REPORT_EVENT };
      for (const row of read.descending ? [report, end] : [end, report]) {
        if (meets(read, row)) yield row;
      }
    }
  } finally {
    records.return?.(undefined);
  }
}

/**
 * The lines of the blocks of records that `read` may take, in its order. Blocks are read in the order of the bound of their
 * lines that comes first in the read (the first time, the first id, the last id backwards), and one is opened once the
 * next line to give may not come before it.
 */
function blockSource(db: DatabaseSync, read: EventRead, before: (a: EventRow, b: EventRow) => boolean): Generator<EventRow> {
  // Which block the walk in its order starts at: the first (or last, backwards) that reaches the read's start, found on the
  // other index. A read of the last minute (`aws logs tail`) or a stream's next page then walks the blocks it takes, not
  // every older one of the function. The start's own condition is kept, `+` making it a filter, not the walk's index.
  const order = read.byId ? (read.descending ? 'last_id' : 'first_id') : read.descending ? 'last_time' : 'first_time';
  let sql = `SELECT ${BLOCK_COLUMNS} FROM record_blocks WHERE function_name = ? AND +last_time >= ? AND first_time <= ?`;
  const params: Array<string | number> = [read.functionName, read.startTime, read.endTime];
  const stream = read.stream === undefined ? '' : ' AND stream = ?';
  /** `bound` over the blocks `where` takes; `none` (which lets no block through) when there are none. */
  const start = (bound: string, where: string, value: number, none: number) => {
    const at = (db.prepare(`SELECT ${bound} AS at FROM record_blocks WHERE function_name = ?${stream} AND ${where}`)
      .get(read.functionName, ...(read.stream === undefined ? [] : [read.stream]), value) as { at: number | null }).at;
    return at ?? none;
  };
  if (read.stream !== undefined) (sql += stream), params.push(read.stream);
  if (read.after !== undefined) (sql += ' AND (last_time > ? OR last_id > ?)'), params.push(read.after.timestamp, read.after.id);
  if (read.afterId !== undefined) {
    (sql += ' AND +last_id > ? AND first_id >= ?'), params.push(read.afterId, start('min(first_id)', 'last_id > ?', read.afterId, Number.MAX_SAFE_INTEGER));
  }
  if (read.beforeId !== undefined) {
    (sql += ' AND +first_id < ? AND last_id <= ?'), params.push(read.beforeId, start('max(last_id)', 'first_id < ?', read.beforeId, -1));
  }
  if (!read.byId && !read.descending && read.startTime > 0) {
    (sql += ' AND first_time >= ?'), params.push(start('min(first_time)', 'last_time >= ?', read.startTime, Number.MAX_SAFE_INTEGER));
  }
  const blocks = db.prepare(`${sql} ORDER BY ${order}${read.descending ? ' DESC' : ''}`).iterate(...params) as Iterator<BlockRow>;
  const mayHold = read.byId
    ? read.descending ? (block: BlockRow, row: EventRow) => block.last_id >= row.id : (block: BlockRow, row: EventRow) => block.first_id <= row.id
    : read.descending ? (block: BlockRow, row: EventRow) => block.last_time >= row.timestamp : (block: BlockRow, row: EventRow) => block.first_time <= row.timestamp;
  return mergeBlocks(blocks, (block) => blockEvents(block).filter((row) => meets(read, row)), before, mayHold);
}
