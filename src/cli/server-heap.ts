/**
 * @module cli/server-heap
 * The server's own V8 heap settings, given to node as `serverfull start` begins: V8 takes a heap's sizes only as a process
 * starts (v8.setFlagsFromString cannot change them), and pretenuring must be off before the server's first load. So
 * `npm start` passes them to node, and a `serverfull start` without them replaces itself once, in place. Loaded by
 * bin/serverfull.js before anything else: it imports nothing.
 */

/**
 * The server's largest semi-space: 32 MB, half of V8's own choice here, measured at no cost to inline functions' req/s.
 * Left to V8, Node.js 24 sizes the young generation from the machine's memory (here up to 64 MB semi-spaces) and grows
 * it under steady load for a minute or more: a server of worker or process functions, which holds each request across
 * its environment's answer, kept growing its RSS by 15-25% long after its warm-up.
 */
export const SERVER_SEMI_SPACE_OPTION = '--max-semi-space-size=32';

/**
 * No allocation-site pretenuring. V8 allocates an allocation site's objects straight in old space once nearly all of them
 * survive a scavenge, and in practice never takes the decision back. A scavenge in the first moments of a load, with
 * the code still cold and every connection's request in flight, can find all of one request-path site's objects alive:
 * from then on that site's objects of every request go to old space, which fills in a few hundred ms, and the server
 * runs 2-3 full mark-compacts a second for as long as it runs. Measured: API Gateway on inline functions, in 7 of 13
 * starts, a quarter to a third fewer requests; in none of 13 without pretenuring.
 * Node.js refuses this option in NODE_OPTIONS, so an operator who wants pretenuring gives `--allocation-site-pretenuring` to node.
 */
export const SERVER_PRETENURING_OPTION = '--no-allocation-site-pretenuring';

/** Each option, and what says the operator (or npm start) chose that setting already: on node's command line, or in NODE_OPTIONS. */
const SERVER_V8_OPTIONS: ReadonlyArray<readonly [string, RegExp]> = [
  [SERVER_SEMI_SPACE_OPTION, /--max[-_]semi[-_]space[-_]size/],
  [SERVER_PRETENURING_OPTION, /--(no[-_])?allocation[-_]site[-_]pretenuring/],
];

/** Every option the server starts with, as `npm start` gives them to node. */
export const SERVER_NODE_OPTIONS: readonly string[] = SERVER_V8_OPTIONS.map(([option]) => option);

/** The server's options not chosen already, in the order of SERVER_V8_OPTIONS. */
function serverOptionsToAdd(chosen: readonly string[]): string[] {
  return SERVER_V8_OPTIONS.filter(([, setting]) => !chosen.some((option) => setting.test(option))).map(([option]) => option);
}

/**
 * For `serverfull start` (`args`, after the script), replaces this process (same pid, streams and environment) with
 * node started with the server's options that are not chosen already, if any. Where `process.execve` is missing
 * (Windows) or fails, returns, and the server runs with V8's own settings.
 */
export function restartWithServerHeap(args: readonly string[]): void {
  if (args[0] !== 'start' || typeof process.execve !== 'function') return;
  const added = serverOptionsToAdd([...process.execArgv, process.env.NODE_OPTIONS ?? '']);
  if (added.length === 0) return;
  try {
    process.execve(process.execPath, [process.execPath, ...added, ...process.execArgv, process.argv[1]!, ...args], process.env);
  } catch {
    // Not replaced: this process goes on, with V8's settings.
  }
}
