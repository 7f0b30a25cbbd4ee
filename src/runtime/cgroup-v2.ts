/**
 * @module runtime/cgroup-v2
 * The cgroup (v2, the unified hierarchy) of one sandboxed execution environment: one group whose
 * `memory.max` is the function's memory size, whose `pids.max` stops a fork bomb, whose `cpu.weight` is
 * proportional to memory, and whose `cgroup.freeze` and `cgroup.kill` stop or kill every process in it at
 * once, detached ones included. `cgroup-v2-host` finds and prepares the subtree these groups live in.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KILL_ROUNDS, MB_PER_VCPU, PIDS_MAX, REMOVE_ATTEMPTS, REMOVE_RETRY_MS, removeGroup, serverAlive, writeControlFile } from './cgroup-names.js';
import type { EnvironmentCgroup } from './environment-cgroup.js';

/** The v2 controllers an environment's limits need, enabled for its group by its parent's `cgroup.subtree_control`. */
export const V2_CONTROLLERS = ['memory', 'pids', 'cpu'] as const;

/** A v2 controller serverfull uses. */
export type V2Controller = typeof V2_CONTROLLERS[number];

/** `cpu.weight` of a 1,769 MB function (one vCPU at AWS): the kernel's default weight, as v1 gives it the default 1024 shares. */
const WEIGHT_PER_VCPU = 100;
/** The range the kernel accepts for `cpu.weight`. */
const MIN_WEIGHT = 1;
const MAX_WEIGHT = 10_000;

/** The `cpu.weight` of an environment of `memoryMB`: proportional to memory, as Lambda allocates CPU. */
export function cpuWeight(memoryMB: number): number {
  return Math.min(MAX_WEIGHT, Math.max(MIN_WEIGHT, Math.round(memoryMB * WEIGHT_PER_VCPU / MB_PER_VCPU)));
}

/** The cgroup of one environment, created with its limits. */
export class EnvironmentCgroupV2 implements EnvironmentCgroup {
  /** The group's one `cgroup.procs`: v2 has a single hierarchy. */
  readonly procsFiles: readonly string[];
  /** The most `memory.current` seen, where the kernel has no `memory.peak` (before 5.19). */
  private sampledPeak = 0;

  /**
   * Creates group `dir` with the limits of the `controllers` its parent enables for it. A host serverfull runs on
   * enables all of `V2_CONTROLLERS` (`openCgroupV2Host` refuses otherwise: never a sandbox without a memory limit);
   * fewer only in tests against a cgroup2 mount whose controllers are bound to v1.
   */
  constructor(readonly dir: string, memoryMB: number, controllers: ReadonlySet<V2Controller> = new Set(V2_CONTROLLERS)) {
    this.procsFiles = [join(dir, 'cgroup.procs')];
    mkdirSync(dir, { recursive: true });
    try {
      const bytes = String(memoryMB * 1024 * 1024);
      if (controllers.has('memory')) {
        this.write('memory.max', bytes);
        // Without a swap limit a host with swap would page the function out rather than stop it.
        if (existsSync(join(dir, 'memory.swap.max'))) this.write('memory.swap.max', '0');
      }
      if (controllers.has('pids')) this.write('pids.max', String(PIDS_MAX));
      if (controllers.has('cpu')) this.write('cpu.weight', String(cpuWeight(memoryMB)));
    } catch (error) {
      // Half made, it is not left behind (no process has joined it yet).
      removeGroup(dir);
      throw error;
    }
  }

  /** Whether the kernel killed a process of the environment for exceeding its memory limit (`memory.events` `oom_kill`). */
  get outOfMemory(): boolean {
    return Number(/^oom_kill (\d+)/m.exec(this.read('memory.events'))?.[1] ?? 0) > 0;
  }

  /** The most memory the environment has used, in MB: `memory.peak`, or the most `memory.current` sampled (at reads and freezes). */
  get peakMemoryMB(): number {
    const peak = this.read('memory.peak').trim();
    const bytes = peak !== '' ? Number(peak) : this.samplePeak();
    return Math.ceil((Number.isFinite(bytes) ? bytes : 0) / (1024 * 1024));
  }

