/**
 * @module auth/keys-file
 * The keys file: IAM-like users (access keys and a policy) and roles (a policy, for the
 * temporary credentials of functions). It holds secrets, so it is refused unless only its
 * owner can read and write it, and refused whole on any mistake rather than half-loaded.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { ConfigError, check } from '../config/config-error.js';
import { parsePolicy, type Policy } from './policy.js';

/** One user's access key as the file stores it. */
export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** A user: its long-term keys and its identity policy. */
export interface KeysFileUser {
  readonly name: string;
  readonly accessKeys: readonly AccessKey[];
  readonly policy: Policy;
}

/** A role: the policy of the temporary credentials issued for it. */
export interface KeysFileRole {
  readonly name: string;
  readonly policy: Policy;
  /** The API its functions belong to: their parameter namespace is `/<api>/<function>/`, `/<api>/common/` (and `/global/`). */
  readonly api?: string;
}

/** A loaded, validated keys file. */
export interface KeysFile {
  readonly users: ReadonlyMap<string, KeysFileUser>;
  readonly roles: ReadonlyMap<string, KeysFileRole>;
  /** The user owning a long-term access key, with its secret. */
  userByAccessKey(accessKeyId: string): { user: KeysFileUser; secretAccessKey: string } | undefined;
}

/** An API name, a level of a parameter path: letters, digits, `.-_`. */
const API_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;
/** IAM's user and role name characters. */
const NAME = /^[\w+=,.@-]{1,64}$/;
/** IAM's access key id shape; `ASIA` ids are serverfull's temporary credentials, never in the file. */
const ACCESS_KEY_ID = /^(?!ASIA)[A-Z0-9]{16,128}$/;
const MIN_SECRET_LENGTH = 16;

/** The keys file's name in a data directory, where the server looks for it when `--keys` is not given. */
export const KEYS_FILE_NAME = 'keys.json';

/** Reads and validates the keys file at `path`; throws `ConfigError` naming the mistake. */
export function loadKeysFile(path: string): KeysFile {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigError(`no keys file ${path}: create it with serverfull keys add NAME --keys ${path}`);
    throw new ConfigError(`keys file ${path}: ${(error as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      `keys file ${path} is accessible by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); it holds secret keys: run chmod 600 ${path}`,
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`keys file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseKeysFile(document, `keys file ${path}`);
}

/** Validates a keys file's JSON document; `where` prefixes every error message. */
export function parseKeysFile(document: unknown, where: string): KeysFile {
  const root = check.object(document, where);
  check.knownKeys(root, where, ['users', 'roles']);
  const users = new Map<string, KeysFileUser>();
  const secrets = new Map<string, { user: KeysFileUser; secretAccessKey: string }>();
  for (const [name, value] of Object.entries(check.object(root.users ?? {}, `${where}: users`))) {
    const at = `${where}: users.${name}`;
    check.string(name, `${at} (the user name)`, NAME, 'an IAM user name (letters, digits, +=,.@_-, at most 64)');
    const entry = check.object(value, at);
    check.knownKeys(entry, at, ['accessKeys', 'policy']);
    if (!Array.isArray(entry.accessKeys)) throw new ConfigError(`${at}.accessKeys must be a list (got ${JSON.stringify(entry.accessKeys)})`);
    const accessKeys = entry.accessKeys.map((key, i) => parseAccessKey(key, `${at}.accessKeys[${i}]`));
    const user: KeysFileUser = Object.freeze({ name, accessKeys: Object.freeze(accessKeys), policy: parsePolicy(entry.policy, `${at}.policy`) });
    for (const key of accessKeys) {
      // One key must name one principal: a duplicate would make the owner depend on file order.
      if (secrets.has(key.accessKeyId)) throw new ConfigError(`${where}: access key id ${key.accessKeyId} appears more than once`);
      secrets.set(key.accessKeyId, { user, secretAccessKey: key.secretAccessKey });
    }
    users.set(name, user);
  }
  const roles = new Map<string, KeysFileRole>();
  for (const [name, value] of Object.entries(check.object(root.roles ?? {}, `${where}: roles`))) {
    const at = `${where}: roles.${name}`;
    check.string(name, `${at} (the role name)`, NAME, 'an IAM role name (letters, digits, +=,.@_-, at most 64)');
    const entry = check.object(value, at);
    check.knownKeys(entry, at, ['policy', 'api']);
    // With an API name, a role may leave out its policy: its functions then read their parameter namespace, and call nothing.
    const policy = entry.policy === undefined && entry.api !== undefined ? parsePolicy({ Statement: [] }, `${at}.policy`) : parsePolicy(entry.policy, `${at}.policy`);
    const api = entry.api === undefined ? undefined : check.string(entry.api, `${at}.api`, API_NAME, 'an API name: 1 to 64 letters, digits, ., - or _');
    roles.set(name, Object.freeze({ name, policy, ...(api === undefined ? {} : { api }) }));
  }
  return Object.freeze({
    users,
    roles,
    userByAccessKey: (accessKeyId: string) => secrets.get(accessKeyId),
  });
}

function parseAccessKey(value: unknown, where: string): AccessKey {
  const key = check.object(value, where);
  check.knownKeys(key, where, ['accessKeyId', 'secretAccessKey']);
  // The secret is never echoed: a mistake names the field only.
  if (typeof key.secretAccessKey !== 'string' || key.secretAccessKey.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`${where}.secretAccessKey must be a string of at least ${MIN_SECRET_LENGTH} characters`);
  }
  return Object.freeze({
    accessKeyId: check.string(key.accessKeyId, `${where}.accessKeyId`, ACCESS_KEY_ID, '16 to 128 uppercase letters and digits, not starting with ASIA'),
    secretAccessKey: key.secretAccessKey,
  });
}

const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** `prefix` followed by random characters of `alphabet` up to `length`, from `crypto.randomBytes`. */
export function randomKeyString(prefix: string, length: number, alphabet: string): string {
  let out = prefix;
  // Rejection sampling keeps every character equally likely whatever the alphabet's size.
  const limit = 256 - (256 % alphabet.length);
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

/** A new long-term access key: an AKIA-style id (20 uppercase letters and digits) and a 40-character secret. */
export function generateAccessKey(): AccessKey {
  return {
    accessKeyId: randomKeyString('AKIA', 20, KEY_ID_ALPHABET),
    secretAccessKey: randomKeyString('', 40, SECRET_ALPHABET),
  };
}

/**
 * Writes `document` to `path` with mode 0600: through a temporary file created 0600 and a
 * rename, so the secrets are never readable by others, not even for a moment, and a crash
 * leaves the old file or the new one, never half of one.
 */
export function writeKeysFile(path: string, document: unknown): void {
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(document, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // The umask may have narrowed the mode further, never widened it; make it exactly 0600.
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
