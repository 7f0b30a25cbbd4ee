/**
 * @module deploy/zip-archive
 * Lambda deployment packages: unpacks untrusted uploads without letting them escape their folder or
 * fill the disk, and packs a folder so that the same contents always give the same bytes (and CodeSha256).
 */
import { constants, createWriteStream } from 'node:fs';
import { access, chmod, lstat, mkdir, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { AwsError } from '../errors.js';

/** AWS Lambda's quota for a zip uploaded directly in the API request. */
export const MAX_ZIPPED_BYTES = 52_428_800;

/** AWS Lambda's quota for the unzipped code, which is what actually lands on our disk. */
export const MAX_UNZIPPED_BYTES = 262_144_000;

/** Bounds the metadata held in memory and the files created, for a zip of millions of empty entries. */
const DEFAULT_MAX_ENTRIES = 100_000;

/** AWS's only wording for any upload it cannot unpack, whatever the reason. */
const COULD_NOT_UNZIP = 'Could not unzip uploaded file. Please check your file, then try to upload again.';

const FILE_TYPE_MASK = 0o170000;
const SYMLINK_TYPE = 0o120000;
const DIRECTORY_TYPE = 0o040000;
const ANY_EXECUTE = 0o111;
const FILE_MODE = 0o644;
const EXECUTABLE_MODE = 0o755;
const DIRECTORY_MODE = 0o755;

/**
 * Filesystem error codes that an entry layout can cause by itself (a file where a folder must go,
 * an over-long name): the upload's fault. Other filesystem errors (disk full, permissions) are ours.
 */
const LAYOUT_ERROR_CODES = new Set(['ENOTDIR', 'EEXIST', 'EISDIR', 'ENAMETOOLONG', 'EINVAL', 'ELOOP']);

/**
 * Local time on purpose: yazl writes DOS timestamps from local-time fields, so a UTC instant would
 * give different bytes in different time zones. Built per call because TZ can change at run time,
 * and a day past yazl's 1980-01-01 floor (also local) so that no zone's offset gets it clamped.
 */
function fixedMtime(): Date {
  return new Date(1980, 0, 2, 12);
}

/** Folders at the top of a project that are never part of the code. */
const SKIPPED_TOP_LEVEL = new Set(['.git', '.serverfull']);

function couldNotUnzip(): AwsError {
  return new AwsError('InvalidParameterValueException', COULD_NOT_UNZIP);
}

function tooLarge(limit: number): AwsError {
  return new AwsError('InvalidParameterValueException', `Unzipped size must be smaller than ${limit} bytes`);
}

/** One entry checked in the first pass, before anything is written. */
interface PlannedEntry {
  readonly entry: yauzl.Entry;
  readonly target: string;
  readonly kind: 'file' | 'directory';
  readonly mode: number;
}

/** Unzipped bytes allowed and used so far, shared by all entries of one archive. */
interface ByteBudget {
  readonly limit: number;
  used: number;
}

/** Extracts an uploaded zip into `destination`, refusing anything that could escape it or exhaust the disk. */
export async function extractZip(
  zip: Buffer,
  destination: string,
  limits: { maxUnzippedBytes?: number; maxEntries?: number } = {},
): Promise<{ files: number; unzippedBytes: number }> {
  const budget: ByteBudget = { limit: limits.maxUnzippedBytes ?? MAX_UNZIPPED_BYTES, used: 0 };
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const root = path.resolve(destination);
  const zipfile = await openZip(zip);
  try {
    // The end-of-central-directory count is known before any entry is read: refuse at once.
    if (zipfile.entryCount > maxEntries) throw couldNotUnzip();
    const plan = await planEntries(zipfile, root, budget.limit);
    const files = await writeEntries(zipfile, plan, root, budget);
    return { files, unzippedBytes: budget.used };
  } catch (error) {
    throw asUnzipError(error);
  } finally {
    zipfile.close();
  }
}

function openZip(zip: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    const options = {
      lazyEntries: true,
      validateEntrySizes: true,
      strictFileNames: false,
      decodeStrings: true,
      // The second pass reads file data after the first pass has seen the end of the directory.
      autoClose: false,
    };
    try {
      yauzl.fromBuffer(zip, options, (error, zipfile) => (error ? reject(couldNotUnzip()) : resolve(zipfile)));
    } catch {
      reject(couldNotUnzip());
    }
  });
}

