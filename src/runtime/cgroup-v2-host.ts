/**
 * @module runtime/cgroup-v2-host
 * Where, in the cgroup v2 hierarchy, serverfull makes its environments' groups, and what it prepares there.
 *
 * The place is `<root>/serverfull` when this process can write the hierarchy's root (root, no systemd in the
 * way), else `<own>/serverfull` under the process's own group (`0::/path` in /proc/self/cgroup): the subtree
 * systemd delegates to a service (`Delegate=yes`) or to a user session. v2 lets a group hand controllers to its
 * children (`cgroup.subtree_control`) only while it has no processes of its own (the "no internal processes"
 * rule; the root is exempt), so when enabling them is refused as busy, every process of that group, the server
 * included, first moves into a leaf `<own>/server`, as systemd's delegation documentation prescribes. Then
 * `+memory +pids +cpu` are enabled there and in `serverfull`, so that each environment's group has its limits.
 * A host without those controllers (bound to v1, or not delegated) cannot sandbox: never without a memory limit.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVERFULL_GROUP, writeControlFile } from './cgroup-names.js';
import { EnvironmentCgroupV2, removeLeftoverGroupsV2, V2_CONTROLLERS, type V2Controller } from './cgroup-v2.js';
import type { CgroupHost } from './environment-cgroup.js';

/** The leaf a busy group's processes move into, so that the group can enable controllers for its children. */
export const SERVER_LEAF = 'server';

/** What to do where the server may not write its own cgroup, or it lacks the controllers. */
const DELEGATION_HINT = 'run as root, or in a cgroup delegated to this user with memory, pids and cpu (systemd: Delegate=yes, or systemd-run --user --scope -p Delegate=yes)';

/** A cgroup v2 host: where the environments' groups go. */
export interface CgroupV2Host extends CgroupHost {
  readonly version: 2;
  /** The folder of serverfull's environment groups. */
  readonly groups: string;
}

/** Options of `openCgroupV2Host`, for tests: the process's own cgroup file, the controllers to require. */
export interface CgroupV2HostOptions {
  /** The text of /proc/self/cgroup. */
  readonly selfCgroup?: string;
  /** The controllers environments need; `V2_CONTROLLERS` but in tests (a cgroup2 mount on a v1 host has none of them). */
  readonly controllers?: readonly string[];
}

/** The cgroup v2 host at `root` (a cgroup2 mount), prepared; or why serverfull cannot sandbox with it, precisely. */
export function openCgroupV2Host(root: string, options: CgroupV2HostOptions = {}): CgroupV2Host | string {
  const controllers = options.controllers ?? V2_CONTROLLERS;
  if (!existsSync(join(root, 'cgroup.controllers'))) return `no cgroup v2 hierarchy is mounted at ${root}`;
  const missing = missingControllers(root, controllers);
  if (missing.length > 0) {
    return `cgroup v2 at ${root} lacks the ${missing.join(', ')} controller${missing.length > 1 ? 's' : ''} (cgroup.controllers: "${readText(join(root, 'cgroup.controllers'))}"): `
      + 'they are bound to cgroup v1 hierarchies or disabled, and a sandbox never runs without its memory and process limits';
  }
  let base = root;
  if (!canCreate(join(root, SERVERFULL_GROUP))) {
    const own = ownCgroupPath(options.selfCgroup ?? readText('/proc/self/cgroup'));
    if (own === undefined) return `cannot create ${join(root, SERVERFULL_GROUP)}, and this process is in no cgroup v2 group (no "0::" line in /proc/self/cgroup)`;
    base = join(root, own);
    const notDelegated = missingControllers(base, controllers);
    if (notDelegated.length > 0) {
      return `cannot create ${join(root, SERVERFULL_GROUP)}, and this process's own cgroup ${base} lacks the ${notDelegated.join(', ')} controller${notDelegated.length > 1 ? 's' : ''}: `
        + DELEGATION_HINT;
    }
  }
  const prepared = prepareSubtree(base, controllers);
  if (typeof prepared === 'string') return base === root ? prepared : `${prepared}; ${DELEGATION_HINT}`;
  const { groups } = prepared;
  const enabled = new Set(controllers.filter((name): name is V2Controller => (V2_CONTROLLERS as readonly string[]).includes(name)));
  return {
    version: 2,
    groups,
    create: (id, memoryMB) => new EnvironmentCgroupV2(join(groups, id), memoryMB, enabled),
    removeLeftovers: () => removeLeftoverGroupsV2(groups),
    // The system-wide switch held on in v1 is the v1 freezer's: the v2 freezer (a signal-delivery trap) has none.
    holdFreezerOn: () => {},
  };
}

