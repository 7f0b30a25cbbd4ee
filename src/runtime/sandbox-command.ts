/**
 * @module runtime/sandbox-command
 * The command that starts a runtime inside a bubblewrap sandbox: its own mount, PID, IPC, UTS and
 * user namespaces, a read-only view of the system, the function's code read-only at `/var/task`,
 * a private size-limited `/tmp`, and nothing of the server (its data directory, other functions'
 * code, its processes). The network is the host's: functions reach databases and serverfull itself;
 * or, for `network: "none"`, a namespace of its own that reaches serverfull only (`sandbox-network`).
 * A tiny shell wrapper puts the sandbox in the environment's cgroups before `bwrap` runs.
 */
import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { RuntimeCommand } from './process-environment.js';
import type { IsolatedNetwork } from './sandbox-network.js';

/** Where AWS puts a function's code; the runtime's working directory and `LAMBDA_TASK_ROOT`. */
export const SANDBOX_TASK_ROOT = '/var/task';
/** The unprivileged user and group the runtime runs as inside its user namespace (nobody/nogroup). */
const SANDBOX_UID = '65534';
/** AWS gives every function 512 MB of `/tmp` by default. */
const TMP_BYTES = 512 * 1024 * 1024;
/** System folders the runtime sees read-only: programs, libraries. */
const SYSTEM_FOLDERS = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32', '/opt'];
/** Of `/etc`, only what programs need to resolve names, verify TLS and know users and time: never shadow files or server configuration. */
const ETC_ENTRIES = [
  'passwd', 'group', 'hosts', 'host.conf', 'resolv.conf', 'nsswitch.conf', 'gai.conf', 'localtime', 'timezone',
  'ssl', 'ca-certificates', 'ca-certificates.conf', 'pki', 'alternatives', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'mime.types',
];
/** Joins the cgroups named before `--`, then runs the rest: the sandbox starts inside its limits, before the runtime runs a line. */
const JOIN_CGROUPS_THEN_RUN = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

/** The bubblewrap executable, if installed in a usual place. */
export function bubblewrapPath(): string | undefined {
  return ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'].find((path) => existsSync(path));
}

/** The parts of a sandboxed start: the runtime command as the host knows it and what the sandbox adds. */
export interface SandboxSpec {
  readonly bwrap: string;
  /** Host folders the runtime needs besides the system (Node.js, serverfull's runtime client), shown read-only at their own paths. */
  readonly runtimeFolders: readonly string[];
  /** The `cgroup.procs` files the sandbox joins. */
  readonly cgroupProcs: readonly string[];
  /** Bytes of the private `/tmp` (the function's `EphemeralStorage`); default 512 MB. */
  readonly tmpBytes?: number;
  /** No network but serverfull's (`network: "none"`); undefined: the host's network. */
  readonly network?: IsolatedNetwork;
  /** Show the `node_modules` folder nearest above the task root (Node.js functions); false for other runtimes. Default true. */
  readonly nodeModules?: boolean;
}

/** What to spawn: a shell that joins the cgroups, then bwrap, then the runtime at its sandbox paths. */
export function sandboxedCommand(command: RuntimeCommand, spec: SandboxSpec): RuntimeCommand {
  const taskRoot = command.cwd;
  // Only absolute paths are host paths: a relative argument (`--max-old-space-size=250`) would resolve against the
  // server's working directory, which may be the task root itself.
  const inside = (path: string): string => {
    if (!isAbsolute(path)) return path;
    const rel = relative(taskRoot, path);
    return rel === '' ? SANDBOX_TASK_ROOT : rel.startsWith('..') || rel.startsWith(sep) ? path : join(SANDBOX_TASK_ROOT, rel);
  };
  const args = [
    '--unshare-user', '--uid', SANDBOX_UID, '--gid', SANDBOX_UID,
    '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
    '--die-with-parent', '--new-session',
    ...SYSTEM_FOLDERS.flatMap(systemMount),
    ...ETC_ENTRIES.flatMap((name) => ['--ro-bind-try', `/etc/${name}`, `/etc/${name}`]),
    '--proc', '/proc', '--dev', '/dev',
    '--size', String(spec.tmpBytes ?? TMP_BYTES), '--tmpfs', '/tmp',
    ...spec.runtimeFolders.flatMap((folder) => ['--ro-bind', folder, folder]),
    '--ro-bind', taskRoot, SANDBOX_TASK_ROOT,
    ...(spec.nodeModules === false ? [] : dependencyMount(taskRoot)),
    ...(spec.network?.bwrapArgs() ?? []),
    '--chdir', SANDBOX_TASK_ROOT,
    '--', ...(spec.network?.commandPrefix() ?? []), inside(command.file), ...command.args.map(inside),
  ];
  return {
    file: '/bin/sh',
    args: ['-c', JOIN_CGROUPS_THEN_RUN, 'sandbox', ...spec.cgroupProcs, '--', spec.bwrap, ...args],
    cwd: '/',
    env: { ...command.env, PATH: sandboxPath(command), LAMBDA_TASK_ROOT: SANDBOX_TASK_ROOT, LAMBDA_RUNTIME_DIR: SANDBOX_TASK_ROOT },
  };
}

/**
 * AWS's `PATH`, with the Node.js that runs the function first (the server's own `PATH` may name folders the sandbox
 * does not show): the one serverfull's runtime client runs on, else (a custom runtime) the server's.
 */
function sandboxPath(command: RuntimeCommand): string {
  const nodeBin = command.privateChannel === true ? dirname(realpathSync(command.file)) : join(nodeInstallFolder(), 'bin');
  return `${nodeBin}:/usr/local/bin:/usr/bin/:/bin:/opt/bin`;
}

/**
 * The `node_modules` folder nearest above the task root, shown read-only at `/node_modules`: code resolved its
 * packages there on the host (a function folder inside a project), and Node.js's lookup from `/var/task` ends there.
 */
function dependencyMount(taskRoot: string): string[] {
  for (let folder = dirname(taskRoot); ; folder = dirname(folder)) {
    const candidate = join(folder, 'node_modules');
    if (existsSync(candidate)) return ['--ro-bind', candidate, '/node_modules'];
    if (dirname(folder) === folder) return [];
  }
}

/** A system folder as the sandbox shows it: a symlink stays a symlink (merged /usr), a folder is bound read-only. */
function systemMount(path: string): string[] {
  try {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return ['--symlink', readlinkSync(path), path];
    return stat.isDirectory() ? ['--ro-bind', path, path] : [];
  } catch {
    return [];
  }
}

/** The installation folder of the running Node.js (its `bin/node`'s parent), real path. */
export function nodeInstallFolder(): string {
  return dirname(dirname(realpathSync(process.execPath)));
}
