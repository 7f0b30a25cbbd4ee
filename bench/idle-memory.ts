/**
 * @module bench/idle-memory
 * The memory one idle execution environment costs, per kind; `node dist/bench/idle-memory.js` prints it alone,
 * `npm run bench:memory` with its targets. A server child serves `bench/fixtures/cold-start.json` (256 MB functions);
 * its process tree is measured, ENVIRONMENTS functions are invoked once each (each gets its own environment, then
 * idles), and the tree is measured again. For process environments the runtime processes are the server's
 * descendants: their RSS and PSS (shared pages split between the processes that map them) per environment, and for
 * sandboxed ones the memory cgroups' own count. For worker environments, which live in the server's process, the
 * growth of the server's RSS per environment.
 */
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { postEcho } from './echo-response.js';
import { mb, measureTree, type TreeMemory } from './process-memory.js';
import { REPO_ROOT } from './repo-root.js';
import { killAllServerProcesses } from './server-process.js';
import { startServerfull } from './serverfull-process.js';

const ENVIRONMENTS = 10;
/** Lets spare threads refill and just-started runtimes finish their init before measuring (a benchmark may wait; tests may not). */
const SETTLE_MS = 3000;
const MB = 1024 * 1024;

/** What one idle environment adds, in kB (cgroup usage in bytes), averaged over ENVIRONMENTS. */
export interface IdleMemory {
  readonly runtimeRssKb: number;
  readonly runtimePssKb: number;
  readonly cgroupBytes: number;
  readonly serverRssKb: number;
  readonly before: TreeMemory;
  readonly after: TreeMemory;
}

/** Measures the idle environments of `isolation` on the build at `root` (this one unless given). */
export async function measureIdle(isolation: 'worker' | 'process', sandbox: 'on' | 'off', root = REPO_ROOT): Promise<IdleMemory> {
  const server = await startServerfull('cold-start.json', isolation, ['--sandbox', sandbox], undefined, undefined, root);
  try {
    await sleep(SETTLE_MS);
    const before = measureTree(server.pid);
    for (let index = 1; index <= ENVIRONMENTS; index++) await postEcho(`${server.url}/2015-03-31/functions/echo${index}/invocations`);
    await sleep(SETTLE_MS);
    const after = measureTree(server.pid);
    const per = (value: (m: TreeMemory) => number) => (value(after) - value(before)) / ENVIRONMENTS;
    return {
      runtimeRssKb: per((m) => m.runtimeRssKb),
      runtimePssKb: per((m) => m.runtimePssKb),
      cgroupBytes: per((m) => m.cgroupBytes),
      serverRssKb: per((m) => m.serverRssKb),
      before,
      after,
    };
  } finally {
    await server.stop();
  }
}

async function printVariant(label: string, isolation: 'worker' | 'process', sandbox: 'on' | 'off'): Promise<void> {
  const idle = await measureIdle(isolation, sandbox);
  console.log(`${label}: per idle environment (${ENVIRONMENTS} environments, ${idle.after.runtimeProcesses} runtime processes)`);
  if (isolation === 'process') {
    console.log(`  runtime processes: RSS ${mb(idle.runtimeRssKb)} MB, PSS ${mb(idle.runtimePssKb)} MB`);
    if (sandbox === 'on') console.log(`  memory cgroup usage: ${(idle.cgroupBytes / MB).toFixed(1)} MB`);
  }
  console.log(`  server process RSS growth: ${mb(idle.serverRssKb)} MB (server RSS ${mb(idle.before.serverRssKb)} -> ${mb(idle.after.serverRssKb)} MB)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    await printVariant('process, sandboxed', 'process', 'on');
    await printVariant('process, unsandboxed', 'process', 'off');
    await printVariant('worker', 'worker', 'off');
  } finally {
    killAllServerProcesses();
  }
}
