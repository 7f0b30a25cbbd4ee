/**
 * @module deploy/private-database
 * Opens one of the data directory's SQLite databases as every store opens them: files `0600` (the WAL
 * and shared-memory files take the database file's mode, so it is created first), write-ahead log,
 * deleted data overwritten, and an exclusive lock taken at once, so that a second server on the same
 * data directory is refused at its start rather than serving a stale copy.
 */
import type { DatabaseSync } from 'node:sqlite';
import { ConfigError } from '../config/config-error.js';
import { privateFile, tightenFile } from './private-files.js';
import { loadSqlite } from './sqlite-module.js';

/** How a store's database is opened. */
export interface PrivateDatabaseOptions {
  /** The store's `CREATE TABLE IF NOT EXISTS ...` statements. */
  readonly schema: string;
  /** `FULL`: each commit is on disk when it returns; `NORMAL`: the store syncs the WAL itself. */
  readonly synchronous: 'FULL' | 'NORMAL';
  /** What the database holds, for error messages: `database`, `event queue`... */
  readonly what: string;
  /** More setup once the lock is held (pragmas, files to open); its error is reported like the open's. */
  readonly then?: (db: DatabaseSync) => void;
}

/** Opens (creating) `file`; throws `ConfigError` when another server holds it or it cannot be opened. */
export function openPrivateDatabase(file: string, options: PrivateDatabaseOptions): DatabaseSync {
  const { DatabaseSync } = loadSqlite();
  let db: DatabaseSync | undefined;
  try {
    privateFile(file);
    for (const companion of [`${file}-wal`, `${file}-shm`, `${file}-journal`]) tightenFile(companion);
    db = new DatabaseSync(file);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${options.synchronous}`);
    db.exec('PRAGMA foreign_keys = ON');
    // What a change deletes or replaces is overwritten, not left in free pages.
    db.exec('PRAGMA secure_delete = ON');
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('PRAGMA busy_timeout = 0');
    db.exec(options.schema);
    // The exclusive lock is taken at the first write: take it now, not at the first change.
    db.exec('BEGIN IMMEDIATE; COMMIT;');
    options.then?.(db);
    for (const companion of [`${file}-wal`, `${file}-shm`]) tightenFile(companion);
    return db;
  } catch (error) {
    db?.close();
    const message = (error as Error).message;
    if (/locked|busy/i.test(message)) throw new ConfigError(`the data directory's ${options.what} ${file} is in use by another serverfull server`);
    throw new ConfigError(`cannot open the data directory's ${options.what} ${file}: ${message}`);
  }
}
