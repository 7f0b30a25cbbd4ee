/**
 * @module parameters/parameter-store
 * Parameters in SQLite (`parameters.db` in the data directory, Node.js's own `node:sqlite`): one row
 * per version, and one per parameter pointing at its current version. As the deployment store: WAL
 * with `synchronous = FULL`, every change one transaction committed before the API answers (nothing
 * acknowledged is lost to a crash or kill -9), an exclusive lock (one server per data directory),
 * `secure_delete`, files 0600. SecureString values are sealed with the data directory's key
 * (`EnvironmentCipher`), bound to the parameter's name and version: never written in plain text.
 * The store holds no AWS rules; `parameter-service.ts` decides.
 */
import { openPrivateDatabase } from '../deploy/private-database.js';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { join } from 'node:path';
import { EnvironmentCipher } from '../deploy/environment-cipher.js';

/** The three parameter types. */
export type ParameterType = 'String' | 'StringList' | 'SecureString';

/** One version of a parameter as stored; `value` is sealed for a SecureString. */
export interface StoredVersion {
  readonly name: string;
  readonly version: number;
  readonly type: ParameterType;
  readonly value: string;
  readonly keyId?: string;
  readonly description: string;
  readonly allowedPattern: string;
  readonly dataType: string;
  /** Milliseconds since the epoch. */
  readonly modifiedAt: number;
  /** The ARN of who wrote it. */
  readonly modifiedBy: string;
  readonly labels: readonly string[];
}

/** A version to write; `value` in plain text (sealed here when it is a SecureString). */
export type NewVersion = Omit<StoredVersion, 'labels'>;

