/**
 * @module bench/serverless-offline-install
 * serverless-offline and the Serverless Framework it plugs into, installed from the npm registry
 * on first use into `.bench-peers/` (git-ignored) rather than made dependencies of serverfull;
 * later runs reuse that install.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './repo-root.js';

/** The folder that holds the install. */
export const PEERS_DIRECTORY = join(REPO_ROOT, '.bench-peers');

/** serverless-offline 13, and the Serverless Framework 3 it names as its peer dependency (`serverless: ^3.2.0`). */
const WANTED = { 'serverless-offline': 13, serverless: 3 } as const;

/** How long npm may take before the benchmark gives up: a cold install of its ~640 packages takes about 2 minutes. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;

/** What the benchmark runs: the Serverless Framework's CLI, and the versions found. */
export interface ServerlessOfflineInstall {
  /** The `serverless` CLI script, to run with node. */
  readonly serverlessBin: string;
  /** `serverless-offline X, serverless Y`. */
  readonly versions: string;
}

/** The installed version of `name` in `.bench-peers/`, if any. */
function installedVersion(name: keyof typeof WANTED): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(PEERS_DIRECTORY, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function describe(): ServerlessOfflineInstall | undefined {
  const offline = installedVersion('serverless-offline');
  const serverless = installedVersion('serverless');
  if (offline?.split('.')[0] !== String(WANTED['serverless-offline']) || serverless?.split('.')[0] !== String(WANTED.serverless)) return undefined;
  return { serverlessBin: join(PEERS_DIRECTORY, 'node_modules/serverless/bin/serverless.js'), versions: `serverless-offline ${offline}, serverless ${serverless}` };
}

/**
 * The install in `.bench-peers/`, made first if missing (with `npm install`, from the registry npm is
 * configured with). Throws, rather than hanging, when npm fails or the registry cannot be reached.
 */
export async function installServerlessOffline(): Promise<ServerlessOfflineInstall> {
  const installed = describe();
  if (installed !== undefined) return installed;

  console.log(`installing serverless-offline ${WANTED['serverless-offline']} and serverless ${WANTED.serverless} into ${PEERS_DIRECTORY} (once; later runs reuse it)...`);
  mkdirSync(PEERS_DIRECTORY, { recursive: true });
  // Its own package.json, so that npm installs here rather than into the repository's package.
  const dependencies = Object.fromEntries(Object.entries(WANTED).map(([name, major]) => [name, `^${major}.0.0`]));
  writeFileSync(join(PEERS_DIRECTORY, 'package.json'), JSON.stringify({ private: true, dependencies }, null, 2) + '\n');
  try {
    // No install scripts: none is needed to run (those there print notices).
    await promisify(execFile)('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--fetch-retries=1', '--fetch-timeout=30000'], {
      cwd: PEERS_DIRECTORY, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stderr, killed } = error as { stderr?: string; killed?: boolean };
    throw new Error(
      `could not install serverless-offline into ${PEERS_DIRECTORY}: ${killed ? `npm install did not finish within ${INSTALL_TIMEOUT_MS / 60_000} minutes` : 'npm install failed'}` +
      ` (is the npm registry reachable? \`npm config get registry\` names it)${stderr ? `; npm said:\n${stderr.trim().slice(-2000)}` : ''}`,
      { cause: error },
    );
  }
  const result = describe();
  if (result === undefined) throw new Error(`npm install in ${PEERS_DIRECTORY} finished without serverless-offline ${WANTED['serverless-offline']} and serverless ${WANTED.serverless}`);
  return result;
}
