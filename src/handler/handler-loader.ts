/**
 * @module handler/handler-loader
 * Turns AWS's `file.export` handler string into a function, as the Node.js runtime does:
 * `.js`, `.mjs`, `.cjs` by plain import, `.ts`/`.mts`/`.cts` through tsx without a build step,
 * with the runtime's `Runtime.*` errors for every way that can fail.
 */
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { LambdaHandler } from '../registry/function-definition.js';
import { handlerEscape, isInsideFolder } from '../registry/handler-path.js';
import { HandlerLoadError, toErrorPayload } from './function-errors.js';
import { statSync } from './node-builtins.js';

const EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];
const TYPESCRIPT = /\.[cm]?ts$/;
/** serverfull's own sources (dist/src, or src under tsx), found from this file so built-in handlers resolve wherever serverfull is installed. */
const OWN_SOURCES = fileURLToPath(new URL('..', import.meta.url));
// Module paths of handlers serverfull ships, usable in any manifest or template as `serverfull/NAME[.export]`.
const BUILT_IN_HANDLERS: Readonly<Record<string, string>> = { 'serverfull/command-runner': 'testing/command-runner' };

/** `functions/hello.handler` split into module path and export path, or undefined when malformed; a built-in handler may omit `.handler`. */
export function parseHandlerString(handler: string): { modulePath: string; exportPath: string[] } | undefined {
  if (Object.hasOwn(BUILT_IN_HANDLERS, handler)) return { modulePath: handler, exportPath: ['handler'] };
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  if (dot <= slash + 1 || dot === handler.length - 1) return undefined;
  return { modulePath: handler.slice(0, dot), exportPath: handler.slice(dot + 1).split('.') };
}

/**
 * The file a module path names under `root`, trying the runtime's extensions in order; then, as
 * AWS falls back to `node_modules`, serverfull's own module for a built-in handler's path.
 */
export function resolveHandlerFile(root: string, modulePath: string): string | undefined {
  const file = findModuleFile(root, modulePath);
  if (file || !Object.hasOwn(BUILT_IN_HANDLERS, modulePath)) return file;
  return findModuleFile(OWN_SOURCES, BUILT_IN_HANDLERS[modulePath]!);
}

function findModuleFile(root: string, modulePath: string): string | undefined {
  // Checked where handlers enter too; here again, so that no path leaves the code folder however it came.
  if (handlerEscape(modulePath) !== undefined || !isInsideFolder(root, modulePath)) return undefined;
  for (const extension of EXTENSIONS) {
    const candidate = join(root, modulePath + extension);
    // One stat per candidate, no exception for a missing one: a manifest of 1,000 functions checks 1,000 handlers at start.
    if (statSync(candidate, { throwIfNoEntry: false })?.isFile()) return candidate;
  }
  return undefined;
}

/** Whether the handler `file.export` of `root` names a TypeScript file. */
export function isTypeScriptHandler(root: string, handler: string): boolean {
  const parsed = parseHandlerString(handler);
  const file = parsed && resolveHandlerFile(root, parsed.modulePath);
  return file !== undefined && TYPESCRIPT.test(file);
}

/**
 * Loads tsx and compiles a tiny module, so that a TypeScript handler's init later in this thread
 * does not pay for starting the compiler (~200 ms). Best effort: failures only lose the head start.
 */
export async function warmTypeScript(): Promise<void> {
  // Only TypeScript functions' threads warm up: the modules this needs are loaded then, not in every runtime.
  const [{ rm, writeFile }, { threadId }] = await Promise.all([import('node:fs/promises'), import('node:worker_threads')]);
  const file = join(tmpdir(), `serverfull-ts-warmup-${process.pid}-${threadId}.mts`);
  try {
    await writeFile(file, 'export const warm: number = 1;\n');
    const { tsImport } = await import('tsx/esm/api');
    await tsImport(pathToFileURL(file).href, import.meta.url);
  } catch {
    // The real handler load reports any real problem.
  } finally {
    await rm(file, { force: true });
  }
}

/** Imports a handler's module file; the default is Node.js's own `import()` (through tsx for TypeScript). */
export type ModuleImporter = (file: string) => Promise<Record<string, unknown>>;

/** Imports the handler module (with `importer`, when given) and returns the named export; throws `HandlerLoadError`. */
export async function loadHandler(root: string, handler: string, importer?: ModuleImporter): Promise<LambdaHandler> {
  const parsed = parseHandlerString(handler);
  if (!parsed) throw new HandlerLoadError({ errorType: 'Runtime.MalformedHandlerName', errorMessage: 'Bad handler' });
  const file = resolveHandlerFile(root, parsed.modulePath);
  if (!file) {
    throw new HandlerLoadError({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: `Error: Cannot find module '${parsed.modulePath}'`,
    });
  }
  // A built-in handler is serverfull's own module, not the project's: it loads as always, whatever the importer.
  const ownModule = isAbsolute(relative(root, file)) || relative(root, file).startsWith('..');
  const module = await importModule(file, ownModule ? undefined : importer);
  const value = findExport(module, parsed.exportPath);
  const shortName = `${parsed.modulePath.slice(parsed.modulePath.lastIndexOf('/') + 1)}.${parsed.exportPath.join('.')}`;
  if (value === undefined) {
    throw new HandlerLoadError({ errorType: 'Runtime.HandlerNotFound', errorMessage: `${shortName} is undefined or not exported` });
  }
  if (typeof value !== 'function') {
    throw new HandlerLoadError({ errorType: 'Runtime.HandlerNotFound', errorMessage: `${shortName} is not a function` });
  }
  return value as LambdaHandler;
}

async function importModule(file: string, importer: ModuleImporter | undefined): Promise<Record<string, unknown>> {
  try {
    if (importer) return await importer(file);
    if (TYPESCRIPT.test(file)) {
      const { tsImport } = await import('tsx/esm/api');
      return await tsImport(pathToFileURL(file).href, import.meta.url);
    }
    return await import(pathToFileURL(file).href);
  } catch (error) {
    if (error instanceof HandlerLoadError) throw error;
    throw new HandlerLoadError(classifyImportError(error));
  }
}

function classifyImportError(error: unknown) {
  const e = error as { name?: string; code?: string; message?: string };
  if (e?.name === 'SyntaxError' || e?.name === 'TransformError' || /Transform failed/.test(e?.message ?? '')) {
    return { errorType: 'Runtime.UserCodeSyntaxError', errorMessage: `SyntaxError: ${e.message}` };
  }
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') {
    return { errorType: 'Runtime.ImportModuleError', errorMessage: `Error: ${e.message}` };
  }
  // Anything else thrown at import time is reported as itself, as the AWS runtime does.
  return toErrorPayload(error);
}

/** CommonJS modules loaded through import() (or tsx) may only expose their exports on `default`. */
function findExport(module: Record<string, unknown>, path: string[]): unknown {
  const walk = (root: unknown) => path.reduce<unknown>((value, key) => (value == null ? undefined : (value as Record<string, unknown>)[key]), root);
  return walk(module) ?? walk(module.default);
}
