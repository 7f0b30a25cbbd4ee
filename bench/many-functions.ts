/**
 * @module bench/many-functions
 * A server declaring many functions: a generated manifest in a temporary folder (every function shares one tiny
 * handler file), the time from spawning `serverfull start` to its "listening" line, and its memory before any
 * invocation.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.js';
import { processCpuMicros } from './process-cpu.js';
import { procKb, threadCount } from './process-memory.js';
import { REPO_ROOT } from './repo-root.js';

const READY_LINE = 'serverfull listening on';
const READY_TIMEOUT_MS = 30_000;
/**
 * RSS is read again this long after the listening line, so that anything a server starts in the background once it
 * listens counts before any invocation (nothing today: a memory size's spare thread starts after its first cold start).
 */
const SETTLE_MS = 2000;

/** One start of a server declaring many functions. */
export interface ManyFunctionsStart {
  /** Spawn to the "listening" line, in ms. */
  readonly readyMs: number;
  /** CPU the server used until then (all threads), in ms: steadier than the wall time on a shared machine. */
  readonly readyCpuMs: number;
  /** The server's RSS at the "listening" line and after SETTLE_MS more, in kB (before any invocation). */
  readonly readyRssKb: number;
  readonly settledRssKb: number;
  readonly threads: number;
}

/** A folder with a manifest of `count` worker functions `fn1`...`fnN`, all on one echo handler; removed by the returned function. */
export function manyFunctionsManifest(count: number): { manifest: string; remove: () => void } {
  const folder = mkdtempSync(join(tmpdir(), 'serverfull-bench-many-'));
  copyFileSync(join(REPO_ROOT, 'bench/fixtures/echo.mjs'), join(folder, 'echo.mjs'));
  const functions = Object.fromEntries(Array.from({ length: count }, (_, index) => [`fn${index + 1}`, { handler: 'echo.handler', memorySize: 256 }]));
  const manifest = join(folder, 'serverfull.json');
  writeFileSync(manifest, JSON.stringify({ functions }));
  return { manifest, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/** Starts the build at `root` over `manifest` (an info-level log on stdout, to see its ready line), measures, stops it. */
export async function measureManyFunctionsStart(manifest: string, root = REPO_ROOT, nodeArgs: readonly string[] = []): Promise<ManyFunctionsStart> {
  const dataDir = mkdtempSync(join(tmpdir(), 'serverfull-bench-'));
  const args = [
    ...nodeArgs, join(root, 'bin/serverfull.js'), 'start', '--config', manifest, '--port', String(await freePort()),
    '--log-level', 'info', '--log-format', 'json', '--data-dir', dataDir,
  ];
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr = (stderr + text).slice(-4096); });
  try {
    const readyMs = await new Promise<number>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`no "${READY_LINE}" line within ${READY_TIMEOUT_MS} ms; stderr:\n${stderr}`)), READY_TIMEOUT_MS);
      child.stdout.setEncoding('utf8').on('data', (text: string) => {
        // Only the tail can hold the start of the line still to come.
        seen = (seen + text).slice(-64 * 1024);
        if (seen.includes(READY_LINE)) {
          clearTimeout(timer);
          resolve(performance.now() - started);
          seen = '';
        }
      });
      child.once('exit', (code) => reject(new Error(`server exited (${code}) before its ready line; stderr:\n${stderr}`)));
    });
    const readyCpuMs = (processCpuMicros(child.pid!) ?? 0) / 1000;
    const readyRssKb = procKb(child.pid!, 'status', 'VmRSS');
    await sleep(SETTLE_MS);
    return { readyMs, readyCpuMs, readyRssKb, settledRssKb: procKb(child.pid!, 'status', 'VmRSS'), threads: threadCount(child.pid!) };
  } finally {
    if (child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}
