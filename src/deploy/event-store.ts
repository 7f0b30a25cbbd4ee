/**
 * @module deploy/event-store
 * The Event invocations accepted and not yet finished, in `events.db` of the data directory
 * (SQLite, WAL; durable as the deployment store, see below): an event is on disk before its 202
 * goes out, and stays until its last attempt ended, so a crash or kill -9 loses none
 * (at-least-once). Writes are group-committed: every event accepted in one turn of the event loop
 * shares one transaction. The transaction's fsync is not SQLite's own (that would hold the event
 * loop for the disk's latency): SQLite commits into the WAL (`synchronous = NORMAL`), then the WAL
 * file is `fdatasync`ed on libuv's thread pool, and only then are the events acknowledged; while one
 * sync is under way, the next transactions gather behind it and share the next one. A commit is thus
 * on disk before its 202, as with `synchronous = FULL`, at about one fsync per burst, off the loop.
 * (Checkpoints, which copy the WAL into the database, fsync both themselves.)
 */
import { openPrivateDatabase } from './private-database.js';
import { closeSync, existsSync, fdatasync, fdatasyncSync, fsyncSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { EventQueueStore, NewEvent, StoredEvent } from '../runtime/event-queue-store.js';


const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id TEXT NOT NULL,
  function_name TEXT NOT NULL,
  qualifier TEXT,
  invoked_function_arn TEXT NOT NULL,
  payload TEXT NOT NULL,
  trace_header TEXT,
  queued_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS event_invoke_configs (
  function_name TEXT NOT NULL,
  qualifier TEXT NOT NULL,
  config TEXT NOT NULL,
  PRIMARY KEY (function_name, qualifier)
);`;

interface EventRow {
  id: number;
  request_id: string;
  function_name: string;
  qualifier: string | null;
  invoked_function_arn: string;
  payload: string;
  trace_header: string | null;
  queued_at: number;
  attempts: number;
}

/** A write waiting for the next group commit. */
type PendingWrite =
  | { readonly kind: 'insert'; readonly event: NewEvent; readonly stored: (error: Error | undefined, id: number) => void }
  | { readonly kind: 'delete'; readonly id: number }
  | { readonly kind: 'attempts'; readonly id: number; readonly attempts: number };

/** The durable Event queue of one data directory. */
export class EventStore implements EventQueueStore {
  private readonly db: DatabaseSync;
  private readonly statements: Record<'insert' | 'delete' | 'attempts', StatementSync>;
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private open = true;
  /** The WAL file, synced after each commit. */
  private readonly walFd: number;
  /** Committed inserts waiting for the next sync of the WAL. */
  private unsynced: Array<(error: Error | undefined) => void> = [];
  private syncing = false;

  constructor(dataDir: string) {
    const file = join(dataDir, 'events.db');
    // Payloads are the callers' data: the files are the server user's only (as every store's). The WAL is synced by
    // `syncWal`, off the event loop, before any event is acknowledged.
    let walFd = -1;
    const db = openPrivateDatabase(file, {
      schema: SCHEMA, synchronous: 'NORMAL', what: 'event queue',
      then: (opened) => {
        // A write, so that the WAL file exists from now on (with the exclusive lock it is kept until close).
        opened.exec('PRAGMA user_version = 1');
        if (!existsSync(`${file}-wal`)) throw new Error('SQLite did not create the write-ahead log');
        walFd = openSync(`${file}-wal`, 'r');
        // The WAL's directory entry is durable too.
        const directory = openSync(dirname(file), 'r');
        try {
          fsyncSync(directory);
        } finally {
          closeSync(directory);
        }
      },
    });
    this.walFd = walFd;
    this.db = db;
    this.statements = {
      insert: db.prepare(`INSERT INTO events (request_id, function_name, qualifier, invoked_function_arn, payload, trace_header, queued_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)`),
      delete: db.prepare('DELETE FROM events WHERE id = ?'),
      attempts: db.prepare('UPDATE events SET attempts = ? WHERE id = ?'),
    };
  }

  /** Every event not yet finished, in order of arrival; called once at start. */
  load(): StoredEvent[] {
    return (this.db.prepare('SELECT * FROM events ORDER BY id').all() as unknown as EventRow[]).map((row) => ({
      id: row.id,
      requestId: row.request_id,
      functionName: row.function_name,
      qualifier: row.qualifier ?? undefined,
      invokedFunctionArn: row.invoked_function_arn,
      payload: row.payload,
      traceHeader: row.trace_header ?? undefined,
      queuedAt: row.queued_at,
      attempts: row.attempts,
    }));
  }

  /** Every stored event invoke configuration, as JSON text. */
  loadConfigs(): string[] {
    return (this.db.prepare('SELECT config FROM event_invoke_configs').all() as unknown as { config: string }[]).map((row) => row.config);
  }

  /** Stores (replaces) the event invoke configuration of a function and qualifier, at once (a management call, off the hot path). */
  putConfig(functionName: string, qualifier: string, config: string): void {
    this.db.prepare('INSERT OR REPLACE INTO event_invoke_configs (function_name, qualifier, config) VALUES (?, ?, ?)').run(functionName, qualifier, config);
    fdatasyncSync(this.walFd);
  }

  /** Removes the event invoke configuration of a function and qualifier, or, without a qualifier, all of the function's. */
  deleteConfig(functionName: string, qualifier?: string): void {
    if (qualifier === undefined) this.db.prepare('DELETE FROM event_invoke_configs WHERE function_name = ?').run(functionName);
    else this.db.prepare('DELETE FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?').run(functionName, qualifier);
    fdatasyncSync(this.walFd);
  }

  /** Stores an event with the next group commit; `stored` is called once it is on disk (or failed to be). */
  insert(event: NewEvent, stored: (error: Error | undefined, id: number) => void): void {
    if (!this.open) return stored(new Error('the event queue is closed'), 0);
    this.enqueue({ kind: 'insert', event, stored });
  }

  /** Forgets a finished event (with the next group commit: if that is lost, the event runs again, as at-least-once allows). */
  delete(id: number): void {
    if (this.open) this.enqueue({ kind: 'delete', id });
  }

  /** Records how many attempts of an event ended, so that a restart does not give it more. */
  setAttempts(id: number, attempts: number): void {
    if (this.open) this.enqueue({ kind: 'attempts', id, attempts });
  }

  /** Writes what is pending, then closes the database. */
  close(): void {
    if (!this.open) return;
    this.flush();
    this.open = false;
    this.db.close();
    // What a sync under way has not covered is synced here; the file closes once that sync is done.
    const waiting = this.unsynced;
    this.unsynced = [];
    let failure: Error | undefined;
    try {
      fdatasyncSync(this.walFd);
    } catch (error) {
      failure = error as Error;
    }
    for (const done of waiting) done(failure);
    if (!this.syncing) closeSync(this.walFd);
  }

  private enqueue(write: PendingWrite): void {
    this.pending.push(write);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // After the I/O of this turn: every request already read joins the same transaction.
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const writes = this.pending;
    if (writes.length === 0) return;
    this.pending = [];
    const ids: number[] = [];
    let failure: Error | undefined;
    try {
      this.db.exec('BEGIN');
      try {
        for (const write of writes) {
          if (write.kind === 'insert') {
            const { event } = write;
            const result = this.statements.insert.run(
              event.requestId, event.functionName, event.qualifier ?? null, event.invokedFunctionArn, event.payload, event.traceHeader ?? null, event.queuedAt,
            );
            ids.push(Number(result.lastInsertRowid));
          } else if (write.kind === 'delete') {
            this.statements.delete.run(write.id);
          } else {
            this.statements.attempts.run(write.attempts, write.id);
          }
        }
        this.db.exec('COMMIT');
      } catch (error) {
        this.db.exec('ROLLBACK');
        throw error;
      }
    } catch (error) {
      failure = error as Error;
    }
    let next = 0;
    for (const write of writes) {
      if (write.kind !== 'insert') continue;
      if (failure !== undefined) {
        write.stored(failure, 0);
        continue;
      }
      const id = ids[next++]!;
      this.unsynced.push((error) => write.stored(error, error === undefined ? id : 0));
    }
    this.syncWal();
  }

  /** Syncs the WAL on the thread pool, one sync at a time; the commits made meanwhile wait for the next. */
  private syncWal(): void {
    if (this.syncing || this.unsynced.length === 0) return;
    const waiting = this.unsynced;
    this.unsynced = [];
    this.syncing = true;
    fdatasync(this.walFd, (error) => {
      this.syncing = false;
      if (!this.open) closeSync(this.walFd);
      for (const done of waiting) done(error ?? undefined);
      if (this.open) this.syncWal();
    });
  }
}
