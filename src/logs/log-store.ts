/**
 * @module logs/log-store
 * Every invocation's log (START, the function's output, the platform's lines, END, REPORT) and its
 * summary, kept in the data directory (`logs.db`, SQLite, 0600) and read back by the CloudWatch Logs
 * API. It is the invoker's `InvocationRecorder`: recording only queues a row of fields per line (`line-batch.ts`) on the
 * server's thread; every `flushIntervalMs` (at once past `MAX_PENDING_CHARS` or `MAX_PENDING_LINES`, and at `close`) the queue
 * goes to a writer thread (`log-writer.ts`) that writes it in one transaction. An invocation is a
 * record, from which its START, END and REPORT lines are built when read (`record-lines.ts`), kept
 * with the other records of its stream and batch (`record-blocks.ts`); its output lines are rows of
 * their own. A crash of the server loses the lines not yet written (at most the last interval's); a
 * written batch survives a crash of the process (WAL; `synchronous = NORMAL`, so a power cut may lose
 * the last ones).
 *
 * Bounds, per function: events older than the retention are dropped, and past `maxBytesPerFunction`
 * (bytes counted as CloudWatch does: the message's UTF-8 bytes plus 26) the oldest events are dropped
 * until 90% of it is left (the lines a record stands for count as stored, and go with the first of
 * them, its START; a block of records goes with its last line). An event longer than CloudWatch's
 * 256 KB is cut to it. Reads (`sync()` first) see every line recorded before them.
 */
