/**
 * @module logs/log-writer
 * The thread that writes the log store (`log-store.ts`): it receives batches of queued lines, writes
 * each batch in one transaction and applies the bounds, so that none of that work runs on the server's
 * thread. An invocation is a record, which stands for its START, END and REPORT lines
 * (`record-lines.ts`): a row of its own when the invocation spans batches, else one of its stream's
 * block for the batch (`record-blocks.ts`); only its output lines are rows of their own. Also the
 * schema, its migration and the bounds, which the store applies once at open. Run as a
 * `worker_threads` entry with `workerData: WriterSettings`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { loadSqlite } from '../deploy/sqlite-module.js';
import { endLine, outputLine, reportLine, startLine } from '../runtime/invocation-log.js';
import type { RecordedEnd, RecordedStart } from '../runtime/invocation-recorder.js';
import { OUTPUT, readLineBatch, type LineBatch, type PendingLine } from './line-batch.js';
import { BlockBuilder, RECORD_BLOCKS_SCHEMA } from './record-blocks.js';
import { boundedMessage, END_LINES, eventBytes, START_LINE } from './record-lines.js';

export { EVENT_OVERHEAD_BYTES, MAX_EVENT_BYTES } from './record-lines.js';
const DAY_MS = 86_400_000;
/** How often the retention by age is applied. */
const AGE_CHECK_MS = 60_000;

/** What the writer is told at start. */
export interface WriterSettings {
  readonly file: string;
  readonly retentionDays: number;
  readonly maxBytesPerFunction: number;
}

/** Messages to the writer. */
export type WriterRequest =
  | { readonly type: 'write'; readonly batch: LineBatch; readonly ack?: number }
  | { readonly type: 'close' };

/** Messages from the writer. */
export type WriterReply =
  | { readonly type: 'written'; readonly ack?: number }
  | { readonly type: 'failed'; readonly message: string; readonly ack?: number }
  | { readonly type: 'closed' };

