/**
 * @module runtime/event-loop-probe
 * Tells when an environment's event loop (a worker thread's, or a runtime process's) holds
 * nothing but the environment's own resources: the moment the AWS runtime would see
 * `beforeExit` and send a callback handler's response.
 */
import type { EventLoopProbe } from '../handler/handler-runner.js';

/** Request types (fs, dns) that come and go on their own, e.g. while ES modules load: not part of the idle baseline. */
const TRANSIENT_REQUEST = /Req/;

/** Active resources but transient requests: what an idle event loop holds. */
function idleResources(): number {
  let count = 0;
  for (const name of process.getActiveResourcesInfo()) if (!TRANSIENT_REQUEST.test(name)) count++;
  return count;
}

/** Polls the active resources of this thread against the count it had when idle, taken before user code runs. */
export class ActiveResourcesProbe implements EventLoopProbe {
  private baseline = idleResources();
  private waiters: Array<() => void> = [];
  private polling = false;

  /**
   * Lowers the baseline to the count seen now, less `own` resources of the runtime itself.
   * Handles still closing when the probe started (another runtime's socket, in a shared
   * process) would otherwise stay counted as idle and hide a handler's pending timer.
   */
  recount(own: number): void {
    this.baseline = Math.min(this.baseline, idleResources() - own);
  }

  whenEmpty(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      if (!this.polling) this.poll();
    });
  }

  private poll(): void {
    this.polling = true;
    // An unref'd timer is not an active resource, so polling does not hold the loop open itself.
    setTimeout(() => {
      if (process.getActiveResourcesInfo().length > this.baseline) return this.poll();
      this.polling = false;
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }, 1).unref();
  }
}
