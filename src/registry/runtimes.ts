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

/** Every runtime a function may declare, wherever it is declared. */
export const SUPPORTED_RUNTIMES: readonly string[] = [...NODE_RUNTIMES, ...CUSTOM_RUNTIMES];

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

/**
 * Why `runtime` does not run as declared: a Node.js runtime other than the running Node.js's major
 * version; undefined when it runs as declared (custom runtimes bring their own).
 */
export function runtimeMismatch(runtime: string, nodeVersion = process.versions.node): string | undefined {
  if (isCustomRuntime(runtime) || runtime === nodeRuntimeOf(nodeVersion)) return undefined;
  return `${runtime} functions run on Node.js ${nodeVersion} (serverfull's own Node.js), not on Node.js ${nodeMajorOf(runtime)}`;
}

/** The major version a Node.js runtime names: `22` for `nodejs22.x`. */
export function nodeMajorOf(runtime: string): string {
  return runtime.slice(6, -2);
}

function nodeRuntimeOf(version: string): string {
  return `nodejs${version.split('.')[0]}.x`;
}
