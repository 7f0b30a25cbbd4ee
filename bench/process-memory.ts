/**
 * @module bench/process-memory
 * What a server and its runtime processes hold in memory, read from /proc: RSS (resident pages, counted in every
 * process that maps them) and PSS (shared pages split between the processes that map them).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** A kB field of `/proc/PID/status` or `smaps_rollup`, or 0 once the process is gone. */
export function procKb(pid: number, file: 'status' | 'smaps_rollup', field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'latin1'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** The threads of process `pid` (its main thread, V8's and libuv's, and one per worker thread), or 0 once it is gone. */
export function threadCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
}

/** Every descendant of `root` (children, their children...). */
export function descendants(root: number): number[] {
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
export function sandboxCgroupsBytes(serverPid: number): number {
  const parent = '/sys/fs/cgroup/memory/serverfull';
  if (!existsSync(parent)) return 0;
  return readdirSync(parent).filter((name) => name.startsWith(`${serverPid}-`))
    .reduce((sum, name) => sum + Number(readFileSync(`${parent}/${name}/memory.usage_in_bytes`, 'utf8')), 0);
}

/** The memory of a server process and of its runtime processes (its descendants). */
export interface TreeMemory {
  readonly serverRssKb: number;
  readonly serverPssKb: number;
  readonly runtimeRssKb: number;
  readonly runtimePssKb: number;
  readonly runtimeProcesses: number;
  readonly cgroupBytes: number;
}

/** The memory of `serverPid` and its descendants now. */
export function measureTree(serverPid: number): TreeMemory {
  const runtimes = descendants(serverPid);
  return {
    serverRssKb: procKb(serverPid, 'status', 'VmRSS'),
    serverPssKb: procKb(serverPid, 'smaps_rollup', 'Pss'),
    runtimeRssKb: runtimes.reduce((sum, pid) => sum + procKb(pid, 'status', 'VmRSS'), 0),
    runtimePssKb: runtimes.reduce((sum, pid) => sum + procKb(pid, 'smaps_rollup', 'Pss'), 0),
    runtimeProcesses: runtimes.length,
    cgroupBytes: sandboxCgroupsBytes(serverPid),
  };
}

/** kB as MB with one decimal. */
export const mb = (kb: number) => (kb / 1024).toFixed(1);
