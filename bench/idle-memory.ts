/**
 * @module bench/idle-memory
 * `node dist/bench/idle-memory.js`: the memory one idle execution environment costs, per kind. A server child serves
 * `bench/fixtures/cold-start.json` (256 MB functions); its process tree is measured, ENVIRONMENTS functions are invoked
 * once each (each gets its own environment, then idles), and the tree is measured again. For process environments the
 * runtime processes are the server's descendants: their RSS and PSS (shared pages split between the processes that map
 * them) per environment, and for sandboxed ones the memory cgroups' own count. For worker environments, which live in
 * the server's process, the growth of the server's RSS per environment.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { postEcho } from './echo-response.js';
import { killAllServerProcesses } from './server-process.js';
import { startServerfull } from './serverfull-process.js';

const ENVIRONMENTS = 10;
/** Lets spare threads refill and just-started runtimes finish their init before measuring (a benchmark may wait; tests may not). */
const SETTLE_MS = 3000;
const MB = 1024 * 1024;

/** kB fields of `/proc/PID/status` or `smaps_rollup`, or 0 once the process is gone. */
function procKb(pid: number, file: 'status' | 'smaps_rollup', field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'latin1'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Every descendant of `root` (children, their children...). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      // The parent is the 4th field, after the command name in parentheses (which may hold spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = [];
  for (let queue = [root]; queue.length > 0;) {
    const next = children.get(queue.shift()!) ?? [];
    found.push(...next);
    queue.push(...next);
  }
  return found;
}

/** What the memory cgroups of `serverPid`'s sandboxes hold, in bytes. */
function sandboxCgroupsBytes(serverPid: number): number {
  const parent = '/sys/fs/cgroup/memory/serverfull';
  if (!existsSync(parent)) return 0;
  return readdirSync(parent).filter((name) => name.startsWith(`${serverPid}-`))
    .reduce((sum, name) => sum + Number(readFileSync(`${parent}/${name}/memory.usage_in_bytes`, 'utf8')), 0);
}

interface TreeMemory {
  readonly serverRssKb: number;
  readonly runtimeRssKb: number;
  readonly runtimePssKb: number;
  readonly runtimeProcesses: number;
  readonly cgroupBytes: number;
}

function measure(serverPid: number): TreeMemory {
  const runtimes = descendants(serverPid);
  return {
    serverRssKb: procKb(serverPid, 'status', 'VmRSS'),
    runtimeRssKb: runtimes.reduce((sum, pid) => sum + procKb(pid, 'status', 'VmRSS'), 0),
    runtimePssKb: runtimes.reduce((sum, pid) => sum + procKb(pid, 'smaps_rollup', 'Pss'), 0),
    runtimeProcesses: runtimes.length,
    cgroupBytes: sandboxCgroupsBytes(serverPid),
  };
}

const mb = (kb: number) => (kb / 1024).toFixed(1);

async function variant(label: string, isolation: 'worker' | 'process', sandbox: 'on' | 'off'): Promise<void> {
  const server = await startServerfull('cold-start.json', isolation, ['--sandbox', sandbox]);
  try {
    await sleep(SETTLE_MS);
    const before = measure(server.pid);
    for (let index = 1; index <= ENVIRONMENTS; index++) await postEcho(`${server.url}/2015-03-31/functions/echo${index}/invocations`);
    await sleep(SETTLE_MS);
    const after = measure(server.pid);
    const per = (value: (m: TreeMemory) => number) => (value(after) - value(before)) / ENVIRONMENTS;
    console.log(`${label}: per idle environment (${ENVIRONMENTS} environments, ${after.runtimeProcesses} runtime processes)`);
    if (isolation === 'process') {
      console.log(`  runtime processes: RSS ${mb(per((m) => m.runtimeRssKb))} MB, PSS ${mb(per((m) => m.runtimePssKb))} MB`);
      if (sandbox === 'on') console.log(`  memory cgroup usage: ${(per((m) => m.cgroupBytes) / MB).toFixed(1)} MB`);
    }
    console.log(`  server process RSS growth: ${mb(per((m) => m.serverRssKb))} MB (server RSS ${mb(before.serverRssKb)} -> ${mb(after.serverRssKb)} MB)`);
  } finally {
    await server.stop();
  }
}

try {
  await variant('process, sandboxed', 'process', 'on');
  await variant('process, unsandboxed', 'process', 'off');
  await variant('worker', 'worker', 'off');
} finally {
  killAllServerProcesses();
}
