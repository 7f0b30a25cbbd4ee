/**
 * @module bench/serverfull-process
 * serverfull started as the benchmarks start it: a child process over a fixture manifest, a fresh data directory.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { REPO_ROOT } from './repo-root.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

/**
 * `serverfull start` over `bench/fixtures/MANIFEST` in `isolation`, with `extraArgs`, on this Node.js or `node`, with `env` added to its
 * environment; the build at `root` (this one unless given: another build's copy for a side-by-side comparison).
 */
export async function startServerfull(
  manifest: string, isolation: 'inline' | 'worker' | 'process', extraArgs: readonly string[] = [], node?: string, env?: Readonly<Record<string, string>>, root = REPO_ROOT,
): Promise<ServerProcess> {
  const port = await freePort();
  const args = [
    join(root, 'bin/serverfull.js'), 'start',
    '--config', join(REPO_ROOT, 'bench/fixtures', manifest),
    '--port', String(port),
    '--isolation', isolation,
    '--log-level', 'warn',
    '--data-dir', mkdtempSync(join(tmpdir(), 'serverfull-bench-')),
    // Far above the 32 connections, so the account limit never throttles the load.
    '--concurrency', '1000',
    ...extraArgs,
  ];
  return startServerProcess(args, port, node, env);
}
