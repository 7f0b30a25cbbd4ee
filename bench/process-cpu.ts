/**
 * @module bench/process-cpu
 * CPU time a server process (all its threads), or its whole process tree, has used, from /proc. Per request it is a
 * steadier measure than req/s on a shared machine, where the load generator competes for cores.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU microseconds used so far by process `pid`, or undefined where /proc is missing. */
export function processCpuMicros(pid: number): number | undefined {
  const ticks = cpuTicks(pid, false);
  return ticks === undefined ? undefined : (ticks / TICKS_PER_SECOND) * 1e6;
}

/**
 * User + system CPU microseconds used so far by process `pid` and every process below it, those
 * that exited and were reaped by a member of the tree included, or undefined where /proc is
 * missing: what a server that runs its functions in child processes costs in all. A process
 * that leaves the tree unreaped (reparented to init) takes its time with it, so the count can drop.
 */
export function processTreeCpuMicros(pid: number): number | undefined {
  // A live process's reaped children are in its own cutime and cstime and no longer in the tree, so nothing counts twice.
  const root = cpuTicks(pid, true);
  if (root === undefined) return undefined;
  let ticks = root;
  for (let queue = children(pid); queue.length > 0;) {
    const child = queue.pop()!;
    ticks += cpuTicks(child, true) ?? 0;
    queue.push(...children(child));
  }
  return (ticks / TICKS_PER_SECOND) * 1e6;
}

/** utime + stime of `pid` in clock ticks, with cutime + cstime (its exited and reaped children's) when `reaped`. */
function cpuTicks(pid: number, reaped: boolean): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return fields[11]! + fields[12]! + (reaped ? fields[13]! + fields[14]! : 0);
  } catch {
    return undefined;
  }
}

/** The children of `pid`, whichever of its threads started them; none once it is gone. */
function children(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((thread) =>
      readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8').split(/\s+/).filter((id) => id !== '').map(Number));
  } catch {
    return [];
  }
}
