/**
 * @module handler/node-builtins
 * The parts of `node:fs` and `node:util` that code running next to a function uses (its runtime process, its worker
 * thread), taken through `process.getBuiltinModule` rather than ES imports. An ES import of a built-in module builds its
 * facade by reading every export, lazy ones included: `node:fs` loads `fs/promises` and the readline it needs, `node:util`
 * loads `parseArgs`, `MIMEType` and more, none of which a runtime uses. With `node:v8` loaded only where it is read
 * (`runtime/invocation-executor.ts`), an idle process runtime holds 2.5 MB less RSS (52.1 to 49.6 MB).
 */
const fs = process.getBuiltinModule('node:fs');
const util = process.getBuiltinModule('node:util');

/** `fs.statSync`. */
export const statSync = fs.statSync;
/** `fs.readlinkSync`. */
export const readlinkSync = fs.readlinkSync;
/** `util.format`, as `console.log` formats its arguments. */
export const format = util.format;
/** `util.inspect`. */
export const inspect = util.inspect;
/** `util.types`. */
export const types = util.types;
