/**
 * @module runtime/sandbox-support
 * Whether process environments can be sandboxed on this host: Linux, bubblewrap that can
 * create namespaces, and writable cgroups (v1, or v2 with the memory, pids and cpu controllers: see environment-cgroup). (config/sandbox-setting decides what to do with it.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cgroupHost } from './environment-cgroup.js';
import { bubblewrapPath, nodeInstallFolder } from './sandbox-command.js';

/** The values of the `sandbox` setting. */
export const SANDBOX_MODES = ['auto', 'on', 'off'] as const;

/** Whether process environments run sandboxed: `auto` when the host allows it. */
export type SandboxMode = typeof SANDBOX_MODES[number];

/** What a sandboxed process environment needs from the host, once it is known to work. */
export interface SandboxHost {
  /** The bubblewrap executable. */
  readonly bwrap: string;
  /** The cgroup version the environments' limits use: v2 where the unified hierarchy is mounted, v1 otherwise. */
  readonly cgroupVersion: 1 | 2;
}

/** The answer of the one probe of this process: the host, or why it cannot sandbox. */
let probed: SandboxHost | string | undefined;

/** The sandbox host, or the reason process environments cannot be sandboxed here; probed once per process. */
export function probeSandboxHost(): SandboxHost | string {
  probed ??= probe();
  return probed;
}

/**
 * The bubblewrap to try: the installed one, or `SERVERFULL_BWRAP`, for tests only, so that a test can show a host
 * without it (a missing path reads as not installed).
 */
function bubblewrap(): string | undefined {
  const chosen = process.env.SERVERFULL_BWRAP;
  if (!chosen) return bubblewrapPath();
  return existsSync(chosen) ? chosen : undefined;
}

function probe(): SandboxHost | string {
  if (process.platform !== 'linux') return `sandboxes need Linux (this is ${process.platform})`;
  const bwrap = bubblewrap();
  if (bwrap === undefined) return 'bubblewrap (bwrap) is not installed';
  // Says precisely what is missing: a v1 hierarchy, or v2's controllers, delegation, or freezer.
  const cgroups = cgroupHost();
  if (typeof cgroups === 'string') return cgroups;
  // A trial start with the namespaces a sandbox uses: user namespaces may be disabled by the kernel.
  const node = nodeInstallFolder();
  const trial = spawnSync(bwrap, [
    '--unshare-user', '--uid', '65534', '--gid', '65534', '--unshare-pid', '--unshare-ipc', '--unshare-uts',
    '--ro-bind', '/', '/', '--ro-bind', node, node, '--proc', '/proc', '--dev', '/dev', '--', '/bin/sh', '-c', 'exit 0',
  ], { encoding: 'utf8', timeout: 10_000 });
  if (trial.status !== 0) return `bubblewrap cannot create namespaces here (${(trial.stderr || trial.error?.message || `exit ${trial.status}`).trim()})`;
  return { bwrap, cgroupVersion: cgroups.version };
}