/** The tables: stored lines, streams, groups (with their stored bytes), invocation records and the sequence of event ids. */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS log_events (
  id INTEGER PRIMARY KEY,
  function_name TEXT NOT NULL,
  stream TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  ingestion_time INTEGER NOT NULL,
  message TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  request_id TEXT,
  trace_id TEXT
);
CREATE INDEX IF NOT EXISTS log_events_by_time ON log_events (function_name, timestamp);
CREATE INDEX IF NOT EXISTS log_events_by_stream ON log_events (function_name, stream);
CREATE TABLE IF NOT EXISTS log_streams (
  function_name TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  first_event INTEGER NOT NULL,
  last_event INTEGER NOT NULL,
  last_ingestion INTEGER NOT NULL,
  PRIMARY KEY (function_name, name)
);
CREATE TABLE IF NOT EXISTS log_groups (
  function_name TEXT PRIMARY KEY,
  creation_time INTEGER NOT NULL,
  stored_bytes INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS invocations (
  request_id TEXT NOT NULL,
  function_name TEXT NOT NULL,
  version TEXT NOT NULL,
  stream TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  duration_ms REAL NOT NULL,
  status TEXT NOT NULL,
  error_type TEXT,
  cold_start INTEGER NOT NULL,
  init_duration_ms REAL,
  trace_id TEXT
);
CREATE INDEX IF NOT EXISTS invocations_by_time ON invocations (function_name, start_time);
CREATE TABLE IF NOT EXISTS log_sequence (next INTEGER NOT NULL);
${RECORD_BLOCKS_SCHEMA}`;

/**
 * Records that stand for their END and REPORT lines only (their START went past a bound while they ran): few, and the
 * bound looks for them at every pruning. Without this index it walked every record of the function to find none.
 */
const ENDS_ONLY_INDEX = `CREATE INDEX IF NOT EXISTS invocations_ends_only ON invocations (function_name, end_time, end_id) WHERE lines = ${END_LINES}`;

/**
 * The columns by which a record stands for its lines, added to a store written before (whose records have
 * `lines` 0: their lines are all rows). The record's rowid is its START line's event id; REPORT's is `end_id + 1`.
 */
const RECORD_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['lines', 'INTEGER NOT NULL DEFAULT 0'],
  ['end_id', 'INTEGER'],
  ['end_time', 'INTEGER'],
  ['memory_size', 'INTEGER'],
  ['memory_used', 'REAL'],
  ['init_failed', 'INTEGER'],
  ['ingestion_time', 'INTEGER'],
  ['bytes', 'INTEGER NOT NULL DEFAULT 0'],
];
/** The schema version this code writes (`PRAGMA user_version`): 1, one row per invocation. */
const SCHEMA_VERSION = 1;

/** Creates the tables, or brings those of an earlier version up to this one. */
export function prepareLogDatabase(db: DatabaseSync): void {
  db.exec(SCHEMA);
  const { user_version: version } = db.prepare('PRAGMA user_version').get() as { user_version: number };
  if (version >= SCHEMA_VERSION && db.prepare('SELECT 1 FROM log_sequence').get() !== undefined) {
    db.exec(ENDS_ONLY_INDEX);
    return;
  }
  db.exec('BEGIN');
  try {
    const present = new Set((db.prepare('PRAGMA table_info(invocations)').all() as Array<{ name: string }>).map((column) => column.name));
    for (const [name, type] of RECORD_COLUMNS) {
      if (!present.has(name)) db.exec(`ALTER TABLE invocations ADD COLUMN ${name} ${type}`);
    }
    db.exec('CREATE INDEX IF NOT EXISTS invocations_by_end ON invocations (function_name, end_time, end_id)');
    db.exec(ENDS_ONLY_INDEX);
    // Event ids go on from every id ever given: a paging token never points at a new event.
    const hasSequence = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get() !== undefined;
    const { next } = db.prepare(`SELECT 1 + max(
        COALESCE((SELECT max(id) FROM log_events), 0), ${hasSequence ? "COALESCE((SELECT max(seq) FROM sqlite_sequence WHERE name = 'log_events'), 0)" : '0'},
        COALESCE((SELECT max(rowid) FROM invocations), 0), COALESCE((SELECT max(end_id) + 1 FROM invocations), 0)) AS next`).get() as { next: number };
    db.exec('DELETE FROM log_sequence');
    db.prepare('INSERT INTO log_sequence (next) VALUES (?)').run(next);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** A function's stream written in a batch: its range of times, and the block of the records that start and end in it. */
interface BatchStream {
  readonly functionName: string;
  readonly stream: string;
  readonly version: string;
  first: number;
  last: number;
  block: BlockBuilder | undefined;
}

/** A position in a function's events, in time order. */
interface Position {
  readonly timestamp: number;
  readonly id: number;
}

/** An invocation whose start the writer has seen and whose end not yet: across batches. */
interface Started {
  readonly start: RecordedStart;
  /** Its START line's event id, which is its record's rowid. */
  readonly id: number;
  /** Whether its record is written yet (standing for START only until the end). */
  stored: boolean;
}

/** Writes batches into one database and keeps it within its bounds. */
export class LogWriter {
  private readonly insertEvent: StatementSync;
  private readonly upsertStream: StatementSync;
  private readonly upsertGroup: StatementSync;
  private readonly insertRecord: StatementSync;
  private readonly insertBlock: StatementSync;
  private readonly updateRecord: StatementSync;
  private readonly saveSequence: StatementSync;
  private readonly pruneCutoff: StatementSync;
  private readonly selectEmptiable: StatementSync;
  /** Stored bytes per function, in step with `log_groups`. */
  private readonly bytes = new Map<string, number>();
  /** The bounds' statements, prepared once (`prepared`). */
  private readonly statements = new Map<string, StatementSync>();
  private lastAgeCheck = 0;
  private readonly started = new Map<string, Started>();
  /** The last END time written per function. */
  private readonly lastEnd = new Map<string, number>();
  /** The next event id to give. */
  private next: number;
  /** Whether records of a store written before are left (their lines are rows: they go with them). */
  private readonly legacyRecords: boolean;

  constructor(private readonly db: DatabaseSync, private readonly settings: WriterSettings) {
    this.insertEvent = db.prepare('INSERT INTO log_events (id, function_name, stream, timestamp, ingestion_time, message, bytes, request_id, trace_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    this.upsertStream = db.prepare(`INSERT INTO log_streams (function_name, name, version, creation_time, first_event, last_event, last_ingestion) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (function_name, name) DO UPDATE SET first_event = min(first_event, excluded.first_event),
        last_event = max(last_event, excluded.last_event), last_ingestion = excluded.last_ingestion`);
    this.upsertGroup = db.prepare(`INSERT INTO log_groups (function_name, creation_time, stored_bytes) VALUES (?, ?, ?)
      ON CONFLICT (function_name) DO UPDATE SET stored_bytes = excluded.stored_bytes`);
    this.insertRecord = db.prepare(`INSERT INTO invocations (rowid, request_id, function_name, version, stream, start_time, duration_ms, status, error_type, cold_start,
      init_duration_ms, trace_id, lines, end_id, end_time, memory_size, memory_used, init_failed, ingestion_time, bytes)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.insertBlock = db.prepare(`INSERT INTO record_blocks (function_name, stream, first_time, last_time, first_id, last_id, ingestion_time, bytes, records)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.updateRecord = db.prepare(`UPDATE invocations SET duration_ms = ?, status = ?, error_type = ?, cold_start = ?, init_duration_ms = ?, lines = lines | ${END_LINES},
      end_id = ?, end_time = ?, memory_size = ?, memory_used = ?, init_failed = ?, ingestion_time = ?, bytes = bytes + ? WHERE rowid = ?`);
    this.saveSequence = db.prepare('UPDATE log_sequence SET next = ?');
    this.pruneCutoff = db.prepare(PRUNE_CUTOFF);
    this.selectEmptiable = db.prepare('SELECT name AS stream FROM log_streams WHERE function_name = ? AND last_event <= ?');
    this.reloadBytes();
    this.next = (db.prepare('SELECT next FROM log_sequence').get() as { next: number }).next;
    this.legacyRecords = db.prepare('SELECT 1 FROM invocations WHERE lines = 0 LIMIT 1').get() !== undefined;
  }

  private now(): number {
    return Date.now();
  }

  /** Writes a batch and drops what is then past the bounds, in one transaction. */
  write(batch: readonly PendingLine[]): void {
    const touched = new Set<string>();
    const ingestion = this.now();
    const streams = new Map<string, BatchStream>();
    const startedHere: string[] = [];
    this.db.exec('BEGIN');
    try {
      for (const line of batch) {
        const { start } = line;
        const { functionName, requestId, logStreamName: stream } = start;
        let started = this.started.get(requestId);
        if (started === undefined) {
          // Its START line's id comes before those of its output.
          started = { start, id: this.next++, stored: false };
          this.started.set(requestId, started);
          startedHere.push(requestId);
        }
        const time = line.kind === OUTPUT ? line.time : this.endTime(functionName, line.time);
        const key = `${functionName}\n${stream}`;
        let seen = streams.get(key);
        if (seen === undefined) {
          seen = { functionName, stream, version: start.version, first: start.startTime, last: time, block: undefined };
          streams.set(key, seen);
        } else {
          seen.first = Math.min(seen.first, start.startTime);
          seen.last = Math.max(seen.last, time);
        }
        if (line.kind === OUTPUT) {
          const text = boundedMessage(outputLine(line.time, requestId, line.level, line.text!, line.raw));
          const bytes = eventBytes(text);
          // As a BLOB: Node.js 22's node:sqlite cuts a TEXT value at its first NUL, and a function may print one.
          this.insertEvent.run(this.next++, functionName, stream, line.time, ingestion, Buffer.from(text), bytes, requestId, start.traceId ?? null);
          this.addBytes(functionName, bytes);
        } else {
          this.started.delete(requestId);
          this.writeEnd(started, time, line.end!, ingestion, seen);
        }
        touched.add(functionName);
      }
      // Invocations still running: their record, standing for their START line, is read before their output.
      for (const requestId of startedHere) {
        const started = this.started.get(requestId);
        if (started === undefined) continue;
        const { start } = started;
        const bytes = eventBytes(boundedMessage(startLine(requestId, start.version)));
        this.insertRecord.run(
          started.id, requestId, start.functionName, start.version, start.logStreamName, start.startTime, 0, 'success', null, 0,
          null, start.traceId ?? null, START_LINE, null, null, null, null, null, ingestion, bytes,
        );
        started.stored = true;
        this.addBytes(start.functionName, bytes);
      }
      this.saveSequence.run(this.next);
      for (const seen of streams.values()) {
        this.upsertStream.run(seen.functionName, seen.stream, seen.version, seen.first, seen.first, seen.last, ingestion);
        const { block } = seen;
        if (block !== undefined) {
          this.insertBlock.run(seen.functionName, seen.stream, block.firstTime, block.lastTime, block.firstId, block.lastId, ingestion, block.bytes, JSON.stringify(block.records));
        }
      }
      for (const name of touched) this.upsertGroup.run(name, ingestion, this.bytes.get(name) ?? 0);
      this.applyBounds([...touched], this.now() - this.lastAgeCheck >= AGE_CHECK_MS);
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      // The records of this batch are not written after all.
      for (const requestId of startedHere) this.started.delete(requestId);
      // The counts moved with rows written or dropped that are not: read them again.
      this.reloadBytes();
      throw error;
    }
  }

  /**
   * The time of an END line: never before the function's last one (a clock set back), so that END ids, given
   * in the order of the ends, also follow END times, which lets the reads use one index for both orders.
   */
  private endTime(functionName: string, time: number): number {
    let last = this.lastEnd.get(functionName);
    if (last === undefined) {
      last = (this.db.prepare(`SELECT max(COALESCE((SELECT max(end_time) FROM invocations WHERE function_name = ?1), 0),
        COALESCE((SELECT max(last_time) FROM record_blocks WHERE function_name = ?1), 0)) AS last`).get(functionName) as { last: number }).last;
    }
    const end = Math.max(time, last);
    this.lastEnd.set(functionName, end);
    return end;
  }

  /**
   * Writes the record of an invocation that ended: it then stands for its START, END and REPORT lines. One whose START
   * is of this batch too goes into the batch's block of its stream (`record-blocks.ts`).
   */
  private writeEnd(started: Started, time: number, end: RecordedEnd, ingestion: number, seen: BatchStream): void {
    const { start } = started;
    const { requestId } = start;
    const endId = this.next;
    this.next += 2;
    const errorType = end.errorType ?? null;
    const coldStart = end.initDurationMs === undefined ? 0 : 1;
    const initDuration = end.initDurationMs ?? null;
    const initFailed = end.initFailed ? 1 : 0;
    const endBytes = eventBytes(boundedMessage(endLine(requestId))) + eventBytes(boundedMessage(reportLine(requestId, {
      durationMs: end.durationMs, memorySize: end.memorySize, memoryUsedMB: end.memoryUsedMB,
      initDurationMs: end.initFailed ? undefined : end.initDurationMs,
      status: end.status === 'success' ? undefined : end.status, errorType: end.errorType,
    })));
    if (started.stored) {
      const { changes } = this.updateRecord.run(
        end.durationMs, end.status, errorType, coldStart, initDuration, endId, time, end.memorySize, end.memoryUsedMB, initFailed, ingestion, endBytes, started.id,
      );
      if (changes > 0) {
        this.addBytes(start.functionName, endBytes);
        return;
      }
      // Its record (its START line) went past a bound while it ran: its END and REPORT lines are new, and kept.
      this.insertRecord.run(
        started.id, requestId, start.functionName, start.version, start.logStreamName, start.startTime, end.durationMs, end.status, errorType, coldStart,
        initDuration, start.traceId ?? null, END_LINES, endId, time, end.memorySize, end.memoryUsedMB, initFailed, ingestion, endBytes,
      );
      this.addBytes(start.functionName, endBytes);
      return;
    }
    const bytes = eventBytes(boundedMessage(startLine(requestId, start.version))) + endBytes;
    (seen.block ??= new BlockBuilder()).add([
      requestId, start.version, start.traceId ?? null, started.id, start.startTime, endId, time, end.durationMs, end.status, errorType, coldStart,
      initDuration, end.memorySize, end.memoryUsedMB, initFailed, bytes,
    ]);
    this.addBytes(start.functionName, bytes);
  }

  private addBytes(functionName: string, bytes: number): void {
    this.bytes.set(functionName, (this.bytes.get(functionName) ?? 0) + bytes);
  }

  /** Drops what is past the bounds for these functions; `byAge` applies the retention to every function too. */
  applyBounds(functions: readonly string[], byAge: boolean): void {
    if (byAge) {
      this.lastAgeCheck = this.now();
      const cutoff = this.now() - this.settings.retentionDays * DAY_MS;
      for (const name of [...this.bytes.keys()]) this.dropBefore(name, { timestamp: cutoff, id: -1 }, false);
    }
    const max = this.settings.maxBytesPerFunction;
    for (const name of functions) {
      const stored = this.bytes.get(name) ?? 0;
      if (stored <= max) continue;
      // Down to 90%: a function logging steadily is pruned every few batches, not at every one.
      const excess = stored - Math.floor(max * 0.9);
      const cutoff = this.pruneCutoff.get(name, excess) as { timestamp: number; id: number; freed: number } | undefined;
      // The count says more than the rows weigh (it never should): they all go.
      if (cutoff === undefined) this.dropBefore(name, { timestamp: Number.MAX_SAFE_INTEGER, id: -1 }, false);
      else this.dropBefore(name, cutoff, true, cutoff.freed);
    }
  }

  /** Every function with stored events: for the retention at open. */
  functions(): string[] {
    return [...this.bytes.keys()];
  }

  /**
   * Deletes a function's events before `position` (up to it, when `inclusive`), the records of their invocations, and what is
   * left empty; `known`: the bytes that frees, when the caller has weighed them.
   */
  private dropBefore(name: string, position: Position, inclusive: boolean, known?: number): void {
    const at = inclusive ? [position.timestamp, position.timestamp, position.id] : [position.timestamp];
    const { lines, records, blocks } = droppedRows(inclusive);
    const params = [name, ...at];
    const recordParams = [name, ...at, ...at];
    const freed = known ?? (this.prepared(`SELECT COALESCE((SELECT SUM(bytes) FROM log_events WHERE ${lines}), 0)
      + COALESCE((SELECT SUM(bytes) FROM invocations WHERE ${records}), 0)
      + COALESCE((SELECT SUM(bytes) FROM record_blocks WHERE ${blocks}), 0) AS freed`).get(...params, ...recordParams, ...params) as { freed: number }).freed;
    if (freed === 0) return;
    const left = (this.bytes.get(name) ?? 0) - freed;
    // Within a batch's transaction, the drop commits with it: one commit, whose pages are written once.
    const own = !this.db.isTransaction;
    if (own) this.db.exec('BEGIN');
    try {
      // A stream's last event is at its `last_event`: only one at or before the position can be left empty. Those are
      // few and indexed, where the streams of the rows dropped took a walk of every one of them.
      const emptiable = this.selectEmptiable.all(name, position.timestamp) as Array<{ stream: string }>;
      // A record of a store written before goes as soon as one of its lines goes.
      if (this.legacyRecords) {
        this.prepared(`DELETE FROM invocations WHERE function_name = ? AND lines = 0 AND request_id IN (SELECT DISTINCT request_id FROM log_events WHERE ${lines})`).run(name, ...params);
      }
      this.prepared(`DELETE FROM invocations WHERE ${records}`).run(...recordParams);
      this.prepared(`DELETE FROM log_events WHERE ${lines}`).run(...params);
      this.prepared(`DELETE FROM record_blocks WHERE ${blocks}`).run(...params);
      const dropStream = this.prepared(`DELETE FROM log_streams WHERE function_name = ?1 AND name = ?2
        AND NOT EXISTS (SELECT 1 FROM log_events WHERE function_name = ?1 AND stream = ?2)
        AND NOT EXISTS (SELECT 1 FROM invocations WHERE function_name = ?1 AND stream = ?2 AND lines != 0)
        AND NOT EXISTS (SELECT 1 FROM record_blocks WHERE function_name = ?1 AND stream = ?2)`);
      for (const { stream } of emptiable) dropStream.run(name, stream);
      if (left > 0) this.prepared('UPDATE log_groups SET stored_bytes = ? WHERE function_name = ?').run(left, name);
      else this.prepared('DELETE FROM log_groups WHERE function_name = ?').run(name);
      if (own) this.db.exec('COMMIT');
    } catch (error) {
      if (own && this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
    if (left > 0) this.bytes.set(name, left);
    else this.bytes.delete(name);
  }

  /** Reads the stored bytes again from `log_groups`, in step with the rows at the last commit: after a rollback. */
  private reloadBytes(): void {
    this.bytes.clear();
    for (const row of this.prepared('SELECT function_name, stored_bytes FROM log_groups').all() as Array<{ function_name: string; stored_bytes: number }>) {
      this.bytes.set(row.function_name, row.stored_bytes);
    }
  }

  /** A statement prepared once: the bounds' statements vary with their position's shape only. */
  private prepared(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/**
 * The SQL conditions of what a drop up to a position takes: stored lines, records (which go with the first line they
 * stand for) and blocks of records (which go with their last). Bound: the function's name, then the position (`timestamp,
 * timestamp, id` when `inclusive`, else `timestamp`), once for `lines` and `blocks` and twice for `records`. Each term is a range on its index's time column plus a filter, so SQLite walks
 * each index from its oldest entry up to the position: the same rows as `time < ? OR (time = ? AND id <= ?)`, which it
 * could only test on every row of the function.
 */
export function droppedRows(inclusive: boolean): { readonly lines: string; readonly records: string; readonly blocks: string } {
  const before = (time: string, id: string) => (inclusive ? `(${time} <= ? AND (${time} < ? OR ${id} <= ?))` : `${time} < ?`);
  return {
    lines: `function_name = ? AND ${before('timestamp', 'id')}`,
    records: `function_name = ? AND ((lines & ${START_LINE} AND ${before('start_time', 'rowid')}) OR (lines = ${END_LINES} AND ${before('end_time', 'end_id')}))`,
    blocks: `function_name = ? AND ${before('last_time', 'last_id')}`,
  };
}

/**
 * Where pruning a function stops: the first position at which its rows, oldest first, weigh at least the bytes to free
 * (`?2`), with what they weigh (`freed`). A record weighs all its lines and goes with the first of them: its START line, or
 * its END line when it stands for no START. A block weighs all its records and goes with its last line (it never takes a
 * line newer than the position). SQLite merges the four index walks and stops at that row.
 */
export const PRUNE_CUTOFF = `SELECT timestamp, id, running AS freed FROM (
    SELECT timestamp, id, SUM(bytes) OVER (ORDER BY timestamp, id ROWS UNBOUNDED PRECEDING) AS running FROM (
      SELECT timestamp, id, bytes FROM log_events WHERE function_name = ?1
      UNION ALL SELECT start_time, rowid, bytes FROM invocations WHERE function_name = ?1 AND lines & ${START_LINE}
      UNION ALL SELECT end_time, end_id, bytes FROM invocations WHERE function_name = ?1 AND lines = ${END_LINES}
      UNION ALL SELECT last_time, last_id, bytes FROM record_blocks WHERE function_name = ?1))
  WHERE running >= ?2 LIMIT 1`;

/** Opens the database as the writer does: WAL, `synchronous = NORMAL` (a crash of the process loses no written batch). */
export function openLogDatabase(file: string): DatabaseSync {
  const { DatabaseSync } = loadSqlite();
  const db = new DatabaseSync(file);
  try {
    // A new store's pages are 16 KB, not 4: a batch's commit writes a quarter as many frames to the WAL, each a write call
    // (about 1 µs of the writer's time per invocation less, measured). A store written before keeps its size.
    db.exec('PRAGMA page_size = 16384');
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA busy_timeout = 5000');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

// As a worker thread: write what the store sends, answer each acknowledged batch.
if (parentPort !== null && (workerData as { logWriter?: WriterSettings } | undefined)?.logWriter !== undefined) {
  const port = parentPort;
  const settings = (workerData as { logWriter: WriterSettings }).logWriter;
  const db = openLogDatabase(settings.file);
  const writer = new LogWriter(db, settings);
  port.on('message', (request: WriterRequest) => {
    if (request.type === 'close') {
      db.close();
      port.postMessage({ type: 'closed' } satisfies WriterReply);
      port.close();
      return;
    }
    try {
      if (request.batch.length > 0) writer.write(readLineBatch(request.batch));
      port.postMessage({ type: 'written', ack: request.ack } satisfies WriterReply);
    } catch (error) {
      port.postMessage({ type: 'failed', message: (error as Error).message, ack: request.ack } satisfies WriterReply);
    }
  });
}
