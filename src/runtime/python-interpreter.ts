/**
 * @module runtime/python-interpreter
 * The machine's Python for a Python runtime (`python3.12` on the server's `PATH`, else `python3`), found
 * once and resolved to the real interpreter behind it (a pyenv shim, a virtual environment and a symlink
 * all lead to one): what Python functions run on, and the host folders a sandbox must show read-only for
 * it to start (its installation: executable, shared library, standard library), nothing else.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pythonVersionOf } from '../registry/runtimes.js';

/** serverfull's Python runtime client, shipped in the package (`runtimes/python/`), standard library only. */
export const PYTHON_RUNTIME_CLIENT = fileURLToPath(new URL('../../../runtimes/python/serverfull_runtime.py', import.meta.url));

/** What a Python function runs on. */
export interface PythonInterpreter {
  /** The real interpreter executable (no shim, no virtual environment). */
  readonly executable: string;
  /** `3.11.7`. */
  readonly version: string;
  /** Host folders the interpreter needs, for a sandbox to show read-only: its installation prefix, unless a system folder holds it. */
  readonly folders: readonly string[];
}

/** Asked of `python3` once: the interpreter behind it (`_base_executable` leaves a virtual environment) and its installation. */
const PROBE = 'import json, sys; print(json.dumps([getattr(sys, "_base_executable", "") or sys.executable, sys.base_prefix, sys.base_exec_prefix, "%d.%d.%d" % sys.version_info[:3]]))';
/** A pyenv shim runs a shell script first: generous, and only paid once. */
const PROBE_TIMEOUT_MS = 15_000;
/** Folders every sandbox already shows (see `sandbox-command`): an interpreter inside them needs nothing more. */
const SYSTEM_FOLDERS = ['/usr', '/bin', '/sbin', '/lib', '/lib64'];

/** Interpreters found so far, by command name (`python3.12`, `python3`); null: none on `PATH` runs. */
const found = new Map<string, PythonInterpreter | null>();

/**
 * What a function of `runtime` (`python3.12`) runs on: the first `python3.12` on the server's `PATH` that runs, else
 * the first `python3`; null when there is neither. Found on first use and kept: each probe blocks once, for the time
 * a Python starts.
 */
export function pythonInterpreter(runtime: string): PythonInterpreter | null {
  for (const command of [runtime, 'python3']) {
    let interpreter = found.get(command);
    if (interpreter === undefined) found.set(command, (interpreter = findPython(process.env.PATH ?? '', command)));
    if (interpreter !== null) return interpreter;
  }
  return null;
}

/** The first `command` on `path` (a `PATH` value) that runs, resolved; null when none does. */
export function findPython(path: string, command = 'python3'): PythonInterpreter | null {
  for (const folder of path.split(':')) {
    // A relative entry would name a folder of the server's working directory: never a place to run programs from.
    if (!isAbsolute(folder) || !existsSync(join(folder, command))) continue;
    const interpreter = probe(join(folder, command));
    if (interpreter !== null) return interpreter;
  }
  return null;
}

/** Why a `python3.X` function does not run on Python 3.X here, or undefined when it does. */
export function pythonMismatch(runtime: string, interpreter: PythonInterpreter | null): string | undefined {
  if (interpreter === null) return `${runtime} functions need ${runtime} or python3 on the server's PATH, and there is neither: their invocations fail`;
  const declared = pythonVersionOf(runtime);
  const running = interpreter.version.split('.').slice(0, 2).join('.');
  if (declared === running) return undefined;
  return `${runtime} functions run on the machine's Python ${interpreter.version} (${interpreter.executable}), not on Python ${declared}`;
}

function probe(command: string): PythonInterpreter | null {
  try {
    const output = execFileSync(command, ['-I', '-c', PROBE], { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'ignore'] });
    const [executable, basePrefix, baseExecPrefix, version] = JSON.parse(output) as [string, string, string, string];
    const real = realpathSync(executable);
    const prefixes = [basePrefix, baseExecPrefix].filter((folder) => folder !== '' && existsSync(folder)).map((folder) => realpathSync(folder));
    // A prefix of `/` would show the whole host: it is not shown (such an interpreter fails to start in a sandbox).
    const folders = [...new Set(prefixes)].filter((folder) => folder !== '/' && !SYSTEM_FOLDERS.some((system) => isWithin(system, folder)));
    // An executable outside its installation (a copy, a link farm) is shown alone, never its folder.
    if (![...SYSTEM_FOLDERS, ...folders].some((folder) => isWithin(folder, real))) folders.push(real);
    return { executable: real, version, folders };
  } catch {
    return null;
  }
}

function isWithin(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep));
}