/** Reads the whole central directory and validates every entry, so a bad archive writes nothing. */
async function planEntries(zipfile: yauzl.ZipFile, root: string, limit: number): Promise<PlannedEntry[]> {
  const plan: PlannedEntry[] = [];
  // Two entries for one path would leave whichever came last: the code run would not be the code reviewed.
  const seen = new Map<string, 'file' | 'directory'>();
  let declaredBytes = 0;
  for await (const entry of zipfile.eachEntry()) {
    declaredBytes += entry.uncompressedSize;
    if (declaredBytes > limit) throw tooLarge(limit);
    if (!entry.canDecodeFileData()) throw couldNotUnzip();
    const unixMode = entry.externalFileAttributes >>> 16;
    const fileType = unixMode & FILE_TYPE_MASK;
    if (fileType === SYMLINK_TYPE) throw couldNotUnzip();
    const isDirectory = entry.fileName.endsWith('/') || fileType === DIRECTORY_TYPE;
    const target = resolveInside(root, entry.fileName);
    if (target === root) {
      if (isDirectory) continue;
      throw couldNotUnzip();
    }
    const kind = isDirectory ? 'directory' : 'file';
    const earlier = seen.get(target);
    if (earlier !== undefined && (earlier === 'file' || kind === 'file')) throw couldNotUnzip();
    seen.set(target, kind);
    plan.push(
      isDirectory
        ? { entry, target, kind: 'directory', mode: DIRECTORY_MODE }
        : { entry, target, kind: 'file', mode: unixMode & ANY_EXECUTE ? EXECUTABLE_MODE : FILE_MODE },
    );
  }
  return plan;
}

/**
 * Our own zip-slip guard, independent of yauzl's name checks: the final word is that the resolved
 * path lies inside `root`.
 */
function resolveInside(root: string, fileName: string): string {
  const normalised = path.posix.normalize(fileName);
  if (
    fileName.includes('\0') ||
    fileName.includes('\\') ||
    fileName.split('/').includes('..') ||
    path.posix.isAbsolute(normalised) ||
    /^[a-zA-Z]:/.test(normalised)
  ) {
    throw couldNotUnzip();
  }
  const target = path.resolve(root, ...normalised.split('/').filter((segment) => segment !== ''));
  if (!isWithin(root, target)) throw couldNotUnzip();
  return target;
}

/** Lexical containment: enough because extraction never creates symlinks and createZip compares real paths. */
function isWithin(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/** Writes the planned entries one at a time, so an error stops all writing at once. */
async function writeEntries(
  zipfile: yauzl.ZipFile,
  plan: readonly PlannedEntry[],
  root: string,
  budget: ByteBudget,
): Promise<number> {
  const directories = new Set([root]);
  let files = 0;
  for (const { entry, target, kind, mode } of plan) {
    if (kind === 'directory') {
      await ensureDirectory(target, directories);
      continue;
    }
    await ensureDirectory(path.dirname(target), directories);
    const data = await zipfile.openReadStreamPromise(entry);
    await pipeline(data, verifyData(entry.crc32, budget), createWriteStream(target, { mode }));
    await chmod(target, mode);
    files += 1;
  }
  return files;
}

/** Creates each missing folder itself (not `recursive`), so every one gets its mode whatever the umask. */
async function ensureDirectory(directory: string, known: Set<string>): Promise<void> {
  if (known.has(directory)) return;
  await ensureDirectory(path.dirname(directory), known);
  try {
    await mkdir(directory, { mode: DIRECTORY_MODE });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (!(await lstat(directory)).isDirectory()) throw couldNotUnzip();
  }
  await chmod(directory, DIRECTORY_MODE);
  known.add(directory);
}

/**
 * Counts the bytes really inflated against the budget (headers can lie) and checks the CRC, which
 * yauzl leaves to its callers. A chunk that would cross the limit is never passed on to the file.
 */
function verifyData(expectedCrc: number, budget: ByteBudget): Transform {
  let crc = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      budget.used += chunk.length;
      if (budget.used > budget.limit) return callback(tooLarge(budget.limit));
      crc = crc32(chunk, crc);
      callback(null, chunk);
    },
    flush(callback) {
      callback(crc === expectedCrc ? null : couldNotUnzip());
    },
  });
}

