/**
 * @module watch/fresh-module-importer
 * Loads an inline function's handler as a fresh module instance, so that a reload runs its
 * module's init again with the new code in the server's own process. Node.js caches ES modules
 * by URL and cannot unload them: each load bundles the handler with its project-local imports
 * (esbuild; `node_modules` packages stay external, loaded once and shared) into a new file beside
 * the handler, imports it, and removes the file. The module of each load stays in memory until
 * the server stops: about the size of the function's own code, per reload (the log says when that grows large).
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Message } from 'esbuild';
import { HandlerLoadError } from '../handler/function-errors.js';
import type { ModuleImporter } from '../handler/handler-loader.js';

let loads = 0;

/** What the modules loaded so far keep in memory: told after each load, to say when it grows. */
export type KeptModules = (kept: { readonly loads: number; readonly bytes: number }) => void;

/** An importer (`loadHandler`'s) that gives every load a module instance of its own; `kept` hears what the loads keep. */
export function freshModuleImporter(kept?: KeptModules): ModuleImporter {
  let keptLoads = 0;
  let keptBytes = 0;
  return async (file) => {
    const format = moduleFormat(file);
    let code: string;
    try {
      const result = await build({
        entryPoints: [file], absWorkingDir: dirname(file), bundle: true, write: false, packages: 'external',
        platform: 'node', format, target: `node${process.versions.node.split('.')[0]}`, logLevel: 'silent',
      });
      code = result.outputFiles[0]!.text;
    } catch (error) {
      throw new HandlerLoadError(buildFailure((error as { errors?: Message[] }).errors?.[0], error));
    }
    // Beside the handler: its packages resolve from there, and `import.meta.url` and `__dirname` name its folder.
    // A dot file, which the watcher ignores; exclusive creation, so an existing file (or a planted link) is never written through.
    const bundle = join(dirname(file), `.${basename(file)}.serverfull-${process.pid}-${++loads}.${format === 'esm' ? 'mjs' : 'cjs'}`);
    await writeFile(bundle, code, { flag: 'wx', mode: 0o600 });
    try {
      return await import(pathToFileURL(bundle).href) as Record<string, unknown>;
    } catch (error) {
      throw namingTheHandler(error, bundle, file);
    } finally {
      await rm(bundle, { force: true });
      keptBytes += code.length;
      kept?.({ loads: ++keptLoads, bytes: keptBytes });
    }
  };
}

/** An error of the bundle's init, with the bundle's path replaced by the handler's: the file the developer knows. */
function namingTheHandler(error: unknown, bundle: string, file: string): unknown {
  if (!(error instanceof Error)) return error;
  const rename = (text: string) => text.replaceAll(pathToFileURL(bundle).href, pathToFileURL(file).href).replaceAll(bundle, file);
  error.message = rename(error.message);
  if (error.stack !== undefined) error.stack = rename(error.stack);
  return error;
}

/** The module system Node.js loads `file` with: by extension, else by the nearest `package.json`'s `type`. */
function moduleFormat(file: string): 'esm' | 'cjs' {
  if (/\.m[jt]s$/.test(file)) return 'esm';
  if (/\.c[jt]s$/.test(file)) return 'cjs';
  for (let folder = dirname(file); ; folder = dirname(folder)) {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type === 'module' ? 'esm' : 'cjs';
      } catch {
        return 'cjs';
      }
    }
    if (dirname(folder) === folder) return 'cjs';
  }
}

/** The Node.js runtime's error for code that does not build: a syntax error, or an import that cannot be found. */
function buildFailure(message: Message | undefined, error: unknown) {
  if (message === undefined) return { errorType: 'Runtime.UserCodeSyntaxError', errorMessage: `SyntaxError: ${(error as Error)?.message ?? String(error)}` };
  const where = message.location ? ` (${message.location.file}:${message.location.line}:${message.location.column})` : '';
  const missing = /^Could not resolve "([^"]+)"/.exec(message.text);
  if (missing) return { errorType: 'Runtime.ImportModuleError', errorMessage: `Error: Cannot find module '${missing[1]}'${where}` };
  return { errorType: 'Runtime.UserCodeSyntaxError', errorMessage: `SyntaxError: ${message.text}${where}` };
}
