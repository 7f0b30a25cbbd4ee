/**
 * @module deploy/deployment-store
 * Deployed functions' metadata in SQLite (Node.js's own `node:sqlite`): one row per function, per
 * version (`$LATEST` included) and per alias. Every change is one transaction, committed
 * before the API answers, so a crash at any moment loses no acknowledged change and
 * leaves nothing half-written. The store holds no rules: `FunctionCatalog` decides.
 * Environment variables are stored encrypted (`EnvironmentCipher`); rows from before encryption are
 * read as they are and rewritten encrypted at start. The database and its WAL are 0600.
 */
import { openPrivateDatabase } from './private-database.js';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { EPHEMERAL_STORAGE } from '../registry/function-limits.js';
import { EnvironmentCipher } from './environment-cipher.js';

/** A version's configuration as deployed: what the management API reports and the runtime needs. */
export interface StoredConfiguration {
  readonly runtime: string;
  readonly handler: string;
  readonly role: string;
  readonly timeout: number;
  readonly memorySize: number;
  /** `EphemeralStorage.Size`, MB of `/tmp`; rows written before it existed read as AWS's default. */
  readonly ephemeralStorage: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly description: string;
  readonly architectures: readonly string[];
  /** `DeadLetterConfig.TargetArn`: the topic events that failed for good are published to; absent or empty: none. */
  readonly deadLetterTarget?: string;
}

/** One function version row: `$LATEST` or a published number. */
export interface VersionRecord {
  readonly functionName: string;
  readonly version: string;
  readonly config: StoredConfiguration;
  /** Base64 SHA-256 of the zip, as AWS reports it. */
  readonly codeSha256: string;
  readonly codeSize: number;
  readonly revisionId: string;
  /** AWS's timestamp form: `2024-01-31T12:00:00.000+0000`. */
  readonly lastModified: string;
}

/** One alias row. */
export interface AliasRecord {
  readonly functionName: string;
  readonly name: string;
  readonly functionVersion: string;
  readonly description: string;
  /** `RoutingConfig.AdditionalVersionWeights`; undefined when all traffic goes to `functionVersion`. */
  readonly weights?: Readonly<Record<string, number>>;
  readonly revisionId: string;
}

