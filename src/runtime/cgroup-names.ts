/**
 * @module runtime/cgroup-names
 * The names of serverfull's cgroups, shared by the v1 and v2 implementations: each group is named
 * `<server pid>-<n>` after the server that made it, so that a start removes only what dead servers left.
 */
import { closeSync, constants, openSync, rmdirSync, writeSync } from 'node:fs';

/** The folder, in a hierarchy (v1) or in the delegated subtree (v2), that holds serverfull's environments. */
export const SERVERFULL_GROUP = 'serverfull';
/** Processes (threads count as tasks too) one environment may run: a fork bomb fails inside. */
export const PIDS_MAX = 1024;
/** The memory size AWS gives one full vCPU: CPU shares or weights are proportional to memory from it. */
export const MB_PER_VCPU = 1769;
/** Rounds of SIGKILL before giving up on emptying a group (a fork bomb refills it until frozen). */
export const KILL_ROUNDS = 50;
/** A killed process leaves its group when the kernel has torn it down: removal retries a while. */
export const REMOVE_ATTEMPTS = 40;
export const REMOVE_RETRY_MS = 50;
/** Groups made by this server process: `<server pid>-<n>`, so that another server's cleanup leaves them alone. */
let groupsMade = 0;

/** A new group name for an environment of this server. */
export function newCgroupName(): string {
  return `${process.pid}-${++groupsMade}`;
}

/** Whether the server that made group `name` still runs (this one included). */
export function serverAlive(name: string): boolean {
  const pid = Number(/^(\d+)-/.exec(name)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes one group folder; false while a process is still in it. */
export function removeGroup(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Writes a v2 control file, never creating it: a file the kernel lacks is an error (ENOENT), not a silent plain file. */
export function writeControlFile(path: string, value: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
  try {
    writeSync(fd, value);
  } finally {
    closeSync(fd);
  }
}
