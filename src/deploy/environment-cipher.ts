/**
 * @module deploy/environment-cipher
 * Functions' environment variables encrypted at rest: AES-256-GCM (node:crypto) with a random
 * 96-bit IV per value, bound to the function and version it belongs to (as additional data), so a
 * sealed value copied into another row does not open. The 32-byte key is a file: `serverfull.key`
 * in the data directory (created, 0600, at the first start that finds none and no encrypted
 * values), or the file the `kmsKeyFile` setting names (never created: the operator keeps it).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { PRIVATE_FILE } from './private-files.js';

/** The key file's name in a data directory. */
export const KEY_FILE_NAME = 'serverfull.key';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Marks a sealed value: `sf1:<key id>:<base64 of IV, tag, ciphertext>`. */
const PREFIX = 'sf1:';

/** Where the key comes from, for messages. */
interface KeySource {
  readonly file: string;
  /** Given by the `kmsKeyFile` setting (as opposed to the data directory's own). */
  readonly configured: boolean;
}

/** Seals and opens environment variables with one key. */
export class EnvironmentCipher {
  private key: Buffer | undefined;
  private keyId: string | undefined;

  private constructor(private readonly source: KeySource, key: Buffer | undefined) {
    if (key) this.useKey(key);
  }

  /**
   * The cipher of a data directory: the key file `kmsKeyFile` names, or the directory's own
   * `serverfull.key` (which `ensureKey` creates once nothing encrypted needs an older one).
   * Throws `ConfigError` for a key file that is missing (when named) or malformed.
   */
  static forDataDir(dataDir: string, kmsKeyFile: string | undefined): EnvironmentCipher {
    if (kmsKeyFile !== undefined) {
      const file = resolve(kmsKeyFile);
      return new EnvironmentCipher({ file, configured: true }, readKey(file, '--kms-key-file (SERVERFULL_KMS_KEY_FILE)'));
    }
    const file = join(dataDir, KEY_FILE_NAME);
    return new EnvironmentCipher({ file, configured: false }, existsSync(file) ? readKey(file, 'the data directory\'s key file') : undefined);
  }

  /** Whether `stored` (a config row's `environment`) is a sealed value rather than plaintext from before encryption. */
  static isSealed(stored: unknown): stored is string {
    return typeof stored === 'string' && stored.startsWith(PREFIX);
  }

  /** Creates the data directory's key file (0600) if there is no key yet. */
  ensureKey(): void {
    if (this.key) return;
    const key = randomBytes(KEY_BYTES);
    try {
      writeFileSync(this.source.file, `${key.toString('base64')}\n`, { mode: PRIVATE_FILE, flag: 'wx' });
    } catch (error) {
      throw new ConfigError(`cannot create the key file ${this.source.file} that encrypts environment variables: ${(error as Error).message}`);
    }
    this.useKey(key);
  }

  /** Encrypts `environment`; `context` (function and version) must be given again to open it. */
  seal(environment: Readonly<Record<string, string>>, context: string): string {
    this.ensureKey();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key!, iv);
    cipher.setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(environment), 'utf8'), cipher.final()]);
    return `${PREFIX}${this.keyId}:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64')}`;
  }

  /** Decrypts a sealed value; throws `ConfigError` when the key is missing or is not the one it was sealed with. */
  open(sealed: string, context: string): Record<string, string> {
    const [, keyId = '', data = ''] = sealed.split(':');
    if (!this.key) {
      throw new ConfigError(
        `the environment variables of ${context} are encrypted, but the key file ${this.source.file} is missing: restore it (or give the key's file with --kms-key-file)`,
      );
    }
    if (keyId !== this.keyId) {
      throw new ConfigError(
        `the environment variables of ${context} were encrypted with key ${keyId}, but ${this.describeSource()} holds key ${this.keyId}: give the right key file`,
      );
    }
    try {
      const bytes = Buffer.from(data, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as Record<string, string>;
    } catch {
      throw new ConfigError(`the environment variables of ${context} cannot be decrypted with ${this.describeSource()}: the stored value is damaged`);
    }
  }

  private describeSource(): string {
    return this.source.configured ? `--kms-key-file ${this.source.file}` : `the key file ${this.source.file}`;
  }

  private useKey(key: Buffer): void {
    this.key = key;
    // Names the key in sealed values without revealing it: a wrong key file is told apart from damage.
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 12);
  }
}

/** A 32-byte key from a file: 32 raw bytes, or 64 hex digits, or base64, as text. */
function readKey(file: string, what: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new ConfigError(`${what}: cannot read the key file ${file}: ${(error as Error).message}`);
  }
  if (bytes.length === KEY_BYTES) return bytes;
  const text = bytes.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return Buffer.from(text, 'base64');
  throw new ConfigError(`${what}: the key file ${file} must hold a 32-byte key: 32 raw bytes, 64 hex digits or 44 characters of base64 (openssl rand -base64 32)`);
}
