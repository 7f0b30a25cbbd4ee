/**
 * @module registry/runtimes
 * The one list of Lambda runtimes serverfull runs, used by the manifest, the SAM template reader,
 * the management API and the CLI; and what it means for a function to declare one.
 */

/**
 * Node.js runtimes. In process isolation each runs on the Node.js of its major version when one is installed
 * (`runtime/node-installs`); otherwise, and always in inline and worker isolation, on the Node.js that runs serverfull.
 */
export const NODE_RUNTIMES: readonly string[] = ['nodejs18.x', 'nodejs20.x', 'nodejs22.x', 'nodejs24.x'];

/** OS-only runtimes: the function brings its own runtime as an executable `bootstrap`. */
export const CUSTOM_RUNTIMES: readonly string[] = ['provided', 'provided.al2', 'provided.al2023'];

/** Python runtimes: serverfull's Python runtime client on the machine's `python3` (see `python-interpreter`). */
export const PYTHON_RUNTIMES: readonly string[] = ['python3.11', 'python3.12', 'python3.13'];

/** Every runtime a function may declare, wherever it is declared. */
export const SUPPORTED_RUNTIMES: readonly string[] = [...NODE_RUNTIMES, ...PYTHON_RUNTIMES, ...CUSTOM_RUNTIMES];

/**
 * AWS's own list of runtime identifiers, in the order its validation message gives them: a name
 * outside it is refused as AWS refuses it, a name in it that serverfull does not run, as unsupported.
 */
export const AWS_RUNTIMES: readonly string[] = [
  'nodejs20.x', 'python3.14', 'provided.al2023', 'python3.12', 'python3.13', 'nodejs24.x', 'nodejs22.x', 'java25', 'python3.10',
  'python3.11', 'java21', 'ruby3.3', 'ruby3.4', 'ruby3.2', 'python3.8', 'python3.9', 'java17', 'nodejs16.x', 'dotnet10', 'dotnet8',
  'java11', 'dotnet6', 'nodejs18.x', 'provided.al2', 'java8.al2',
];

/** The Node.js runtime that is actually running: the runtime of a function that names none. */
export const DEFAULT_RUNTIME = NODE_RUNTIMES.includes(nodeRuntimeOf(process.versions.node)) ? nodeRuntimeOf(process.versions.node) : 'nodejs22.x';

/** Whether `runtime` runs a `bootstrap` (an OS-only runtime) rather than a Node.js handler. */
export function isCustomRuntime(runtime: string): boolean {
  return CUSTOM_RUNTIMES.includes(runtime);
}

/** Whether `runtime` is a Python runtime: its handler is `module.function`, run by serverfull's Python runtime client. */
export function isPythonRuntime(runtime: string): boolean {
  return PYTHON_RUNTIMES.includes(runtime);
}

/** Whether a function of `runtime` can only run as a process of its own (not inline, not in a worker thread). */
export function runsAsProcessOnly(runtime: string): boolean {
  return isCustomRuntime(runtime) || isPythonRuntime(runtime);
}

/** The Python version a Python runtime names: `3.12` for `python3.12`. */
export function pythonVersionOf(runtime: string): string {
  return runtime.slice('python'.length);
}

/**
 * Why `runtime` does not run as declared: a Node.js runtime other than the running Node.js's major
 * version; undefined when it runs as declared (custom runtimes bring their own; Python is checked apart).
 */
export function runtimeMismatch(runtime: string, nodeVersion = process.versions.node): string | undefined {
  // Python's version is told apart where the interpreter is found (`python-interpreter`).
  if (isCustomRuntime(runtime) || isPythonRuntime(runtime) || runtime === nodeRuntimeOf(nodeVersion)) return undefined;
  return `${runtime} functions run on Node.js ${nodeVersion} (serverfull's own Node.js), not on Node.js ${nodeMajorOf(runtime)}`;
}

/** The major version a Node.js runtime names: `22` for `nodejs22.x`. */
export function nodeMajorOf(runtime: string): string {
  return runtime.slice(6, -2);
}

function nodeRuntimeOf(version: string): string {
  return `nodejs${version.split('.')[0]}.x`;
}