/** One function row: what belongs to the function rather than to a version. */
export interface FunctionRecord {
  readonly name: string;
  readonly reservedConcurrency?: number;
  /** The number the next published version gets; numbers are never reused. */
  readonly nextVersion: number;
  /** Fingerprint of `$LATEST`'s code and configuration when the last version was published: unchanged means nothing to publish. */
  readonly publishedFingerprint?: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** Everything in the store, as loaded at start. */
export interface StoreContents {
  readonly functions: FunctionRecord[];
  readonly versions: VersionRecord[];
  readonly aliases: AliasRecord[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS functions (
  name TEXT PRIMARY KEY,
  reserved_concurrency INTEGER,
  next_version INTEGER NOT NULL,
  published_fingerprint TEXT,
  tags TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
  function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
  version TEXT NOT NULL,
  config TEXT NOT NULL,
  code_sha256 TEXT NOT NULL,
  code_size INTEGER NOT NULL,
  revision_id TEXT NOT NULL,
  last_modified TEXT NOT NULL,
  PRIMARY KEY (function_name, version)
);
CREATE TABLE IF NOT EXISTS aliases (
  function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
  name TEXT NOT NULL,
  function_version TEXT NOT NULL,
  description TEXT NOT NULL,
  weights TEXT,
  revision_id TEXT NOT NULL,
  PRIMARY KEY (function_name, name)
);
`;

interface VersionRow {
  function_name: string; version: string; config: string; code_sha256: string; code_size: number; revision_id: string; last_modified: string;
}
interface AliasRow {
  function_name: string; name: string; function_version: string; description: string; weights: string | null; revision_id: string;
}
interface FunctionRow {
  name: string; reserved_concurrency: number | null; next_version: number; published_fingerprint: string | null; tags: string;
}

/** The SQLite database of one data directory; holds an exclusive lock on it while open. */
export class DeploymentStore {
  private readonly db: DatabaseSync;
  private readonly statements: Record<'putFunction' | 'deleteFunction' | 'putVersion' | 'deleteVersion' | 'putAlias' | 'deleteAlias', StatementSync>;
  private open = true;

  constructor(file: string, private readonly cipher: EnvironmentCipher) {
    // WAL + FULL: a committed transaction survives a crash of the process (or the machine).
    const db = openPrivateDatabase(file, { schema: SCHEMA, synchronous: 'FULL', what: 'database' });
    this.db = db;
    this.statements = {
      // An upsert, not INSERT OR REPLACE: a replace deletes the row first, and the cascade would take its versions along.
      putFunction: db.prepare(`INSERT INTO functions (name, reserved_concurrency, next_version, published_fingerprint, tags) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET reserved_concurrency = excluded.reserved_concurrency, next_version = excluded.next_version,
          published_fingerprint = excluded.published_fingerprint, tags = excluded.tags`),
      deleteFunction: db.prepare('DELETE FROM functions WHERE name = ?'),
      putVersion: db.prepare('INSERT OR REPLACE INTO versions (function_name, version, config, code_sha256, code_size, revision_id, last_modified) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      deleteVersion: db.prepare('DELETE FROM versions WHERE function_name = ? AND version = ?'),
      putAlias: db.prepare('INSERT OR REPLACE INTO aliases (function_name, name, function_version, description, weights, revision_id) VALUES (?, ?, ?, ?, ?, ?)'),
      deleteAlias: db.prepare('DELETE FROM aliases WHERE function_name = ? AND name = ?'),
    };
  }

  /** Reads everything; called once at start. */
  load(): StoreContents {
    const functions = (this.db.prepare('SELECT * FROM functions').all() as unknown as FunctionRow[]).map((row): FunctionRecord => ({
      name: row.name,
      reservedConcurrency: row.reserved_concurrency ?? undefined,
      nextVersion: row.next_version,
      publishedFingerprint: row.published_fingerprint ?? undefined,
      tags: JSON.parse(row.tags) as Record<string, string>,
    }));
    const plaintext: VersionRecord[] = [];
    const versions = (this.db.prepare('SELECT * FROM versions').all() as unknown as VersionRow[]).map((row): VersionRecord => {
      const stored = JSON.parse(row.config) as Omit<StoredConfiguration, 'environment' | 'ephemeralStorage'> & { environment: unknown; ephemeralStorage?: number };
      const sealed = EnvironmentCipher.isSealed(stored.environment);
      const environment = sealed
        ? this.cipher.open(stored.environment as string, environmentContext(row.function_name, row.version))
        : (stored.environment ?? {}) as Record<string, string>;
      const record: VersionRecord = {
        functionName: row.function_name,
        version: row.version,
        config: { ...stored, ephemeralStorage: stored.ephemeralStorage ?? EPHEMERAL_STORAGE.default, environment },
        codeSha256: row.code_sha256,
        codeSize: row.code_size,
        revisionId: row.revision_id,
        lastModified: row.last_modified,
      };
      if (!sealed) plaintext.push(record);
      return record;
    });
    if (plaintext.length > 0) this.encryptPlaintext(plaintext);
    const aliases = (this.db.prepare('SELECT * FROM aliases').all() as unknown as AliasRow[]).map((row): AliasRecord => ({
      functionName: row.function_name,
      name: row.name,
      functionVersion: row.function_version,
      description: row.description,
      weights: row.weights === null ? undefined : JSON.parse(row.weights) as Record<string, number>,
      revisionId: row.revision_id,
    }));
    return { functions, versions, aliases };
  }

  /**
   * Rewrites rows written before environments were encrypted, then checkpoints and empties the WAL,
   * so that neither file keeps the plaintext (secure_delete overwrites the old cells).
   */
  private encryptPlaintext(records: readonly VersionRecord[]): void {
    this.transaction((writer) => {
      for (const record of records) writer.putVersion(record);
    });
    this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }

  /** Runs `change` in one transaction: all of its writes land, or none. */
  transaction(change: (writer: StoreWriter) => void): void {
    this.db.exec('BEGIN');
    try {
      change(this.writer);
      this.db.exec('COMMIT');
    } catch (error) {
      // A failed COMMIT (disk full, I/O error) may already have ended the transaction.
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Closes the database (and releases the directory). */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.db.close();
  }

  private readonly writer: StoreWriter = {
    putFunction: (f) => void this.statements.putFunction.run(f.name, f.reservedConcurrency ?? null, f.nextVersion, f.publishedFingerprint ?? null, JSON.stringify(f.tags)),
    deleteFunction: (name) => void this.statements.deleteFunction.run(name),
    putVersion: (v) => void this.statements.putVersion.run(
      v.functionName, v.version, JSON.stringify({ ...v.config, environment: this.cipher.seal(v.config.environment, environmentContext(v.functionName, v.version)) }),
      v.codeSha256, v.codeSize, v.revisionId, v.lastModified,
    ),
    deleteVersion: (functionName, version) => void this.statements.deleteVersion.run(functionName, version),
    putAlias: (a) => void this.statements.putAlias.run(a.functionName, a.name, a.functionVersion, a.description, a.weights === undefined ? null : JSON.stringify(a.weights), a.revisionId),
    deleteAlias: (functionName, name) => void this.statements.deleteAlias.run(functionName, name),
  };
}

/** What a sealed environment is bound to: its function and version (and what messages call it). */
function environmentContext(functionName: string, version: string): string {
  return `function ${functionName} version ${version}`;
}

/** The writes a transaction may make. */
export interface StoreWriter {
  putFunction(record: FunctionRecord): void;
  /** Deletes the function with its versions and aliases. */
  deleteFunction(name: string): void;
  putVersion(record: VersionRecord): void;
  deleteVersion(functionName: string, version: string): void;
  putAlias(record: AliasRecord): void;
  deleteAlias(functionName: string, name: string): void;
}
