/**
 * @module logs/log-writer
 * The thread that writes the log store (`log-store.ts`): it receives batches of queued lines, formats
 * them (START, output, END, REPORT), writes each batch in one transaction and applies the bounds, so
 * that none of that work runs on the server's thread. Also the schema and the bounds, which the store
 * applies once at open. Run as a `worker_threads` entry with `workerData: WriterSettings`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { loadSqlite } from '../deploy/sqlite-module.js';
import type { FunctionLogLevel } from '../runtime/execution-environment.js';
import { endLine, outputLine, reportLine, startLine } from '../runtime/invocation-log.js';
import type { RecordedEnd, RecordedStart } from '../runtime/invocation-recorder.js';

/** CloudWatch's per-event overhead, counted in stored bytes. */
export const EVENT_OVERHEAD_BYTES = 26;
/** CloudWatch's largest event: 256 KB, overhead included. */
export const MAX_EVENT_BYTES = 262_144 - EVENT_OVERHEAD_BYTES;
const DAY_MS = 86_400_000;
/** How often the retention by age is applied. */
const AGE_CHECK_MS = 60_000;

/** What the writer is told at start. */
export interface WriterSettings {
  readonly file: string;
  readonly retentionDays: number;
  readonly maxBytesPerFunction: number;
}

/** Kinds of queued lines: an output line, or the end (END and REPORT). */
export const OUTPUT = 1;
export const END = 2;

/**
 * A queued line, formatted only by the writer: recording costs an object, not a string. The START
 * line is not queued: the writer writes it before the first line of its invocation that it sees.
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

/** Messages to the writer. */
export type WriterRequest =
  | { readonly type: 'write'; readonly batch: readonly PendingLine[]; readonly ack?: number }
  | { readonly type: 'close' };

/** Messages from the writer. */
export type WriterReply =
  | { readonly type: 'written'; readonly ack?: number }
  | { readonly type: 'failed'; readonly message: string; readonly ack?: number }
  | { readonly type: 'closed' };