import { Worker } from 'node:worker_threads';
import type { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { privateDirectory, privateFile, tightenFile } from '../deploy/private-files.js';
import type { Logger } from '../log.js';
import type { FunctionLogLevel } from '../runtime/execution-environment.js';
import type { InvocationRecorder, RecordedEnd, RecordedStart, RecordedStatus, RecordingHandle } from '../runtime/invocation-recorder.js';
import { queueEnd, queueOutput, type LineBatch } from './line-batch.js';
import {
  EVENT_OVERHEAD_BYTES, LogWriter, openLogDatabase, prepareLogDatabase, type WriterReply, type WriterRequest, type WriterSettings,
} from './log-writer.js';
import { readEvents, type EventRow } from './event-reader.js';
import { mergeBlocks, mergeSources } from './ordered-merge.js';
import { BLOCK_COLUMNS, blockInvocations, type BlockRow } from './record-blocks.js';
import { END_EVENT, recordLine, REPORT_EVENT, START_EVENT, START_LINE, STORED_EVENT } from './record-lines.js';

export { EVENT_OVERHEAD_BYTES, MAX_EVENT_BYTES } from './log-writer.js';

/** The file of the store in the data directory. */
export const LOG_STORE_FILE = 'logs.db';
/** Characters queued before a batch is sent without waiting for the timer. */
const MAX_PENDING_CHARS = 4 * 1024 * 1024;
/**
 * Lines queued before a batch is sent without waiting for the timer. Sending copies the batch on the server's thread, which
 * serves nothing meanwhile: 200 ms of an inline server's load (about 4,000 invocations) took 8 ms, and set the p99 latency.
 * 512 lines (the ENDs of 512 silent invocations) take 0.16–0.25 ms as rows of one flat array (`line-batch.ts`), 0.6 ms as
 * objects.
 */
const MAX_PENDING_LINES = 512;
const WRITER_ENTRY = new URL('./log-writer.js', import.meta.url);
/**
 * The writer thread's young generation, in MB. V8 sizes a thread's from the machine's memory: under load the writer's
 * grew for a minute or more, and the server's RSS with it (32 connections on inline, 315 to 407 MB over 90 s; capped,
 * 289 to 297 MB, same throughput within the run's noise). A batch is at most a few MB of records, copied in once.
 */
const WRITER_YOUNG_GENERATION_MB = 8;

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
  /** The clock that times recorded lines, in milliseconds since the epoch; for tests. */
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

/** A stored message as text. */
function messageText(message: Uint8Array | string): string {
  return typeof message === 'string' ? message : Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('utf8');
}

/** The handle of an invocation being recorded: its start, shared by its queued lines. */
interface Recording extends RecordingHandle {
  readonly start: RecordedStart;
}

/** The stored logs of one data directory. */
export class LogStore implements InvocationRecorder {
  /** The server thread's connection: reads only. */
  private readonly db: DatabaseSync;
  /** The writer thread, started with the first line to write: a server that runs nothing never starts it. */
  private writer: Worker | undefined;
  private readonly writerSettings: WriterSettings;
  private readonly now: () => number;
  private pending: LineBatch = [];
  private pendingLines = 0;
  private pendingChars = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** Batches sent and not yet acknowledged, by ack number. */
  private readonly waiting = new Map<number, () => void>();
  private lastAck = 0;
  private open = true;
  private closed: Promise<void> | undefined;

  constructor(private readonly options: LogStoreOptions) {
    this.now = options.now ?? Date.now;
    const file = join(options.dataDir, LOG_STORE_FILE);
    const settings: WriterSettings = { file, retentionDays: options.retentionDays, maxBytesPerFunction: options.maxBytesPerFunction };
    privateDirectory(options.dataDir);
    let db: DatabaseSync | undefined;
    try {
      // SQLite gives the WAL and shared-memory files the database file's mode: create it 0600 first.
      privateFile(file);
      for (const companion of [`${file}-wal`, `${file}-shm`, `${file}-journal`]) tightenFile(companion);
      db = openLogDatabase(file);
      prepareLogDatabase(db);
      // The bounds at open, before the writer starts: a shorter retention or a smaller bound applies at once.
      const writer = new LogWriter(db, settings);
      writer.applyBounds(writer.functions(), true);
      for (const companion of [`${file}-wal`, `${file}-shm`]) tightenFile(companion);
    } catch (error) {
      db?.close();
      throw new ConfigError(`cannot open the data directory's log store ${file}: ${(error as Error).message}`);
    }
    this.db = db;
    this.writerSettings = settings;
  }

  private writerThread(): Worker {
    if (this.writer !== undefined) return this.writer;
    const writer = new Worker(WRITER_ENTRY, { workerData: { logWriter: this.writerSettings }, resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB } });
    writer.on('message', (reply: WriterReply) => this.onReply(reply));
    writer.on('error', (error) => {
      this.options.logger?.log('error', `log store: the writer thread failed, logs are no longer stored: ${error.stack ?? error.message}`);
      this.release();
    });
    writer.on('exit', () => this.release());
    // After the listeners, which would take a reference again: the writer does not keep the process alive.
    writer.unref();
    this.writer = writer;
    return writer;
  }

  // --- Recording (the hot path: queue only) ---

  /** See `InvocationRecorder.begin`. */
  begin(start: RecordedStart): RecordingHandle {
    // Nothing is queued yet: the writer writes START with the invocation's first queued line (its END, for a silent one).
    return { start } satisfies Recording;
  }

  /** See `InvocationRecorder.line`. */
  line(handle: RecordingHandle, level: FunctionLogLevel, text: string, raw: string | undefined): void {
    if (!this.open) return;
    queueOutput(this.pending, (handle as Recording).start, this.now(), level, text, raw);
    this.queued((raw ?? text).length + 64);
  }

  /** See `InvocationRecorder.end`. */
  end(handle: RecordingHandle, end: RecordedEnd): void {
    if (!this.open) return;
    queueEnd(this.pending, (handle as Recording).start, this.now(), end);
    this.queued(300);
  }

  /** Sends the queue soon after a line of about `chars` characters was queued. */
  private queued(chars: number): void {
    this.pendingChars += chars;
    this.pendingLines++;
    if (this.pendingChars > MAX_PENDING_CHARS || this.pendingLines >= MAX_PENDING_LINES) {
      this.immediate ??= setImmediate(this.send);
    } else if (this.timer === undefined) {
      this.timer = setTimeout(this.send, this.options.flushIntervalMs ?? 200).unref();
    }
  }

  // --- Writing (on the writer thread) ---

  /** Sends the queue to the writer; `ack` asks for an answer once it is written. */
  private readonly send = (ack?: number): void => {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    if (!this.open || (this.pending.length === 0 && typeof ack !== 'number')) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingLines = 0;
    this.pendingChars = 0;
    this.writerThread().postMessage({ type: 'write', batch, ack: typeof ack === 'number' ? ack : undefined } satisfies WriterRequest);
  };

  /** Resolves once every line recorded so far is written (or could not be). */
  sync(): Promise<void> {
    // Nothing was ever recorded: nothing to wait for.
    if (!this.open || (this.writer === undefined && this.pending.length === 0)) return Promise.resolve();
    const ack = ++this.lastAck;
    // Someone waits for the writer's answer: it must keep the process alive until then.
    if (this.waiting.size === 0) this.writerThread().ref();
    return new Promise((resolve) => {
      this.waiting.set(ack, resolve);
      this.send(ack);
    });
  }

  private onReply(reply: WriterReply): void {
    if (reply.type === 'failed') {
      // Disk full, I/O error: that batch is lost, the server goes on.
      this.options.logger?.log('error', `log store: a batch of log lines could not be written: ${reply.message}`);
    }
    if (reply.type !== 'closed' && reply.ack !== undefined) {
      this.waiting.get(reply.ack)?.();
      this.waiting.delete(reply.ack);
      if (this.waiting.size === 0 && this.closed === undefined) this.writer?.unref();
    }
  }

  /** Lets every reader waiting on the writer go: it is gone. */
  private release(): void {
    this.open = false;
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
  }

  // --- Reading (after `sync()`, to see every line recorded before) ---

  /** Every function with stored events, by name. */
  groups(): StoredGroup[] {
    const rows = this.db.prepare('SELECT * FROM log_groups ORDER BY function_name').all() as Array<{ function_name: string; creation_time: number; stored_bytes: number }>;
    return rows.map((row) => ({ functionName: row.function_name, creationTime: row.creation_time, storedBytes: row.stored_bytes }));
  }

  /** Whether a function has a log group (stored events). */
  hasGroup(functionName: string): boolean {
    return this.db.prepare('SELECT 1 FROM log_groups WHERE function_name = ?').get(functionName) !== undefined;
  }

  /** A function's streams, in no particular order. */
  streamsOf(functionName: string): StoredStream[] {
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
    return this.db.prepare('SELECT 1 FROM log_streams WHERE function_name = ? AND name = ?').get(functionName, stream) !== undefined;
  }

  /** A window of one stream, in id order (see `StreamQuery`). */
  streamEvents(query: StreamQuery): StoredEvent[] {
    return this.snapshot(() => {
      const forward = query.beforeId === undefined;
      const rows = readEvents(this.db, {
        functionName: query.functionName, stream: query.stream, startTime: query.startTime ?? 0, endTime: query.endTime ?? Number.MAX_SAFE_INTEGER,
        afterId: forward ? query.afterId ?? 0 : undefined, beforeId: forward ? undefined : query.beforeId,
        byId: true, descending: !forward, limit: query.limit,
      });
      const events: StoredEvent[] = [];
      let bytes = 0;
      for (const row of rows) {
        const event = toEvent(row);
        bytes += event.message.length + EVENT_OVERHEAD_BYTES;
        if (bytes > query.maxBytes && events.length > 0) break;
        events.push(event);
      }
      return forward ? events : events.reverse();
    });
  }

  /** A page of a function's events in time order, filtered (see `EventQuery`). */
  filterEvents(query: EventQuery): EventPage {
    return this.snapshot(() => {
      const rows = readEvents(this.db, {
        functionName: query.functionName, traceId: query.traceId, after: query.after,
        startTime: Math.max(query.startTime ?? 0, query.after?.timestamp ?? 0), endTime: query.endTime ?? Number.MAX_SAFE_INTEGER,
        byId: false, descending: false,
      });
      const events: StoredEvent[] = [];
      let scanned = 0;
      let bytes = 0;
      let last: EventPosition | undefined;
      for (const row of rows) {
        if (events.length >= query.limit || scanned >= query.maxScanned || bytes >= query.maxBytes) return { events, next: last };
        scanned++;
        last = { timestamp: row.timestamp, id: row.id };
        if (query.streams !== undefined && !query.streams.has(row.stream)) continue;
        if (query.streamPrefix !== undefined && !row.stream.startsWith(query.streamPrefix)) continue;
        const message = eventMessage(row);
        if (!query.matches(message)) continue;
        events.push(toEvent(row, message));
        bytes += message.length + EVENT_OVERHEAD_BYTES;
      }
      return { events };
    });
  }

  /**
   * The stored lines of one invocation that started at or after `since` (ms), in order (at most `limit`): its log
   * as `FilterLogEvents` would show it. `since` lets the function's time index find them without reading its whole log.
   */
  invocationEvents(functionName: string, requestId: string, since: number, limit = 1000): StoredEvent[] {
    return this.snapshot(() => {
      const rows = readEvents(this.db, {
        functionName, requestId, startTime: since, endTime: Number.MAX_SAFE_INTEGER, byId: false, descending: false, limit,
      });
      return [...rows].map((row) => toEvent(row));
    });
  }

  /** A function's invocation records, newest first. */
  invocations(functionName: string, limit = 100): StoredInvocation[] {
    return this.snapshot(() => {
      // A record standing for its START line only is of an invocation still running.
      const rows = this.db.prepare(`SELECT * FROM invocations WHERE function_name = ? AND lines != ${START_LINE} ORDER BY start_time DESC LIMIT ?`).iterate(functionName, limit) as Iterator<{
        request_id: string; function_name: string; version: string; stream: string; start_time: number; duration_ms: number; status: RecordedStatus;
        error_type: string | null; cold_start: number; init_duration_ms: number | null; trace_id: string | null;
      }>;
      const records = function* () {
        try {
          for (let next = rows.next(); !next.done; next = rows.next()) {
            const row = next.value;
            yield {
              requestId: row.request_id, functionName: row.function_name, version: row.version, stream: row.stream, startTime: row.start_time,
              durationMs: row.duration_ms, status: row.status, errorType: row.error_type ?? undefined, coldStart: row.cold_start === 1,
              initDurationMs: row.init_duration_ms ?? undefined, traceId: row.trace_id ?? undefined,
            } satisfies StoredInvocation;
          }
        } finally {
          rows.return?.(undefined);
        }
      };
      // A block's records all started by its last time: blocks read newest last time first hold no newer record once past it.
      const blocks = this.db.prepare(`SELECT ${BLOCK_COLUMNS} FROM record_blocks WHERE function_name = ? ORDER BY last_time DESC`).iterate(functionName) as Iterator<BlockRow>;
      const newer = (a: StoredInvocation, b: StoredInvocation) => a.startTime > b.startTime;
      const merged = mergeSources([records(), mergeBlocks(blocks, blockInvocations, newer, (block, record) => block.last_time >= record.startTime)], newer);
      const newest: StoredInvocation[] = [];
      for (const record of merged) {
        if (newest.length >= limit) break;
        newest.push(record);
      }
      return newest;
    });
  }

  /**
   * Runs `read` in one read transaction: its statements, and the queries that find where a walk of the blocks starts, see
   * the store as of one commit of the writer, never a batch's blocks without its lines.
   */
  private snapshot<T>(read: () => T): T {
    this.db.exec('BEGIN');
    try {
      return read();
    } finally {
      this.db.exec('COMMIT');
    }
  }

  /** Writes what is queued, stops the writer and closes the database; later recordings are ignored. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.open && (this.writer !== undefined || this.pending.length > 0)) {
        // Unreferenced while it serves, so as not to keep the process alive; waiting for it to stop must.
        const writer = this.writerThread();
        writer.ref();
        await this.sync();
        this.open = false;
        const exited = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
        writer.postMessage({ type: 'close' } satisfies WriterRequest);
        await exited;
      }
      this.open = false;
      this.db.close();
    })();
    return this.closed;
  }
}

/** A read event's message: stored, or built from its record. */
function eventMessage(row: EventRow): string {
  if (row.kind === STORED_EVENT) return messageText(row.message!);
  return recordLine(row.kind as typeof START_EVENT | typeof END_EVENT | typeof REPORT_EVENT, {
    requestId: row.request_id!, version: row.version!, durationMs: row.duration_ms!, memorySize: row.memory_size!, memoryUsedMB: row.memory_used!,
    initDurationMs: row.init_duration_ms ?? undefined, initFailed: row.init_failed === 1, status: row.status!, errorType: row.error_type ?? undefined,
  });
}

function toEvent(row: EventRow, message = eventMessage(row)): StoredEvent {
  return {
    id: row.id, functionName: row.function_name, stream: row.stream, timestamp: row.timestamp, ingestionTime: row.ingestion_time,
    message, requestId: row.request_id ?? undefined, traceId: row.trace_id ?? undefined,
  };
}