/** Anything wrong with the archive is AWS's one message; our own disk trouble stays a server error. */
function asUnzipError(error: unknown): unknown {
  if (error instanceof AwsError) return error;
  const { code, syscall } = error as NodeJS.ErrnoException;
  if (typeof syscall === 'string' && !LAYOUT_ERROR_CODES.has(code ?? '')) return error;
  return couldNotUnzip();
}

/** One file to pack: its name inside the zip and where its bytes are read from. */
interface PackedFile {
  readonly zipPath: string;
  readonly realPath: string;
  readonly executable: boolean;
}

/** Zips a folder for `serverfull deploy` so that the same contents always give the same bytes. */
export async function createZip(directory: string): Promise<Buffer> {
  const root = await readableDirectory(directory);
  const files: PackedFile[] = [];
  await collectFiles(root, root, '', new Set([root]), files);
  files.sort((a, b) => (a.zipPath < b.zipPath ? -1 : a.zipPath > b.zipPath ? 1 : 0));
  return writeZip(files);
}

async function readableDirectory(directory: string): Promise<string> {
  try {
    const root = await realpath(directory);
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
    await access(root, constants.R_OK | constants.X_OK);
    return root;
  } catch (error) {
    throw new Error(`Cannot zip ${directory}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Walks `directory` (a real path), following symlinks only to targets inside `root`; `ancestors`
 * holds the real paths above, so a link back up the tree is not walked forever.
 */
async function collectFiles(
  root: string,
  directory: string,
  prefix: string,
  ancestors: ReadonlySet<string>,
  files: PackedFile[],
): Promise<void> {
  for (const dirent of await readdir(directory, { withFileTypes: true })) {
    if (prefix === '' && SKIPPED_TOP_LEVEL.has(dirent.name)) continue;
    // yazl silently turns `\` into `/`, which would change the file's path inside the package.
    if (dirent.name.includes('\\')) throw new Error(`Cannot zip a file name containing "\\": ${path.join(directory, dirent.name)}`);
    const target = await followInside(root, path.join(directory, dirent.name), dirent.isSymbolicLink());
    if (target === undefined) continue;
    const zipPath = prefix + dirent.name;
    const stats = await stat(target);
    if (stats.isDirectory()) {
      if (ancestors.has(target)) continue;
      await collectFiles(root, target, `${zipPath}/`, new Set([...ancestors, target]), files);
    } else if (stats.isFile()) {
      files.push({ zipPath, realPath: target, executable: (stats.mode & ANY_EXECUTE) !== 0 });
    }
  }
}

/** The real path to read, or undefined for a broken link or one pointing outside the package. */
async function followInside(root: string, file: string, isLink: boolean): Promise<string | undefined> {
  if (!isLink) return file;
  const target = await realpath(file).catch(() => undefined);
  return target !== undefined && isWithin(root, target) ? target : undefined;
}

function writeZip(files: readonly PackedFile[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    const mtime = fixedMtime();
    const chunks: Buffer[] = [];
    zip.on('error', reject);
    zip.outputStream.on('error', reject);
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    for (const file of files) {
      zip.addFile(file.realPath, file.zipPath, {
        mtime,
        // yazl wants the whole st_mode: without the regular-file type bits, unzip tools guess.
        mode: file.executable ? 0o100000 | EXECUTABLE_MODE : 0o100000 | FILE_MODE,
        compress: true,
        // The extended timestamp field holds UTC seconds, which would differ between time zones.
        forceDosTimestamp: true,
      });
    }
    zip.end();
  });
}
