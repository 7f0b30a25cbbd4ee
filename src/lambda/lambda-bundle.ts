/**
 * @module lambda/lambda-bundle
 * `serverfull bundle`: one declared function as a self-contained deployment package
 * (esbuild), ready for `aws lambda create-function`:
 * - `runtime.mjs` + `bootstrap`: lambda mode (serverfull's runtime client and the function),
 *   for `provided.al2023`/`provided.al2` and container images;
 * - `index.mjs`: the function alone, exporting `handler`, for the `nodejs*` runtimes.
 * A mocked function's bundle answers its declared mock and contains none of its code. The
 * manifest's `environment` is built in, as defaults for what the function's configuration leaves unset.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ConfigError } from '../config/config-error.js';
import { loadDefinition, type TypedDeclarationOptions } from '../declared-functions.js';
import { createZip } from '../deploy/zip-archive.js';
import { parseHandlerString, resolveHandlerFile } from '../handler/handler-loader.js';
import type { FunctionDefinition } from '../registry/function-definition.js';
import { isCustomRuntime, isPythonRuntime } from '../registry/runtimes.js';

/** Options of `bundleFunction()`: the declarations as for `serve()`, the function, and where the zip goes. */
export interface BundleOptions extends TypedDeclarationOptions {
  readonly functionName: string;
  /** Path of the zip to write. */
  readonly out: string;
  /** Put this machine's `node` executable in the package (`bin/node`), for `provided` runtimes without Node.js. */
  readonly includeNode?: boolean;
}

/** What `bundleFunction()` wrote. */
export interface BundleResult {
  readonly path: string;
  readonly bytes: number;
  /** The files in the package. */
  readonly files: readonly string[];
  /** Whether the bundle answers the function's mock instead of running its code. */
  readonly mocked: boolean;
}

/** serverfull's own modules the lambda-mode entry imports (compiled, next to this one). */
const OWN = (path: string) => JSON.stringify(fileURLToPath(new URL(`../${path}`, import.meta.url)));

/**
 * The custom runtime's entry point: Node.js from the package (`--include-node`), else from a
 * layer (`/opt/bin/node`), else from PATH (container images); the heap sized to the function.
 */
const BOOTSTRAP = `#!/bin/sh
# serverfull lambda mode: runs runtime.mjs, the function with its own Lambda runtime client.
ROOT="\${LAMBDA_TASK_ROOT:-$(dirname "$0")}"
NODE=node
for candidate in "$ROOT/bin/node" /opt/bin/node; do
  if [ -x "$candidate" ]; then NODE="$candidate"; break; fi
done
exec "$NODE" \${AWS_LAMBDA_FUNCTION_MEMORY_SIZE:+--max-old-space-size=$AWS_LAMBDA_FUNCTION_MEMORY_SIZE} "$ROOT/runtime.mjs"
`;

/** Lets CommonJS dependencies bundled into an ES module `require` Node.js built-ins. */
const REQUIRE_SHIM = "import { createRequire as __serverfullCreateRequire } from 'node:module'; const require = __serverfullCreateRequire(import.meta.url);";

