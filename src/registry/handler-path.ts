/**
 * @module registry/handler-path
 * The one rule for a handler string's file part: it names a file inside the function's code
 * folder. `../../x.handler`, `/etc/x.handler`, `C:\x.handler` and the like leave it and are
 * refused where they enter (the management API, the manifest, the SAM template); the loader
 * checks containment again before it imports anything.
 */
import path from 'node:path';

/**
 * Why `handler` would load a file outside its code folder, or undefined when it stays inside.
 * Applies to every runtime: a custom runtime's bootstrap may read `_HANDLER` as a path too.
 */
export function handlerEscape(handler: string): string | undefined {
  if (handler.includes('\0')) return 'it contains a NUL character';
  if (handler.includes('\\')) return 'it contains a backslash ("/" separates folders)';
  if (handler.startsWith('/') || /^[a-zA-Z]:/.test(handler)) return 'it is an absolute path';
  if (handler.split('/').includes('..')) return 'it has a ".." segment';
  return undefined;
}

/** Whether `file` lies inside `root` (both resolved lexically): the loader's own check. */
export function isInsideFolder(root: string, file: string): boolean {
  const base = path.resolve(root);
  const target = path.resolve(base, file);
  return target === base || target.startsWith(base.endsWith(path.sep) ? base : base + path.sep);
}