/**
 * Makes `<base>/serverfull` with `controllers` enabled for its children: returns its path as `groups`, or why it cannot.
 * Moves `base`'s processes (the server's among them) into the leaf `<base>/server` when `base` may not enable
 * controllers while it holds processes.
 */
export function prepareSubtree(base: string, controllers: readonly string[]): { readonly groups: string } | string {
  const groups = join(base, SERVERFULL_GROUP);
  try {
    mkdirSync(groups, { recursive: true });
  } catch (error) {
    return reason(`cannot create ${groups}`, error);
  }
  if (!existsSync(join(groups, 'cgroup.freeze'))) return `the kernel has no cgroup v2 freezer (${join(groups, 'cgroup.freeze')} is missing; Linux 5.2+)`;
  try {
    enable(base, controllers);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EBUSY') return reason(`cannot enable ${controllers.join(', ')} in ${join(base, 'cgroup.subtree_control')}`, error);
    const moved = moveIntoLeaf(base);
    if (moved !== undefined) return moved;
    try {
      enable(base, controllers);
    } catch (retryError) {
      return reason(`cannot enable ${controllers.join(', ')} in ${join(base, 'cgroup.subtree_control')} even with its processes moved to ${join(base, SERVER_LEAF)}`, retryError);
    }
  }
  try {
    enable(groups, controllers);
  } catch (error) {
    return reason(`cannot enable ${controllers.join(', ')} in ${join(groups, 'cgroup.subtree_control')}`, error);
  }
  return { groups };
}

/** The process's own group, as a path below the hierarchy's root, from the text of /proc/self/cgroup (`0::/path`). */
export function ownCgroupPath(selfCgroup: string): string | undefined {
  const path = /^0::(\/.*)$/m.exec(selfCgroup)?.[1];
  // "(deleted)" or a path outside this namespace's view ("/..") is no place to write.
  if (path === undefined || path.includes('..') || path.endsWith(' (deleted)')) return undefined;
  return path;
}

/** The `controllers` that `dir`'s parent does not give it (absent from its `cgroup.controllers`). */
function missingControllers(dir: string, controllers: readonly string[]): string[] {
  const available = new Set(readText(join(dir, 'cgroup.controllers')).split(/\s+/));
  return controllers.filter((name) => !available.has(name));
}

/** Enables `controllers` for the children of `dir`, those not enabled yet; throws the kernel's refusal. */
function enable(dir: string, controllers: readonly string[]): void {
  const enabled = new Set(readText(join(dir, 'cgroup.subtree_control')).split(/\s+/));
  const wanted = controllers.filter((name) => !enabled.has(name));
  if (wanted.length === 0) return;
  writeControlFile(join(dir, 'cgroup.subtree_control'), wanted.map((name) => `+${name}`).join(' '));
}

/** Moves every process of `base` into `<base>/server`; the reason when it cannot. */
function moveIntoLeaf(base: string): string | undefined {
  const leaf = join(base, SERVER_LEAF);
  try {
    mkdirSync(leaf, { recursive: true });
  } catch (error) {
    return reason(`cannot create ${leaf} to move this server's processes into`, error);
  }
  for (const pid of readText(join(base, 'cgroup.procs')).split('\n').filter(Boolean)) {
    try {
      writeControlFile(join(leaf, 'cgroup.procs'), pid);
    } catch (error) {
      // A process that exited meanwhile has nothing to move.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') return reason(`cannot move process ${pid} into ${leaf}`, error);
    }
  }
  return undefined;
}

/** Whether this process can make group `dir` (made, or there already). */
function canCreate(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    return true;
  } catch {
    return false;
  }
}

function reason(what: string, error: unknown): string {
  return `${what} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}
