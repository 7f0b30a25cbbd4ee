/**
 * @module deploy/code-store
 * Deployment packages on disk, content-addressed: `code/<sha256 hex>/` holds the unpacked
 * code (the task root) and `code/<sha256 hex>.zip` the package as uploaded. Both appear
 * by an atomic rename of a finished temporary, so a crash never leaves half a package
 * under its final name; leftovers are swept at the next start. A package no version uses
 * any more is removed at once (`remove`); the zips kept are bounded by a storage quota,
 * as AWS bounds an account's code storage. The folder is the owner's alone (0700), the zips 0600.
 */
import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AwsError } from '../errors.js';
import { PRIVATE_DIRECTORY, PRIVATE_FILE } from './private-files.js';
import { extractZip } from './zip-archive.js';

/** A stored package: its identity as AWS reports it, and where its code is. */
export interface CodePackage {
  /** Base64 SHA-256 of the zip: AWS's `CodeSha256`. */
  readonly codeSha256: string;
  readonly codeSize: number;
}

const TEMPORARY = '.tmp-';

/** The package folder of one data directory. */
export class CodeStore {
  /** Zip sizes of the packages on disk, by hex digest. */
  private readonly sizes = new Map<string, number>();
  private storedBytes = 0;
  /** Bytes of uploads being unpacked, counted against the quota before they land. */
  private reservedBytes = 0;

  /** `limit`: bytes of zips the store may hold (AWS's code storage quota). */
  constructor(private readonly directory: string, private readonly limit = Number.POSITIVE_INFINITY) {
    mkdirSync(directory, { recursive: true, mode: PRIVATE_DIRECTORY });
    chmodSync(directory, PRIVATE_DIRECTORY);
  }

  /** Bytes of the zips stored. */
  get usedBytes(): number {
    return this.storedBytes;
  }

  /**
   * Unpacks and keeps `zip` unless the same package is stored already; throws the zip's `AwsError`s,
   * and `CodeStorageExceededException` when a new package would take the store past its quota.
   */
  async put(zip: Buffer): Promise<CodePackage> {
    const digest = createHash('sha256').update(zip).digest();
    const hex = digest.toString('hex');
    const stored = { codeSha256: digest.toString('base64'), codeSize: zip.length };
    const root = join(this.directory, hex);
    const archive = `${root}.zip`;
    if (existsSync(root) && existsSync(archive)) return stored;
    if (this.storedBytes + this.reservedBytes + zip.length > this.limit) {
      throw new AwsError('CodeStorageExceededException', 'Code storage limit exceeded.');
    }

    this.reservedBytes += zip.length;
    const unpacking = join(this.directory, `${TEMPORARY}${randomUUID()}`);
    try {
      await mkdir(unpacking, { mode: PRIVATE_DIRECTORY });
      await extractZip(zip, unpacking);
      await writeFile(`${unpacking}.zip`, zip, { mode: PRIVATE_FILE });
      await rename(`${unpacking}.zip`, archive);
      // The same package may have been stored meanwhile; either copy is the same code.
      await rename(unpacking, root).catch((error: NodeJS.ErrnoException) => {
        if (!existsSync(root)) throw error;
      });
      this.track(hex, zip.length);
    } finally {
      this.reservedBytes -= zip.length;
      await Promise.all([rm(unpacking, { recursive: true, force: true }), rm(`${unpacking}.zip`, { force: true })]);
    }
    return stored;
  }

  /** The unpacked code of a package: the task root of the versions that use it. */
  root(codeSha256: string): string {
    return join(this.directory, Buffer.from(codeSha256, 'base64').toString('hex'));
  }

  /** The zip as uploaded, for `GetFunction`'s `Code.Location`. */
  archive(codeSha256: string): string {
    return `${this.root(codeSha256)}.zip`;
  }

  /**
   * Removes a package no version uses any more. Its names go at once (renamed to temporaries, so an
   * upload of the same package afterwards stores it afresh); the bytes are deleted in the background,
   * and a failure leaves a temporary for the next start's sweep.
   */
  remove(codeSha256: string): void {
    const hex = Buffer.from(codeSha256, 'base64').toString('hex');
    const root = join(this.directory, hex);
    const doomed = join(this.directory, `${TEMPORARY}${randomUUID()}`);
    for (const [from, to] of [[`${root}.zip`, `${doomed}.zip`], [root, doomed]] as const) {
      try {
        renameSync(from, to);
      } catch {
        // Already gone, or not movable now: the sweep at the next start removes what is left.
      }
    }
    this.untrack(hex);
    void Promise.all([rm(doomed, { recursive: true, force: true }), rm(`${doomed}.zip`, { force: true })]).catch(() => undefined);
  }

  /** Removes temporaries and packages no version uses; only at start, when no upload is under way. */
  sweep(inUse: ReadonlySet<string>): void {
    const keep = new Set([...inUse].map((sha) => Buffer.from(sha, 'base64').toString('hex')));
    for (const entry of readdirSync(this.directory)) {
      const hex = entry.endsWith('.zip') ? entry.slice(0, -4) : entry;
      const path = join(this.directory, entry);
      if (entry.startsWith(TEMPORARY) || !keep.has(hex)) {
        rmSync(path, { recursive: true, force: true });
      } else if (entry.endsWith('.zip')) {
        // Data directories from before the modes were tightened.
        chmodSync(path, PRIVATE_FILE);
        this.track(hex, statSync(path).size);
      } else {
        chmodSync(path, PRIVATE_DIRECTORY);
      }
    }
  }

  private track(hex: string, size: number): void {
    if (this.sizes.has(hex)) return;
    this.sizes.set(hex, size);
    this.storedBytes += size;
  }

  private untrack(hex: string): void {
    const size = this.sizes.get(hex);
    if (size === undefined) return;
    this.sizes.delete(hex);
    this.storedBytes -= size;
  }
}
