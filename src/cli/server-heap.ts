/**
 * @module cli/server-heap
 * The server's own V8 young generation, capped as `serverfull start` begins. Left to V8, Node.js 24 sizes it from the
 * machine's memory (here up to 64 MB semi-spaces, 128 MB of new space) and grows it under steady load for a minute or
 * more: a server of worker or process functions, which holds each request across its environment's answer, kept growing
 * its RSS by 15-25% long after its warm-up. V8 takes the size only as a process starts (v8.setFlagsFromString cannot
 * change it), so `npm start` passes it to node, and a `serverfull start` without it replaces itself once, in place.
 * Loaded by bin/serverfull.js before anything else: it imports nothing.
 */

/** The server's largest semi-space: 32 MB, half of V8's own choice here, measured at no cost to inline functions' req/s. */
export const SERVER_SEMI_SPACE_OPTION = '--max-semi-space-size=32';

/** Whether a semi-space size was chosen already: on node's command line, or by the operator in NODE_OPTIONS. */
function semiSpaceChosen(): boolean {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((option) => /--max[-_]semi[-_]space[-_]size/.test(option));
}

/**
 * For `serverfull start` (`args`, after the script), replaces this process (same pid, streams and environment) with
 * node started with SERVER_SEMI_SPACE_OPTION, unless a size is chosen already. Where `process.execve` is missing
 * (Windows) or fails, returns, and the server runs with V8's own size.
 */
export function restartWithServerHeap(args: readonly string[]): void {
  if (args[0] !== 'start' || typeof process.execve !== 'function' || semiSpaceChosen()) return;
  try {
    process.execve(process.execPath, [process.execPath, SERVER_SEMI_SPACE_OPTION, ...process.execArgv, process.argv[1]!, ...args], process.env);
  } catch {
    // Not replaced: this process goes on, with V8's size.
  }
}
