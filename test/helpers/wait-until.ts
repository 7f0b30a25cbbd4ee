/**
 * @module test/helpers/wait-until
 * Waiting for something to happen (a file, a line of output, a process gone) instead of
 * waiting a fixed time: the check runs until it holds, however slow the machine is.
 */

/**
 * How long a wait may last before it fails: the test's own time limit, far beyond what
 * any event here takes on a loaded machine, so that a missing event fails with a message
 * rather than hanging the run (node:test has no default timeout).
 */
export const TEST_TIME_LIMIT_MS = 120_000;

/** Options of `waitUntil`. */
export interface WaitOptions {
  /** Ends the wait early, failing it: pass the test context's `signal`. */
  readonly signal?: AbortSignal;
  /** What to add to the failure message: the state the check saw last (a child's output, say). */
  readonly detail?: () => string;
}

/**
 * Resolves once `check` holds; checks again every few milliseconds. Fails after
 * `TEST_TIME_LIMIT_MS` with `waiting until <what>` and the detail.
 */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, options: WaitOptions = {}): Promise<void> {
  const limit = Date.now() + TEST_TIME_LIMIT_MS;
  for (;;) {
    if (await check()) return;
    if (Date.now() > limit || options.signal?.aborted) {
      const detail = options.detail?.();
      throw new Error(`gave up waiting until ${what}${detail ? `: ${detail}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