/** The tables: events, streams, groups (with their stored bytes) and invocation records. */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS log_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
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
`;

/** A position in a function's events, in time order. */
interface Position {
  readonly timestamp: number;
  readonly id: number;
}

/** Writes batches into one database and keeps it within its bounds. */
export class LogWriter {
  private readonly insertEvent: StatementSync;
  private readonly upsertStream: StatementSync;
  private readonly upsertGroup: StatementSync;
  private readonly insertInvocation: StatementSync;
  /** Stored bytes per function, in step with `log_groups`. */
  private readonly bytes = new Map<string, number>();
  private lastAgeCheck = 0;
  /** Invocations whose START is written and whose END is not yet: across batches. */
  private readonly started = new Set<string>();

  constructor(private readonly db: DatabaseSync, private readonly settings: WriterSettings) {
    this.insertEvent = db.prepare('INSERT INTO log_events (function_name, stream, timestamp, ingestion_time, message, bytes, request_id, trace_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.upsertStream = db.prepare(`INSERT INTO log_streams (function_name, name, version, creation_time, first_event, last_event, last_ingestion) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (function_name, name) DO UPDATE SET first_event = min(first_event, excluded.first_event),
        last_event = max(last_event, excluded.last_event), last_ingestion = excluded.last_ingestion`);
    this.upsertGroup = db.prepare(`INSERT INTO log_groups (function_name, creation_time, stored_bytes) VALUES (?, ?, ?)
      ON CONFLICT (function_name) DO UPDATE SET stored_bytes = excluded.stored_bytes`);
    this.insertInvocation = db.prepare(`INSERT INTO invocations (request_id, function_name, version, stream, start_time, duration_ms, status, error_type, cold_start, init_duration_ms, trace_id)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const row of db.prepare('SELECT function_name, stored_bytes FROM log_groups').all() as Array<{ function_name: string; stored_bytes: number }>) {
      this.bytes.set(row.function_name, row.stored_bytes);
    }
  }

  private now(): number {
    return Date.now();
  }

  /** Writes a batch in one transaction, then drops what is past the bounds. */
  write(batch: readonly PendingLine[]): void {
    const touched = new Set<string>();
    const ingestion = this.now();
    const streams = new Map<string, { functionName: string; stream: string; version: string; first: number; last: number }>();
    const startedHere: string[] = [];
    this.db.exec('BEGIN');
    try {
      for (const line of batch) {
        const { start } = line;
        const { functionName, requestId, logStreamName: stream } = start;
        const traceId = start.traceId ?? null;
        const insert = (time: number, message: string) => {
          const text = boundedMessage(message);
          const bytes = Buffer.byteLength(text) + EVENT_OVERHEAD_BYTES;
          // As a BLOB: Node.js 22's node:sqlite cuts a TEXT value at its first NUL, and a function may print one.
          this.insertEvent.run(functionName, stream, time, ingestion, Buffer.from(text), bytes, requestId, traceId);
          this.bytes.set(functionName, (this.bytes.get(functionName) ?? 0) + bytes);
        };
        if (!this.started.has(requestId)) {
          this.started.add(requestId);
          startedHere.push(requestId);
          insert(start.startTime, startLine(requestId, start.version));
        }
        switch (line.kind) {
          case OUTPUT:
            insert(line.time, outputLine(line.time, requestId, line.level, line.text!, line.raw));
            break;
          case END: {
            const end = line.end!;
            this.started.delete(requestId);
            insert(line.time, endLine(requestId));
            insert(line.time, reportLine(requestId, {
              durationMs: end.durationMs, memorySize: end.memorySize, memoryUsedMB: end.memoryUsedMB,
              initDurationMs: end.initFailed ? undefined : end.initDurationMs,
              status: end.status === 'success' ? undefined : end.status, errorType: end.errorType,
            }));
            this.insertInvocation.run(
              requestId, functionName, start.version, stream, start.startTime, end.durationMs, end.status, end.errorType ?? null,
              end.initDurationMs === undefined ? 0 : 1, end.initDurationMs ?? null, traceId,
            );
            break;
          }
        }
        touched.add(functionName);
        const key = `${functionName}\n${stream}`;
        const seen = streams.get(key);
        if (seen === undefined) streams.set(key, { functionName, stream, version: start.version, first: start.startTime, last: line.time });
        else {
          seen.first = Math.min(seen.first, start.startTime);
          seen.last = Math.max(seen.last, line.time);
        }
      }
      for (const seen of streams.values()) {
        this.upsertStream.run(seen.functionName, seen.stream, seen.version, seen.first, seen.first, seen.last, ingestion);
      }
      for (const name of touched) this.upsertGroup.run(name, ingestion, this.bytes.get(name) ?? 0);
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      // The START lines of this batch are not written after all.
      for (const requestId of startedHere) this.started.delete(requestId);
      // The counts were raised for rows that are not there: read them again.
      this.recount([...touched]);
      throw error;
    }
    this.applyBounds([...touched], this.now() - this.lastAgeCheck >= AGE_CHECK_MS);
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
      let freed = 0;
      let last: Position | undefined;
      for (const row of this.db.prepare('SELECT id, timestamp, bytes FROM log_events WHERE function_name = ? ORDER BY timestamp, id').iterate(name) as Iterable<{ id: number; timestamp: number; bytes: number }>) {
        freed += row.bytes;
        last = { timestamp: row.timestamp, id: row.id };
        if (freed >= excess) break;
      }
      if (last !== undefined) this.dropBefore(name, last, true);
    }
  }

  /** Every function with stored events: for the retention at open. */
  functions(): string[] {
    return [...this.bytes.keys()];
  }

  /** Deletes a function's events before `position` (up to it, when `inclusive`), the records of their invocations, and what is left empty. */
  private dropBefore(name: string, position: Position, inclusive: boolean): void {
    const where = inclusive ? 'function_name = ? AND (timestamp < ? OR (timestamp = ? AND id <= ?))' : 'function_name = ? AND timestamp < ?';
    const params = inclusive ? [name, position.timestamp, position.timestamp, position.id] : [name, position.timestamp];
    const { freed } = this.db.prepare(`SELECT COALESCE(SUM(bytes), 0) AS freed FROM log_events WHERE ${where}`).get(...params) as { freed: number };
    if (freed === 0) return;
    const left = (this.bytes.get(name) ?? 0) - freed;
    this.db.exec('BEGIN');
    try {
      // An invocation whose lines are being dropped loses its record with them.
      this.db.prepare(`DELETE FROM invocations WHERE function_name = ? AND request_id IN (SELECT DISTINCT request_id FROM log_events WHERE ${where})`).run(name, ...params);
      this.db.prepare(`DELETE FROM log_events WHERE ${where}`).run(...params);
      this.db.prepare(`DELETE FROM log_streams WHERE function_name = ? AND NOT EXISTS
        (SELECT 1 FROM log_events e WHERE e.function_name = log_streams.function_name AND e.stream = log_streams.name)`).run(name);
      if (left > 0) this.db.prepare('UPDATE log_groups SET stored_bytes = ? WHERE function_name = ?').run(left, name);
      else this.db.prepare('DELETE FROM log_groups WHERE function_name = ?').run(name);
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
    if (left > 0) this.bytes.set(name, left);
    else this.bytes.delete(name);
  }

  private recount(functions: readonly string[]): void {
    for (const name of functions) {
      const { bytes } = this.db.prepare('SELECT COALESCE(SUM(bytes), 0) AS bytes FROM log_events WHERE function_name = ?').get(name) as { bytes: number };
      if (bytes > 0) this.bytes.set(name, bytes);
      else this.bytes.delete(name);
    }
  }
}

/** Opens the database as the writer does: WAL, `synchronous = NORMAL` (a crash of the process loses no written batch). */
export function openLogDatabase(file: string): DatabaseSync {
  const { DatabaseSync } = loadSqlite();
  const db = new DatabaseSync(file);
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA busy_timeout = 5000');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** `message` cut to CloudWatch's largest event. */
function boundedMessage(message: string): string {
  if (message.length * 3 <= MAX_EVENT_BYTES) return message;
  const bytes = Buffer.from(message);
  if (bytes.length <= MAX_EVENT_BYTES) return message;
  // A cut inside a multi-byte character leaves a replacement character, never a broken sequence.
  return bytes.subarray(0, MAX_EVENT_BYTES).toString('utf8').replace(/\uFFFD$/, '');
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
      if (request.batch.length > 0) writer.write(request.batch);
      port.postMessage({ type: 'written', ack: request.ack } satisfies WriterReply);
    } catch (error) {
      port.postMessage({ type: 'failed', message: (error as Error).message, ack: request.ack } satisfies WriterReply);
    }
  });
}
