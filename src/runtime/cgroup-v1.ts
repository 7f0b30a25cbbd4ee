/**
 * @module runtime/cgroup-v1
 * The cgroups (v1) of one sandboxed execution environment: its memory limit (the function's
 * memory size), a process limit, a CPU share proportional to memory, and a freezer to stop
 * every process of the environment at once, detached ones included: to kill them all, and to
 * hold them still between invocations as Lambda does.
 */
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { KILL_ROUNDS, MB_PER_VCPU, PIDS_MAX, REMOVE_ATTEMPTS, REMOVE_RETRY_MS, removeGroup, SERVERFULL_GROUP, serverAlive } from './cgroup-names.js';
import type { CgroupHost, EnvironmentCgroup } from './environment-cgroup.js';
import { KernelTextFile } from './kernel-text-file.js';

/** Where cgroups v1 hierarchies are mounted. */
const CGROUP_ROOT = '/sys/fs/cgroup';
/** The hierarchies a sandboxed environment is placed in. */
export const CGROUP_CONTROLLERS = ['memory', 'pids', 'cpu', 'freezer'] as const;
/** cpu.shares of a 1,769 MB function, the size AWS gives one full vCPU. */
const SHARES_PER_VCPU = 1024;
/** Room for `memory.max_usage_in_bytes`: a decimal count of bytes and a newline. */
const USAGE_TEXT_BYTES = 32;
/** The empty group this process keeps frozen (`holdFreezerOn`), once made. */
let freezerAnchor: string | undefined;

type Controller = typeof CGROUP_CONTROLLERS[number];

/** The folder of serverfull's groups in `controller`'s hierarchy. */
function serverfullDir(controller: Controller): string {
  return join(CGROUP_ROOT, controller, SERVERFULL_GROUP);
}

/** Whether this process can create serverfull's cgroups; the reason when not. */
export function cgroupsUnusableReason(): string | undefined {
  for (const controller of CGROUP_CONTROLLERS) {
    const dir = join(CGROUP_ROOT, controller);
    if (!existsSync(join(dir, 'cgroup.procs'))) return `the cgroup v1 "${controller}" hierarchy is not mounted at ${dir}`;
    try {
      mkdirSync(serverfullDir(controller), { recursive: true });
    } catch (error) {
      return `cannot create ${serverfullDir(controller)} (${(error as NodeJS.ErrnoException).code})`;
    }
  }
  shareEveryCpu();
  return undefined;
}

/**
 * Gives serverfull's group, all sandboxed environments together, the CPU weight of one busy process per core. Its
 * default, 1024 shares, weighs all of them as much as one process of the host: next to the server, the load and the
 * host's other work, dozens of runtimes then share a fraction of one core, and a burst of cold starts on a busy host
 * takes tens of seconds. Unsandboxed, each runtime weighs as much as the server; here, together, at most one per core,
 * so that runtimes spinning cannot starve the server. Best effort: the kernel's default stays otherwise.
 */
function shareEveryCpu(): void {
  try {
    writeFileSync(join(serverfullDir('cpu'), 'cpu.shares'), String(SHARES_PER_VCPU * availableParallelism()));
  } catch {
    // A cpu hierarchy that refuses it: environments still get their own shares within the group.
  }
}

/** The cgroups of one environment, created with their limits. */
export class EnvironmentCgroupV1 implements EnvironmentCgroup {
  /** The `cgroup.procs` files a process joins, one per hierarchy. */
  readonly procsFiles: readonly string[];
  private readonly dirs: ReadonlyMap<Controller, string>;
  /**
   * `freezer.state` and `memory.max_usage_in_bytes`, kept open: each invocation thaws, freezes and may read the peak,
   * and a write or a read on an open descriptor costs a fraction of an open, write (or read), close (measured: 32
   * against 241 µs per freeze and thaw). Closed by `remove`.
   */
  private freezerState: number | undefined;
  private readonly maxUsage: KernelTextFile;

  constructor(id: string, memoryMB: number) {
    this.dirs = new Map(CGROUP_CONTROLLERS.map((controller) => [controller, join(serverfullDir(controller), id)]));
    this.procsFiles = CGROUP_CONTROLLERS.map((controller) => join(this.dir(controller), 'cgroup.procs'));
    try {
      for (const dir of this.dirs.values()) mkdirSync(dir, { recursive: true });
      const bytes = String(memoryMB * 1024 * 1024);
      this.write('memory', 'memory.limit_in_bytes', bytes);
      // Without a swap limit a host with swap would page the function out rather than stop it.
      if (existsSync(join(this.dir('memory'), 'memory.memsw.limit_in_bytes'))) this.write('memory', 'memory.memsw.limit_in_bytes', bytes);
      this.write('pids', 'pids.max', String(PIDS_MAX));
      this.write('cpu', 'cpu.shares', String(Math.max(2, Math.round(memoryMB * SHARES_PER_VCPU / MB_PER_VCPU))));
      this.freezerState = openSync(join(this.dir('freezer'), 'freezer.state'), constants.O_WRONLY);
      this.maxUsage = new KernelTextFile(join(this.dir('memory'), 'memory.max_usage_in_bytes'), USAGE_TEXT_BYTES);
    } catch (error) {
      // Half made, it is not left behind: no process has joined its groups yet, each cold start that failed here would
      // leave four empty groups and a descriptor until the server stops.
      if (this.freezerState !== undefined) closeSync(this.freezerState);
      for (const dir of this.dirs.values()) removeGroup(dir);
      throw error;
    }
  }

