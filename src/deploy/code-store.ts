/**
 * @module deploy/code-store
 * Deployment packages on disk, content-addressed: `code/<sha256 hex>/` holds the unpacked
 * code (the task root) and `code/<sha256 hex>.zip` the package as uploaded. Both appear
 * by an atomic rename of a finished temporary, so a crash never leaves half a package
 * under its final name; leftovers are swept at the next start.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  constructor(private readonly directory: string) {
    mkdirSync(directory, { recursive: true });
  }

  /** Unpacks and keeps `zip` unless the same package is stored already; throws the zip's `AwsError`s. */
  async put(zip: Buffer): Promise<CodePackage> {
    const digest = createHash('sha256').update(zip).digest();
    const hex = digest.toString('hex');
    const stored = { codeSha256: digest.toString('base64'), codeSize: zip.length };
    const root = join(this.directory, hex);
    const archive = `${root}.zip`;
    if (existsSync(root) && existsSync(archive)) return stored;

    const unpacking = join(this.directory, `${TEMPORARY}${randomUUID()}`);
    try {
      await mkdir(unpacking);
      await extractZip(zip, unpacking);
      await writeFile(`${unpacking}.zip`, zip);
      await rename(`${unpacking}.zip`, archive);
      // The same package may have been stored meanwhile; either copy is the same code.
      await rename(unpacking, root).catch((error: NodeJS.ErrnoException) => {
        if (!existsSync(root)) throw error;
      });
    } finally {
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

  /** Removes temporaries and packages no version uses; only at start, when no upload is under way. */
  sweep(inUse: ReadonlySet<string>): void {
    const keep = new Set([...inUse].map((sha) => Buffer.from(sha, 'base64').toString('hex')));
    for (const entry of readdirSync(this.directory)) {
      const hex = entry.endsWith('.zip') ? entry.slice(0, -4) : entry;
      if (entry.startsWith(TEMPORARY) || !keep.has(hex)) rmSync(join(this.directory, entry), { recursive: true, force: true });
    }
  }
}