/** The database file's name in the data directory. */
export const PARAMETERS_FILE = 'parameters.db';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS parameter_versions (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  type TEXT NOT NULL,
  value TEXT NOT NULL,
  key_id TEXT,
  description TEXT NOT NULL,
  allowed_pattern TEXT NOT NULL,
  data_type TEXT NOT NULL,
  modified_at INTEGER NOT NULL,
  modified_by TEXT NOT NULL,
  labels TEXT NOT NULL,
  PRIMARY KEY (name, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS parameters (
  name TEXT PRIMARY KEY,
  version INTEGER NOT NULL
) WITHOUT ROWID;
`;

interface VersionRow {
  name: string; version: number; type: string; value: string; key_id: string | null; description: string;
  allowed_pattern: string; data_type: string; modified_at: number; modified_by: string; labels: string;
}

/** The parameters of one data directory; holds an exclusive lock on their database while open. */
export class ParameterStore {
  private readonly db: DatabaseSync;
  private readonly cipher: EnvironmentCipher;
  private readonly statements: Record<'current' | 'version' | 'history' | 'putVersion' | 'setCurrent' | 'deleteVersion' | 'deleteAll' | 'deleteName' | 'setLabels' | 'count' | 'rangeFrom' | 'rangeAfter', StatementSync>;
  private open = true;

  /** Opens (creating) `parameters.db` in `dataDir`; SecureStrings use the key the `kmsKeyFile` setting names, else the directory's. */
  constructor(dataDir: string, kmsKeyFile?: string) {
    const file = join(dataDir, PARAMETERS_FILE);
    this.cipher = EnvironmentCipher.forDataDir(dataDir, kmsKeyFile);
    const db = openPrivateDatabase(file, { schema: SCHEMA, synchronous: 'FULL', what: 'parameter database' });
    this.db = db;
    this.statements = {
      current: db.prepare('SELECT v.* FROM parameters p JOIN parameter_versions v ON v.name = p.name AND v.version = p.version WHERE p.name = ?'),
      version: db.prepare('SELECT * FROM parameter_versions WHERE name = ? AND version = ?'),
      history: db.prepare('SELECT * FROM parameter_versions WHERE name = ? ORDER BY version'),
      putVersion: db.prepare(`INSERT INTO parameter_versions (name, version, type, value, key_id, description, allowed_pattern, data_type, modified_at, modified_by, labels)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]')`),
      setCurrent: db.prepare('INSERT INTO parameters (name, version) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version'),
      deleteVersion: db.prepare('DELETE FROM parameter_versions WHERE name = ? AND version = ?'),
      deleteAll: db.prepare('DELETE FROM parameter_versions WHERE name = ?'),
      deleteName: db.prepare('DELETE FROM parameters WHERE name = ?'),
      setLabels: db.prepare('UPDATE parameter_versions SET labels = ? WHERE name = ? AND version = ?'),
      count: db.prepare('SELECT count(*) AS n FROM parameters'),
      // Current versions of the names in [from, to) or (after, to), in name order.
      rangeFrom: db.prepare(`SELECT v.* FROM parameters p JOIN parameter_versions v ON v.name = p.name AND v.version = p.version
        WHERE p.name >= ? AND p.name < ? ORDER BY p.name`),
      rangeAfter: db.prepare(`SELECT v.* FROM parameters p JOIN parameter_versions v ON v.name = p.name AND v.version = p.version
        WHERE p.name > ? AND p.name < ? ORDER BY p.name`),
    };
  }

  /** The current version of `name`. */
  current(name: string): StoredVersion | undefined {
    return rowToVersion(this.statements.current.get(name) as VersionRow | undefined);
  }

  /** One version of `name`. */
  version(name: string, version: number): StoredVersion | undefined {
    return rowToVersion(this.statements.version.get(name, version) as VersionRow | undefined);
  }

  /** Every version of `name`, oldest first; empty when it does not exist. */
  history(name: string): StoredVersion[] {
    return (this.statements.history.all(name) as unknown as VersionRow[]).map((row) => rowToVersion(row)!);
  }

  /** How many parameters exist. */
  count(): number {
    return (this.statements.count.get() as { n: number }).n;
  }

  /** The current versions of every parameter whose name is after `after` (exclusive) and starts with `prefix`, in name order. */
  list(prefix: string, after?: string): StoredVersion[] {
    // Names are ASCII, compared bytewise: every name starting with `prefix` sorts before `prefix` + U+FFFF.
    const rows = after !== undefined && after >= prefix
      ? this.statements.rangeAfter.all(after, `${prefix}\uffff`)
      : this.statements.rangeFrom.all(prefix, `${prefix}\uffff`);
    return (rows as unknown as VersionRow[]).map((row) => rowToVersion(row)!);
  }

  /** Writes a new version and makes it current, dropping the versions `drop` names, in one transaction. */
  put(next: NewVersion, drop: readonly number[] = []): void {
    const value = next.type === 'SecureString' ? this.cipher.seal({ value: next.value }, sealContext(next.name, next.version)) : next.value;
    this.transaction(() => {
      for (const version of drop) this.statements.deleteVersion.run(next.name, version);
      this.statements.putVersion.run(next.name, next.version, next.type, value, next.keyId ?? null, next.description, next.allowedPattern,
        next.dataType, next.modifiedAt, next.modifiedBy);
      this.statements.setCurrent.run(next.name, next.version);
    });
  }

  /** Sets the labels of versions of `name`, in one transaction. */
  setLabels(name: string, labels: ReadonlyMap<number, readonly string[]>): void {
    this.transaction(() => {
      for (const [version, list] of labels) this.statements.setLabels.run(JSON.stringify(list), name, version);
    });
  }

  /** Deletes `name` with its whole history; false when it did not exist. */
  delete(name: string): boolean {
    let deleted = false;
    this.transaction(() => {
      deleted = Number(this.statements.deleteName.run(name).changes) > 0;
      this.statements.deleteAll.run(name);
    });
    return deleted;
  }

  /** The plain value of a stored version: a SecureString opened with the key. */
  plainValue(stored: StoredVersion): string {
    if (stored.type !== 'SecureString') return stored.value;
    return this.cipher.open(stored.value, sealContext(stored.name, stored.version)).value ?? '';
  }

  /** Closes the database (and releases the directory). */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.db.close();
  }

  private transaction(change: () => void): void {
    this.db.exec('BEGIN');
    try {
      change();
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }
}

/** What a sealed value is bound to: a sealed value copied into another parameter's row, or another version's, does not open. */
function sealContext(name: string, version: number): string {
  return `parameter ${name} version ${version}`;
}

function rowToVersion(row: VersionRow | undefined): StoredVersion | undefined {
  if (row === undefined) return undefined;
  return {
    name: row.name,
    version: row.version,
    type: row.type as ParameterType,
    value: row.value,
    ...(row.key_id === null ? {} : { keyId: row.key_id }),
    description: row.description,
    allowedPattern: row.allowed_pattern,
    dataType: row.data_type,
    modifiedAt: row.modified_at,
    modifiedBy: row.modified_by,
    labels: JSON.parse(row.labels) as string[],
  };
}
