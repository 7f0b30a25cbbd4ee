/**
 * @module runtime/environment-cgroup
 * What a sandboxed execution environment needs from cgroups, whichever version the host runs, and the one
 * place that picks the version: v2 where the unified hierarchy is mounted at /sys/fs/cgroup, v1 otherwise.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { newCgroupName } from './cgroup-names.js';
import { cgroupsUnusableReason as cgroupsV1UnusableReason, cgroupV1Host } from './cgroup-v1.js';
import { openCgroupV2Host } from './cgroup-v2-host.js';

export { newCgroupName };

/** The cgroups of one environment, created with their limits: memory, a process count, a CPU share, a freezer. */
export interface EnvironmentCgroup {
  /** The `cgroup.procs` files a process joins (one per v1 hierarchy; the one group in v2). */
  readonly procsFiles: readonly string[];
  /** Whether the kernel killed a process of the environment for exceeding its memory limit. */
  readonly outOfMemory: boolean;
  /** The most memory the environment has used, in MB (the REPORT line's "Max Memory Used"). */
  readonly peakMemoryMB: number;
  /** The processes in the environment now. */
  processes(): number[];
  /** Stops every process of the environment where it is, until `thaw` (asynchronous in the kernel); a write error is thrown. */
  freeze(): void;
  /** Lets the environment's processes run again; a no-op when they are not frozen. */
  thaw(): void;
  /** Kills every process of the environment, detached ones included. */
  killAll(): void;
  /** Kills what is left and removes the group, once its last process has exited (bounded). */
  remove(): Promise<void>;
}

/** A cgroup hierarchy serverfull can make environments' groups in: the version, and what it does at a server's start. */
export interface CgroupHost {
  readonly version: 1 | 2;
  /** The groups of a new environment named `id`, limited to `memoryMB`; throws when the kernel refuses. */
  create(id: string, memoryMB: number): EnvironmentCgroup;
  /** Removes the groups servers no longer running left behind, killing what still runs in them. */
  removeLeftovers(): Promise<void>;
  /** Keeps freezing cheap for as long as this process runs, where the version needs it (v1). */
  holdFreezerOn(): void;
}

/** Where the kernel's cgroup hierarchies are mounted. */
const SYSTEM_CGROUP_ROOT = '/sys/fs/cgroup';

/** The answer of the one probe of this process: the host, or why it cannot make cgroups. */
let probed: CgroupHost | string | undefined;

/** The cgroup host of this process, or why serverfull cannot make cgroups here; probed once per process. */
export function cgroupHost(): CgroupHost | string {
  probed ??= probeCgroupHost();
  return probed;
}

/**
 * Picks the cgroup version: v2 when the unified hierarchy is mounted at `systemRoot` (`cgroup.controllers` there,
 * no v1 controller folders), v1 otherwise. `SERVERFULL_CGROUP2_ROOT`, for tests only, points v2 at another
 * cgroup2 mount (this project's tests mount one on v1 machines to exercise the v2 code against the kernel).
 */
export function probeCgroupHost(env: NodeJS.ProcessEnv = process.env, systemRoot = SYSTEM_CGROUP_ROOT): CgroupHost | string {
  const override = env.SERVERFULL_CGROUP2_ROOT;
  if (override) return openCgroupV2Host(override);
  if (existsSync(join(systemRoot, 'cgroup.controllers')) && !existsSync(join(systemRoot, 'memory', 'cgroup.procs'))) return openCgroupV2Host(systemRoot);
  return cgroupsV1UnusableReason() ?? cgroupV1Host;
}

/** The cgroups of a new environment of this server, in the probed host's hierarchy. */
export function createEnvironmentCgroup(memoryMB: number): EnvironmentCgroup {
  const host = cgroupHost();
  if (typeof host === 'string') throw new Error(host);
  return host.create(newCgroupName(), memoryMB);
}

/** Removes the groups dead servers left behind (a crash skips their cleanup); a no-op without usable cgroups. */
export async function removeLeftoverCgroups(): Promise<void> {
  const host = cgroupHost();
  if (typeof host !== 'string') await host.removeLeftovers();
}

/** See `CgroupHost.holdFreezerOn`; a no-op without usable cgroups. */
export function holdFreezerOn(): void {
  const host = cgroupHost();
  if (typeof host !== 'string') host.holdFreezerOn();
}
