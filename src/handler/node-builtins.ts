/**
 * @module handler/node-builtins
 * The parts of `node:fs` and `node:util` that code running next to a function uses (its runtime process, its worker
 * thread), taken through `process.getBuiltinModule` rather than ES imports. An ES import of a built-in module builds its
 * facade by reading every export, lazy ones included: `node:fs` loads `fs/promises` and the readline it needs, `node:util`
 * loads `parseArgs`, `MIMEType` and more. Together about 1.5 MB of RSS in every runtime process, which uses none of them.
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
