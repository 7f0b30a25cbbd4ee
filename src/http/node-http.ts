/**
 * @module http/node-http
 * `node:http`, taken through `process.getBuiltinModule`. An ES `import` of `node:http` builds the module's facade by
 * reading every export, which runs the lazy getters of the fetch classes it re-exports (`WebSocket`, `MessageEvent`...)
 * and so loads Node.js's bundled undici: about 14 MB of RSS and 2.4 MB of heap in every server, and its compile time at
 * start, for a server that never calls `fetch`. The module object reads only what is used.
 */
const http = process.getBuiltinModule('node:http');

/** `http.createServer`. */
export const createServer = http.createServer;
/** `http.IncomingMessage`, the class a server's requests are made of. */
export const IncomingMessage = http.IncomingMessage;
