/**
 * @module logs/log-store
 * Every invocation's log (START, the function's output, the platform's lines, END, REPORT) and its
 * summary, kept in the data directory (`logs.db`, SQLite, 0600) and read back by the CloudWatch Logs
 * API. It is the invoker's `InvocationRecorder`: recording only queues; a timer writes the queue in one
 * transaction every `flushIntervalMs` (and at once past `MAX_PENDING_CHARS`, and at `close`). A crash
 * of the server loses at most the lines of the last unwritten batch; a written batch survives a crash
 * of the process (WAL; `synchronous = NORMAL`, so a power cut may lose the last batches too).
 *
 * Bounds, per function: events older than the retention are dropped, and past `maxBytesPerFunction`
 * (bytes counted as CloudWatch does: the message's UTF-8 bytes plus 26) the oldest events are dropped
 * until 90% of it is left. An event longer than CloudWatch's 256 KB is cut to it. Invocation records
 * go with the events of their time. Reads flush the queue first: what an invocation logged before its
 * answer is readable once the answer is out.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { privateDirectory, privateFile, tightenFile } from '../deploy/private-files.js';
import { loadSqlite } from '../deploy/sqlite-module.js';
import type { Logger } from '../log.js';
import type { FunctionLogLevel } from '../runtime/execution-environment.js';
import { endLine, outputLine, reportLine, startLine } from '../runtime/invocation-log.js';
import type { InvocationRecorder, RecordedEnd, RecordedStart, RecordedStatus, RecordingHandle } from '../runtime/invocation-recorder.js';

/** The file of the store in the data directory. */
export const LOG_STORE_FILE = 'logs.db';
/** CloudWatch's per-event overhead, counted in stored bytes. */
export const EVENT_OVERHEAD_BYTES = 26;
/** CloudWatch's largest event: 256 KB, overhead included. */
export const MAX_EVENT_BYTES = 262_144 - EVENT_OVERHEAD_BYTES;
/** Characters queued before a write is started without waiting for the timer. */
const MAX_PENDING_CHARS = 4 * 1024 * 1024;
const DAY_MS = 86_400_000;
/** How often the retention by age is applied. */
const AGE_CHECK_MS = 60_000;

/** How a store is set up. */
export interface LogStoreOptions {
  readonly dataDir: string;
  /** Days events are kept (fractions allowed). */
  readonly retentionDays: number;
  /** Bytes of events kept per function; 0 keeps none. */
  readonly maxBytesPerFunction: number;
  /** Milliseconds between writes of the queue; default 200. */
  readonly flushIntervalMs?: number;
  /** Where a failed write is reported. */
  readonly logger?: Logger;
  /** The clock, in milliseconds since the epoch; for tests. */
  readonly now?: () => number;
}

/** One stored log event. */
export interface StoredEvent {
  /** Unique and increasing in the store: the `eventId`. */
  readonly id: number;
  readonly functionName: string;
  readonly stream: string;
  readonly timestamp: number;
  readonly ingestionTime: number;
  readonly message: string;
  readonly requestId: string | undefined;
  readonly traceId: string | undefined;
}

/** One stored log stream (an execution environment's). */
export interface StoredStream {
  readonly name: string;
  readonly version: string;
  readonly creationTime: number;
  readonly firstEventTimestamp: number;
  readonly lastEventTimestamp: number;
  readonly lastIngestionTime: number;
}

/** One stored log group (a function's). */
export interface StoredGroup {
  readonly functionName: string;
  readonly creationTime: number;
  readonly storedBytes: number;
}

/** One invocation's record: what a console lists, each opening its log. */
export interface StoredInvocation {
  readonly requestId: string;
  readonly functionName: string;
  readonly version: string;
  readonly stream: string;
  readonly startTime: number;
  readonly durationMs: number;
  readonly status: RecordedStatus;
  readonly errorType: string | undefined;
  readonly coldStart: boolean;
  readonly initDurationMs: number | undefined;
  readonly traceId: string | undefined;
}

/** A position in a function's events in time order: FilterLogEvents' `nextToken`. */
export interface EventPosition {
  readonly timestamp: number;
  readonly id: number;
}

