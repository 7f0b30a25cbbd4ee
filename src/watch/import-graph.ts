/**
 * @module watch/import-graph
 * The project files a function's code is made of: its handler file and every module it imports
 * from the project (not `node_modules`), read from esbuild's metafile. Hot reload uses it to know
 * which functions a changed file belongs to, so that the others stay warm.
 */
import { isAbsolute, resolve } from 'node:path';
import { build, type Message } from 'esbuild';
import { parseHandlerString, resolveHandlerFile } from '../handler/handler-loader.js';
import type { FunctionDefinition } from '../registry/function-definition.js';
import { runsAsProcessOnly } from '../registry/runtimes.js';

/** The files of one function: a set of absolute paths, or its whole folder (a custom runtime or Python function may use anything in it). */
export type FunctionFiles = { readonly kind: 'files'; readonly files: ReadonlySet<string> } | { readonly kind: 'folder'; readonly folder: string };

/**
 * The files `definition` is made of, or undefined when it has no code file (a handler given as a function, a mock).
 * Code that does not build (a syntax error, a missing import) still names its handler file and the files esbuild
 * reached, so that fixing any of them reloads it.
 */
export async function functionFiles(definition: FunctionDefinition): Promise<FunctionFiles | undefined> {
  if (definition.mock || typeof definition.handler !== 'string') return undefined;
  // A bootstrap, or Python's imports, which esbuild does not read: anything in the folder may be the function's.
  if (runsAsProcessOnly(definition.runtime)) return { kind: 'folder', folder: definition.root };
  const parsed = parseHandlerString(definition.handler);
  const entry = parsed && resolveHandlerFile(definition.root, parsed.modulePath);
  if (entry === undefined) return undefined;
  const files = new Set([entry]);
  try {
    const result = await build({
      entryPoints: [entry], absWorkingDir: definition.root, bundle: true, write: false, metafile: true,
      packages: 'external', platform: 'node', format: 'esm', logLevel: 'silent',
    });
    for (const input of Object.keys(result.metafile.inputs)) addProjectFile(files, definition.root, input);
  } catch (error) {
    for (const message of (error as { errors?: Message[] }).errors ?? []) {
      if (message.location) addProjectFile(files, definition.root, message.location.file);
    }
  }
  return { kind: 'files', files };
}

/** Whether a changed file belongs to a function made of `files`. */
export function belongsTo(files: FunctionFiles, path: string): boolean {
  if (files.kind === 'files') return files.files.has(path);
  return path.startsWith(files.folder.endsWith('/') ? files.folder : `${files.folder}/`);
}

function addProjectFile(files: Set<string>, root: string, input: string): void {
  // Inputs of other namespaces (`data:`, esbuild's own) carry a prefix and are no file of the project.
  if (/^[a-z-]+:/i.test(input)) return;
  const path = isAbsolute(input) ? input : resolve(root, input);
  if (!path.split('/').includes('node_modules')) files.add(path);
}