  /** Whether the kernel killed a process of the environment for exceeding its memory limit. */
  get outOfMemory(): boolean {
    const control = this.read('memory', 'memory.oom_control');
    const kills = /oom_kill (\d+)/.exec(control)?.[1];
    if (kills !== undefined) return Number(kills) > 0;
    return Number(this.read('memory', 'memory.failcnt')) > 0;
  }

  /** The most memory the environment has used, in MB (the REPORT line's "Max Memory Used"). */
  get peakMemoryMB(): number {
    // '' once the group is gone.
    return Math.ceil(Number(this.maxUsage.read() || 0) / (1024 * 1024));
  }

  /** The processes in the environment now. */
  processes(): number[] {
    return this.read('pids', 'cgroup.procs').split('\n').filter((line) => line !== '').map(Number);
  }

  /**
   * Stops every process of the environment where it is, until `thaw`: what Lambda does between invocations,
   * so that timers and background work a handler leaves behind wait for the next invocation. The kernel
   * freezes the processes asynchronously (`freezerState` reads FREEZING, then FROZEN); a write error is thrown.
   */
  freeze(): void {
    if (this.freezerState === undefined) throw new Error('the environment\'s cgroups are removed');
    writeSync(this.freezerState, 'FROZEN');
  }

  /** Lets the environment's processes run again; a no-op when they are not frozen. */
  thaw(): void {
    try {
      if (this.freezerState !== undefined) writeSync(this.freezerState, 'THAWED');
    } catch {
      // The group is gone already.
    }
  }

  /** Kills every process of the environment: frozen first, so nothing forks while the kills go out. */
  killAll(): void {
    this.tryWrite('freezer', 'freezer.state', 'FROZEN');
    for (let round = 0; round < KILL_ROUNDS; round++) {
      const pids = this.processes();
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      // A frozen process dies of SIGKILL only once thawed.
      this.tryWrite('freezer', 'freezer.state', 'THAWED');
    }
    this.tryWrite('freezer', 'freezer.state', 'THAWED');
  }

  /** Kills what is left and removes the groups, once their last process has exited (bounded: a group still busy is left for a later start's cleanup). */
  async remove(): Promise<void> {
    this.killAll();
    this.closeFiles();
    for (let attempt = 0; attempt < REMOVE_ATTEMPTS; attempt++) {
      const left = [...this.dirs.values()].filter((dir) => !removeGroup(dir));
      if (left.length === 0) return;
      this.killAll();
      await new Promise((resolve) => setTimeout(resolve, REMOVE_RETRY_MS).unref());
    }
  }

  private closeFiles(): void {
    if (this.freezerState !== undefined) closeSync(this.freezerState);
    this.freezerState = undefined;
    this.maxUsage.close();
  }

  private dir(controller: Controller): string {
    return this.dirs.get(controller)!;
  }

  private write(controller: Controller, file: string, value: string): void {
    writeFileSync(join(this.dir(controller), file), value);
  }

  private tryWrite(controller: Controller, file: string, value: string): void {
    try {
      this.write(controller, file, value);
    } catch {
      // The group is gone already.
    }
  }

  private read(controller: Controller, file: string): string {
    try {
      return readFileSync(join(this.dir(controller), file), 'utf8');
    } catch {
      return '';
    }
  }
}

/** Removes the groups servers no longer running left behind (a crash skips their cleanup), killing what still runs in them. */
export function removeLeftoverCgroups(): void {
  for (const controller of CGROUP_CONTROLLERS) {
    const parent = serverfullDir(controller);
    let names: string[];
    try {
      names = readdirSync(parent, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    } catch {
      continue;
    }
    for (const name of names) {
      if (serverAlive(name)) continue;
      const dir = join(parent, name);
      try {
        for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        if (controller === 'freezer') writeFileSync(join(dir, 'freezer.state'), 'THAWED');
      } catch {
        // Raced with another cleanup.
      }
      removeGroup(dir);
    }
  }
}

/**
 * Keeps the kernel's freezer switched on for as long as this process runs, by keeping one empty group of its
 * own frozen. Linux switches freezing on system-wide (a static key, patched into the kernel's code on every
 * CPU) when a first group freezes, and off when the last one thaws: each switch costs milliseconds of CPU in
 * the writing process (measured here: 3 ms per write to `freezer.state`, 0.02 ms with the switch held on),
 * which freezing environments between invocations would otherwise pay twice per invocation. Best effort.
 */
export function holdFreezerOn(): void {
  if (freezerAnchor !== undefined) return;
  const dir = join(serverfullDir('freezer'), `${process.pid}-anchor`);
  freezerAnchor = dir;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'freezer.state'), 'FROZEN');
  } catch {
    return;
  }
  // A crash leaves it to the next start's cleanup (its name says which process made it).
  process.once('exit', () => {
    try {
      writeFileSync(join(dir, 'freezer.state'), 'THAWED');
    } catch {
      // Removed already.
    }
    removeGroup(dir);
  });
}

/** Cgroups v1, with the memory, pids, cpu and freezer hierarchies mounted under /sys/fs/cgroup. */
export const cgroupV1Host: CgroupHost = {
  version: 1,
  create: (id, memoryMB) => new EnvironmentCgroupV1(id, memoryMB),
  removeLeftovers: async () => removeLeftoverCgroups(),
  holdFreezerOn,
};
