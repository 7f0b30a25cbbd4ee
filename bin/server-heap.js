// The server's own V8 young generation, capped as `serverfull start` begins. Left to V8, Node.js 24 sizes it from the
// machine's memory (here up to 64 MB semi-spaces, 128 MB of new space) and grows it under steady load for a minute or
// more: a server of worker or process functions, which holds each request across its environment's answer, kept
// growing its RSS by 15-25% long after its warm-up. V8 takes the size only as the process starts, and a running
// process cannot change it (v8.setFlagsFromString has no effect on it), so the CLI starts over once, in place.

/** The server's largest semi-space: 32 MB, half of V8's own choice here, measured at no cost to inline functions' req/s. */
export const SERVER_SEMI_SPACE_OPTION = '--max-semi-space-size=32';

/** Whether the operator already chose a semi-space size, on node's command line or in NODE_OPTIONS. */
function semiSpaceChosen() {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((option) => /--max[-_]semi[-_]space[-_]size/.test(option));
}

/**
 * For `serverfull start`, replaces this process (same pid, same streams and environment) with node started with
 * SERVER_SEMI_SPACE_OPTION, unless a semi-space size is chosen already; on a Node.js without `process.execve` (Windows)
 * or if the exec fails, the server starts with V8's own size.
 */
export function restartWithServerHeap(args) {
  if (args[0] !== 'start' || typeof process.execve !== 'function' || semiSpaceChosen()) return;
  try {
    process.execve(process.execPath, [process.execPath, SERVER_SEMI_SPACE_OPTION, ...process.execArgv, process.argv[1], ...args], process.env);
  } catch {
    // The exec did not happen: this process goes on as it is, with V8's size.
  }
}