/** What FilterLogEvents reads. */
export interface EventQuery {
  readonly functionName: string;
  readonly streams?: ReadonlySet<string>;
  readonly streamPrefix?: string;
  /** Inclusive, milliseconds. */
  readonly startTime?: number;
  /** Inclusive, milliseconds. */
  readonly endTime?: number;
  readonly traceId?: string;
  readonly matches: (message: string) => boolean;
  /** Continue after this event. */
  readonly after?: EventPosition;
  readonly limit: number;
  /** Stop once the messages reach this many bytes. */
  readonly maxBytes: number;
  /** Stop after examining this many events, matching or not (the page then may be empty, with `next`). */
  readonly maxScanned: number;
}

/** A page of events in time order; `next` when more may follow. */
export interface EventPage {
  readonly events: StoredEvent[];
  readonly next?: EventPosition;
}

/** What GetLogEvents reads: a window of one stream in id order, exclusive bounds. */
export interface StreamQuery {
  readonly functionName: string;
  readonly stream: string;
  readonly startTime?: number;
  readonly endTime?: number;
  /** Events with an id above this one, oldest first... */
  readonly afterId?: number;
  /** ...or the newest events with an id below this one. */
  readonly beforeId?: number;
  readonly limit: number;
  readonly maxBytes: number;
}