  /** Whether the kernel reports every process of the group frozen (`cgroup.events` `frozen 1`). */
  get frozen(): boolean {
    return /^frozen 1$/m.test(this.read('cgroup.events'));
  }

  processes(): number[] {
    return this.read('cgroup.procs').split('\n').filter((line) => line !== '').map(Number);
  }

  /** Writes `cgroup.freeze`: the kernel stops the processes asynchronously (`frozen` turns true); a write error is thrown. */
  freeze(): void {
    // Sampled before the freeze, at the end of an invocation, where memory.peak is missing.
    this.samplePeak();
    this.write('cgroup.freeze', '1');
  }

  thaw(): void {
    this.tryWrite('cgroup.freeze', '0');
  }

  /**
   * Kills every process of the group: `cgroup.kill` (5.14+) signals them all in the kernel, forks racing it included, and
   * kills frozen ones too. Before 5.14: frozen first, so nothing forks while the kills go out, then each one killed.
   */
  killAll(): void {
    if (existsSync(join(this.dir, 'cgroup.kill'))) {
      this.tryWrite('cgroup.kill', '1');
    } else {
      this.tryWrite('cgroup.freeze', '1');
      for (let round = 0; round < KILL_ROUNDS; round++) {
        const pids = this.processes();
        if (pids.length === 0) break;
        for (const pid of pids) killProcess(pid);
      }
    }
    // A group left frozen would freeze nothing now, but reads as frozen: thawed for a clean state.
    this.tryWrite('cgroup.freeze', '0');
  }

  async remove(): Promise<void> {
    this.killAll();
    for (let attempt = 0; attempt < REMOVE_ATTEMPTS; attempt++) {
      if (removeGroup(this.dir)) return;
      this.killAll();
      await new Promise((resolve) => setTimeout(resolve, REMOVE_RETRY_MS).unref());
    }
  }

  private samplePeak(): number {
    const current = Number(this.read('memory.current').trim() || 0);
    if (Number.isFinite(current) && current > this.sampledPeak) this.sampledPeak = current;
    return this.sampledPeak;
  }

  private write(file: string, value: string): void {
    writeControlFile(join(this.dir, file), value);
  }

  private tryWrite(file: string, value: string): void {
    try {
      this.write(file, value);
    } catch {
      // The group is gone already.
    }
  }

  private read(file: string): string {
    try {
      return readFileSync(join(this.dir, file), 'utf8');
    } catch {
      return '';
    }
  }
}

/** Removes the groups under `parent` that servers no longer running left behind, killing what still runs in them. */
export async function removeLeftoverGroupsV2(parent: string): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(parent, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch {
    return;
  }
  const left = names.filter((name) => !serverAlive(name)).map((name) => join(parent, name));
  for (const dir of left) killGroupV2(dir);
  // Killed processes leave their group once the kernel has torn them down.
  for (let attempt = 0; attempt < REMOVE_ATTEMPTS && left.length > 0; attempt++) {
    for (let i = left.length - 1; i >= 0; i--) {
      if (removeGroup(left[i]!)) left.splice(i, 1);
      else killGroupV2(left[i]!);
    }
    if (left.length > 0) await new Promise((resolve) => setTimeout(resolve, REMOVE_RETRY_MS).unref());
  }
}

/** Kills every process of group `dir` (a leftover: no object of its own). */
function killGroupV2(dir: string): void {
  try {
    writeControlFile(join(dir, 'cgroup.kill'), '1');
  } catch {
    try {
      for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) killProcess(Number(pid));
    } catch {
      // Raced with another cleanup.
    }
  }
  try {
    writeControlFile(join(dir, 'cgroup.freeze'), '0');
  } catch {
    // Gone, or a kernel without the v2 freezer.
  }
}

function killProcess(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