/** Builds the package of one declared function; throws `ConfigError` for unknown functions and bundling errors. */
export async function bundleFunction(options: BundleOptions): Promise<BundleResult> {
  const { functionName, out, includeNode = false, ...declaration } = options;
  const definition = loadDefinition(declaration, functionName);
  const mock = definition.mock === undefined || definition.mock === false ? undefined : definition.mock;
  const work = mkdtempSync(join(tmpdir(), 'serverfull-bundle-'));
  try {
    const entries = join(work, 'entries');
    const output = join(work, 'package');
    mkdirSync(entries);
    mkdirSync(output);
    const runtimeEntry = join(entries, 'runtime.mjs');
    const entryPoints = [runtimeEntry];
    writeFileSync(join(entries, ENVIRONMENT_MODULE), environmentDefaults(definition.environment));
    if (mock) {
      writeFileSync(runtimeEntry, mockedRuntimeSource(definition, mock));
    } else {
      const { file, exportPath } = handlerModule(definition);
      writeFileSync(runtimeEntry, runtimeSource(definition, file, exportPath));
      const indexEntry = join(entries, 'index.mjs');
      writeFileSync(indexEntry, indexSource(file, exportPath));
      entryPoints.push(indexEntry);
    }
    await bundle(entryPoints, output);
    writeFileSync(join(output, 'bootstrap'), BOOTSTRAP, { mode: 0o755 });
    if (includeNode) {
      mkdirSync(join(output, 'bin'));
      copyFileSync(process.execPath, join(output, 'bin/node'));
    }
    const zip = await createZip(output);
    const path = resolve(out);
    await writeFile(path, zip);
    const files = ['bootstrap', 'runtime.mjs', ...(mock ? [] : ['index.mjs']), ...(includeNode ? ['bin/node'] : [])];
    return { path, bytes: zip.length, files, mocked: mock !== undefined };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function handlerModule(definition: FunctionDefinition): { file: string; exportPath: string[] } {
  const where = `function "${definition.name}"`;
  if (isCustomRuntime(definition.runtime)) throw new ConfigError(`${where} has runtime ${definition.runtime}: its bootstrap is its package already; bundle Node.js functions`);
  if (isPythonRuntime(definition.runtime)) throw new ConfigError(`${where} has runtime ${definition.runtime}: serverfull bundle is for Node.js functions only (zip a Python function's folder as it is)`);
  if (typeof definition.handler !== 'string') throw new ConfigError(`${where} is given as a function value; bundle functions declared with a "file.export" handler`);
  const parsed = parseHandlerString(definition.handler);
  const file = parsed && resolveHandlerFile(definition.root, parsed.modulePath);
  if (!parsed || !file) throw new ConfigError(`${where}: cannot find the module of handler ${definition.handler} in ${definition.root}`);
  return { file, exportPath: parsed.exportPath };
}

/** The export the handler string names, found as the Node.js runtime finds it (also on `default`, for CommonJS). */
function exportLookup(exportPath: readonly string[]): string {
  return `const __path = ${JSON.stringify(exportPath)};
const __walk = (root) => __path.reduce((value, key) => (value == null ? undefined : value[key]), root);
const __find = (module) => __walk(module) ?? __walk(module.default);`;
}

/** Imported first by both entries, so the function's declared variables are set before its module runs. */
const ENVIRONMENT_MODULE = 'environment-defaults.mjs';

/** The manifest's `environment`, as lambda mode applies it: only variables the function's configuration in AWS does not set. */
function environmentDefaults(environment: Readonly<Record<string, string>>): string {
  return `for (const [key, value] of Object.entries(${JSON.stringify(environment)})) if (process.env[key] === undefined) process.env[key] = value;\n`;
}

function indexSource(file: string, exportPath: readonly string[]): string {
  return `import './${ENVIRONMENT_MODULE}';
import * as __module from ${JSON.stringify(file)};
${exportLookup(exportPath)}
export const handler = __find(__module);
`;
}

/** Lambda mode for one function; the handler module is imported in the init phase, so its import errors become init errors. */
function runtimeSource(definition: FunctionDefinition, file: string, exportPath: readonly string[]): string {
  const shortName = `${exportPath.join('.')}`;
  return `${loopPrelude(definition)}
import { HandlerLoadError } from ${OWN('handler/function-errors.js')};
${exportLookup(exportPath)}
run({
  init: async () => {
    const handler = __find(await import(${JSON.stringify(file)}));
    if (typeof handler !== 'function') {
      throw new HandlerLoadError({ errorType: 'Runtime.HandlerNotFound', errorMessage: ${JSON.stringify(`${shortName} is undefined or not exported`)} });
    }
    return handler;
  },
});
`;
}

function mockedRuntimeSource(definition: FunctionDefinition, mock: object): string {
  return `${loopPrelude(definition)}
import { mockOutput } from ${OWN('runtime/mock-output.js')};
const declaration = ${JSON.stringify(mock)};
run({ answer: () => mockOutput(declaration) });
`;
}

/** Starts the runtime loop against AWS_LAMBDA_RUNTIME_API and exits with its exit code, as `serverfull lambda` does. */
function loopPrelude(definition: FunctionDefinition): string {
  const defaults = { functionName: definition.name, functionVersion: definition.version, memorySize: definition.memorySize };
  return `import './${ENVIRONMENT_MODULE}';
import { startRuntimeLoop } from ${OWN('runtime-client/runtime-loop.js')};
import { identityFromEnvironment } from ${OWN('runtime-client/environment-identity.js')};
async function run(fn) {
  const runtimeApi = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!runtimeApi) {
    process.stderr.write('serverfull lambda mode: AWS_LAMBDA_RUNTIME_API is not set\\n');
    process.exit(1);
  }
  const loop = startRuntimeLoop({ runtimeApi, identity: identityFromEnvironment(process.env, ${JSON.stringify(defaults)}), function: fn });
  const end = await loop.ended;
  if (end.reason === 'api-failed') process.stderr.write('serverfull lambda mode: ' + end.message + '\\n');
  process.exit(end.exitCode);
}`;
}

async function bundle(entryPoints: string[], outdir: string): Promise<void> {
  try {
    await build({
      entryPoints,
      outdir,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outExtension: { '.js': '.mjs' },
      banner: { js: REQUIRE_SHIM },
      logLevel: 'silent',
      legalComments: 'none',
    });
  } catch (error) {
    const errors = (error as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors ?? [];
    const details = errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text)).join('; ');
    throw new ConfigError(`bundling failed: ${details || (error as Error).message}`);
  }
}