const SCHEMA = `
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
CREATE TABLE IF NOT EXISTS invocations (
  request_id TEXT PRIMARY KEY,
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

interface EventRow {
  id: number; function_name: string; stream: string; timestamp: number; ingestion_time: number; message: string; request_id: string | null; trace_id: string | null;
}

/** An invocation being recorded: its start and the stream of its environment. */
class Recording implements RecordingHandle {
  constructor(readonly start: RecordedStart, readonly stream: string) {}
}

const START = 0;
const OUTPUT = 1;
const END = 2;

/** A queued line, formatted only when written: recording costs an object, not a string. */
interface PendingLine {
  readonly recording: Recording;
  readonly kind: typeof START | typeof OUTPUT | typeof END;
  readonly time: number;
  readonly level?: FunctionLogLevel;
  readonly text?: string;
  readonly raw?: string;
  readonly end?: RecordedEnd;
}

type Statement = 'insertEvent' | 'upsertStream' | 'insertInvocation';

/** The stored logs of one data directory. */
export class LogStore implements InvocationRecorder {
  private readonly db: DatabaseSync;
  private readonly statements: Record<Statement, StatementSync>;
  private readonly now: () => number;
  /** Stored bytes per function, kept in step with every write and deletion. */
  private readonly bytes = new Map<string, number>();
  private pending: PendingLine[] = [];
  private pendingChars = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private lastAgeCheck = 0;
  private open = true;

  constructor(private readonly options: LogStoreOptions) {
    this.now = options.now ?? Date.now;
    const file = join(options.dataDir, LOG_STORE_FILE);
    const { DatabaseSync } = loadSqlite();
    privateDirectory(options.dataDir);
    let db: DatabaseSync | undefined;
    try {
      privateFile(file);
      for (const companion of [`${file}-wal`, `${file}-shm`, `${file}-journal`]) tightenFile(companion);
      db = new DatabaseSync(file);
      db.exec('PRAGMA journal_mode = WAL');
      // Batches are written every few hundred milliseconds: a power cut may lose the last ones, a crash of the process none.
      db.exec('PRAGMA synchronous = NORMAL');
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      db.exec('PRAGMA busy_timeout = 0');
      db.exec(SCHEMA);
      db.exec('BEGIN IMMEDIATE; COMMIT;');
      for (const companion of [`${file}-wal`, `${file}-shm`]) tightenFile(companion);
    } catch (error) {
      db?.close();
      const message = (error as Error).message;
      if (/locked|busy/i.test(message)) throw new ConfigError(`the data directory's log store ${file} is in use by another serverfull server`);
      throw new ConfigError(`cannot open the data directory's log store ${file}: ${message}`);
    }
    this.db = db;
    this.statements = {
      insertEvent: db.prepare('INSERT INTO log_events (function_name, stream, timestamp, ingestion_time, message, bytes, request_id, trace_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      upsertStream: db.prepare(`INSERT INTO log_streams (function_name, name, version, creation_time, first_event, last_event, last_ingestion) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (function_name, name) DO UPDATE SET first_event = min(first_event, excluded.first_event),
          last_event = max(last_event, excluded.last_event), last_ingestion = excluded.last_ingestion`),
      insertInvocation: db.prepare(`INSERT OR REPLACE INTO invocations (request_id, function_name, version, stream, start_time, duration_ms, status, error_type, cold_start, init_duration_ms, trace_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    };
    for (const row of db.prepare('SELECT function_name, SUM(bytes) AS bytes FROM log_events GROUP BY function_name').all() as Array<{ function_name: string; bytes: number }>) {
      this.bytes.set(row.function_name, row.bytes);
    }
    this.applyBounds([...this.bytes.keys()], true);
  }

  // --- Recording (the hot path: queue only) ---

  /** See `InvocationRecorder.begin`. */
  begin(start: RecordedStart): RecordingHandle {
    const recording = new Recording(start, start.logStreamName);
    this.queue({ recording, kind: START, time: start.startTime }, 80);
    return recording;
  }

  /** See `InvocationRecorder.line`. */
  line(handle: RecordingHandle, level: FunctionLogLevel, text: string, raw: string | undefined): void {
    this.queue({ recording: handle as Recording, kind: OUTPUT, time: this.now(), level, text, raw }, (raw ?? text).length + 64);
  }

  /** See `InvocationRecorder.end`. */
  end(handle: RecordingHandle, end: RecordedEnd): void {
    this.queue({ recording: handle as Recording, kind: END, time: this.now(), end }, 300);
  }

  private queue(line: PendingLine, chars: number): void {
    if (!this.open) return;
    this.pending.push(line);
    this.pendingChars += chars;
    if (this.pendingChars > MAX_PENDING_CHARS) {
      this.immediate ??= setImmediate(this.flush);
    } else if (this.timer === undefined) {
      this.timer = setTimeout(this.flush, this.options.flushIntervalMs ?? 200).unref();
    }
  }

  // --- Writing ---

  /** Writes the queue in one transaction; called by the timer, before reads and at close. */
  readonly flush = (): void => {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    if (this.pending.length === 0 || !this.open) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingChars = 0;
    const touched = new Set<string>();
    try {
      this.write(batch, touched);
    } catch (error) {
      // Disk full, I/O error: this batch is lost, the server goes on.
      this.options.logger?.log('error', `log store: a batch of ${batch.length} log lines could not be written: ${(error as Error).message}`);
      return;
    }
    this.applyBounds([...touched], this.now() - this.lastAgeCheck >= AGE_CHECK_MS);
  };

  private write(batch: readonly PendingLine[], touched: Set<string>): void {
    const ingestion = this.now();
    const streams = new Map<string, { functionName: string; version: string; first: number; last: number }>();
    const { insertEvent, insertInvocation, upsertStream } = this.statements;
    this.db.exec('BEGIN');
    try {
      for (const line of batch) {
        const { start, stream } = line.recording;
        const { functionName, requestId } = start;
        const traceId = start.traceId ?? null;
        const insert = (time: number, message: string) => {
          const text = boundedMessage(message);
          const bytes = Buffer.byteLength(text) + EVENT_OVERHEAD_BYTES;
          insertEvent.run(functionName, stream, time, ingestion, text, bytes, requestId, traceId);
          this.bytes.set(functionName, (this.bytes.get(functionName) ?? 0) + bytes);
        };
        switch (line.kind) {
          case START:
            insert(line.time, startLine(requestId, start.version));
            break;
          case OUTPUT:
            insert(line.time, outputLine(line.time, requestId, line.level, line.text!, line.raw));
            break;
          case END: {
            const end = line.end!;
            insert(line.time, endLine(requestId));
            insert(line.time, reportLine(requestId, {
              durationMs: end.durationMs, memorySize: end.memorySize, memoryUsedMB: end.memoryUsedMB,
              initDurationMs: end.initFailed ? undefined : end.initDurationMs,
              status: end.status === 'success' ? undefined : end.status, errorType: end.errorType,
            }));
            insertInvocation.run(
              requestId, functionName, start.version, stream, start.startTime, end.durationMs, end.status, end.errorType ?? null,
              end.initDurationMs === undefined ? 0 : 1, end.initDurationMs ?? null, traceId,
            );
            break;
          }
        }
        touched.add(functionName);
        const key = `${functionName}\n${stream}`;
        const seen = streams.get(key);
        if (seen === undefined) streams.set(key, { functionName, version: start.version, first: line.time, last: line.time });
        else {
          seen.first = Math.min(seen.first, line.time);
          seen.last = Math.max(seen.last, line.time);
        }
      }
      for (const [key, seen] of streams) {
        upsertStream.run(seen.functionName, key.slice(seen.functionName.length + 1), seen.version, seen.first, seen.first, seen.last, ingestion);
      }
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      // The counts were raised for rows that are not there: read them again.
      this.recount([...touched]);
      throw error;
    }
  }

  /** Drops what is past the bounds for these functions; `byAge` applies the retention too. */
  private applyBounds(functions: readonly string[], byAge: boolean): void {
    try {
      if (byAge) {
        this.lastAgeCheck = this.now();
        const cutoff = this.now() - this.options.retentionDays * DAY_MS;
        for (const name of this.bytes.keys()) this.dropBefore(name, { timestamp: cutoff, id: -1 });
      }
      const max = this.options.maxBytesPerFunction;
      for (const name of functions) {
        const stored = this.bytes.get(name) ?? 0;
        if (stored <= max) continue;
        // Down to 90%: a function logging steadily is pruned every few batches, not at every one.
        const excess = stored - Math.floor(max * 0.9);
        let freed = 0;
        let last: EventPosition | undefined;
        for (const row of this.db.prepare('SELECT id, timestamp, bytes FROM log_events WHERE function_name = ? ORDER BY timestamp, id').iterate(name) as Iterable<{ id: number; timestamp: number; bytes: number }>) {
          freed += row.bytes;
          last = { timestamp: row.timestamp, id: row.id };
          if (freed >= excess) break;
        }
        if (last !== undefined) this.dropBefore(name, last, true);
      }
    } catch (error) {
      this.options.logger?.log('error', `log store: old log events could not be dropped: ${(error as Error).message}`);
    }
  }

  /** Deletes a function's events before `position` (up to it, when `inclusive`), then the records and streams left without events. */
  private dropBefore(name: string, position: EventPosition, inclusive = false): void {
    const where = inclusive ? 'function_name = ? AND (timestamp < ? OR (timestamp = ? AND id <= ?))' : 'function_name = ? AND timestamp < ?';
    const params = inclusive ? [name, position.timestamp, position.timestamp, position.id] : [name, position.timestamp];
    const { freed } = this.db.prepare(`SELECT COALESCE(SUM(bytes), 0) AS freed FROM log_events WHERE ${where}`).get(...params) as { freed: number };
    if (freed === 0) return;
    this.db.exec('BEGIN');
    try {
      // An invocation whose lines are being dropped loses its record with them.
      this.db.prepare(`DELETE FROM invocations WHERE request_id IN (SELECT DISTINCT request_id FROM log_events WHERE ${where})`).run(...params);
      this.db.prepare(`DELETE FROM log_events WHERE ${where}`).run(...params);
      this.db.prepare(`DELETE FROM log_streams WHERE function_name = ? AND NOT EXISTS
        (SELECT 1 FROM log_events e WHERE e.function_name = log_streams.function_name AND e.stream = log_streams.name)`).run(name);
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
    const left = (this.bytes.get(name) ?? 0) - freed;
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

  // --- Reading (flushes first) ---

  /** Every function with stored events, by name. */
  groups(): StoredGroup[] {
    this.flush();
    const rows = this.db.prepare('SELECT function_name, MIN(creation_time) AS created FROM log_streams GROUP BY function_name ORDER BY function_name').all() as Array<{ function_name: string; created: number }>;
    return rows.map((row) => ({ functionName: row.function_name, creationTime: row.created, storedBytes: this.bytes.get(row.function_name) ?? 0 }));
  }

  /** Whether a function has a log group (any stored stream). */
  hasGroup(functionName: string): boolean {
    this.flush();
    return this.db.prepare('SELECT 1 FROM log_streams WHERE function_name = ? LIMIT 1').get(functionName) !== undefined;
  }

  /** A function's streams, in no particular order. */
  streamsOf(functionName: string): StoredStream[] {
    this.flush();
    const rows = this.db.prepare('SELECT * FROM log_streams WHERE function_name = ?').all(functionName) as Array<{
      name: string; version: string; creation_time: number; first_event: number; last_event: number; last_ingestion: number;
    }>;
    return rows.map((row) => ({
      name: row.name, version: row.version, creationTime: row.creation_time,
      firstEventTimestamp: row.first_event, lastEventTimestamp: row.last_event, lastIngestionTime: row.last_ingestion,
    }));
  }

  /** Whether a stream exists. */
  hasStream(functionName: string, stream: string): boolean {
    this.flush();
    return this.db.prepare('SELECT 1 FROM log_streams WHERE function_name = ? AND name = ?').get(functionName, stream) !== undefined;
  }

  /** A window of one stream, in id order (see `StreamQuery`). */
  streamEvents(query: StreamQuery): StoredEvent[] {
    this.flush();
    const forward = query.beforeId === undefined;
    const sql = `SELECT * FROM log_events WHERE function_name = ? AND stream = ? AND timestamp >= ? AND timestamp <= ? AND id ${forward ? '>' : '<'} ?
      ORDER BY id ${forward ? 'ASC' : 'DESC'} LIMIT ?`;
    const rows = this.db.prepare(sql).all(
      query.functionName, query.stream, query.startTime ?? 0, query.endTime ?? Number.MAX_SAFE_INTEGER,
      forward ? query.afterId ?? 0 : query.beforeId!, query.limit,
    ) as unknown as EventRow[];
    const events: StoredEvent[] = [];
    let bytes = 0;
    for (const row of rows) {
      bytes += row.message.length + EVENT_OVERHEAD_BYTES;
      if (bytes > query.maxBytes && events.length > 0) break;
      events.push(toEvent(row));
    }
    return forward ? events : events.reverse();
  }

  /** A page of a function's events in time order, filtered (see `EventQuery`). */
  filterEvents(query: EventQuery): EventPage {
    this.flush();
    const after = query.after;
    const start = Math.max(query.startTime ?? 0, after?.timestamp ?? 0);
    const end = query.endTime ?? Number.MAX_SAFE_INTEGER;
    const sql = `SELECT * FROM log_events WHERE function_name = ? AND timestamp >= ? AND timestamp <= ?
      ${after === undefined ? '' : 'AND (timestamp > ? OR id > ?)'} ${query.traceId === undefined ? '' : 'AND trace_id = ?'} ORDER BY timestamp, id`;
    const params: Array<string | number> = [query.functionName, start, end];
    if (after !== undefined) params.push(after.timestamp, after.id);
    if (query.traceId !== undefined) params.push(query.traceId);
    const events: StoredEvent[] = [];
    let scanned = 0;
    let bytes = 0;
    let last: EventPosition | undefined;
    for (const row of this.db.prepare(sql).iterate(...params) as Iterable<EventRow>) {
      if (events.length >= query.limit || scanned >= query.maxScanned || bytes >= query.maxBytes) return { events, next: last };
      scanned++;
      last = { timestamp: row.timestamp, id: row.id };
      if (query.streams !== undefined && !query.streams.has(row.stream)) continue;
      if (query.streamPrefix !== undefined && !row.stream.startsWith(query.streamPrefix)) continue;
      if (!query.matches(row.message)) continue;
      events.push(toEvent(row));
      bytes += row.message.length + EVENT_OVERHEAD_BYTES;
    }
    return { events };
  }

  /** A function's invocation records, newest first. */
  invocations(functionName: string, limit = 100): StoredInvocation[] {
    this.flush();
    const rows = this.db.prepare('SELECT * FROM invocations WHERE function_name = ? ORDER BY start_time DESC LIMIT ?').all(functionName, limit) as Array<{
      request_id: string; function_name: string; version: string; stream: string; start_time: number; duration_ms: number; status: RecordedStatus;
      error_type: string | null; cold_start: number; init_duration_ms: number | null; trace_id: string | null;
    }>;
    return rows.map((row) => ({
      requestId: row.request_id, functionName: row.function_name, version: row.version, stream: row.stream, startTime: row.start_time,
      durationMs: row.duration_ms, status: row.status, errorType: row.error_type ?? undefined, coldStart: row.cold_start === 1,
      initDurationMs: row.init_duration_ms ?? undefined, traceId: row.trace_id ?? undefined,
    }));
  }

  /** Writes what is queued and closes the database; later recordings are ignored. */
  close(): void {
    if (!this.open) return;
    this.flush();
    this.open = false;
    this.db.close();
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

function toEvent(row: EventRow): StoredEvent {
  return {
    id: row.id, functionName: row.function_name, stream: row.stream, timestamp: row.timestamp, ingestionTime: row.ingestion_time,
    message: row.message, requestId: row.request_id ?? undefined, traceId: row.trace_id ?? undefined,
  };
}
