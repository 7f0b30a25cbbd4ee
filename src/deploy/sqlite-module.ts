/**
 * @module deploy/sqlite-module
 * Loads Node.js's built-in SQLite. Node.js 22 announces it with an ExperimentalWarning on
 * stderr at every start; the module's API is the one we pin to, so that one warning is dropped.
 */

/** Returns `node:sqlite`, loaded without its ExperimentalWarning. */
export function loadSqlite(): typeof import('node:sqlite') {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const message = typeof warning === 'string' ? warning : warning.message;
    if (/SQLite is an experimental feature/.test(message)) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return process.getBuiltinModule('node:sqlite');
  } finally {
    process.emitWarning = emitWarning;
  }
}
