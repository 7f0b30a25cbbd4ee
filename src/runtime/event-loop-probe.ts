/**
 * @module runtime/event-loop-probe
 * Tells when a worker's event loop holds nothing but the worker's own resources: the
 * moment the AWS runtime would see `beforeExit` and send a callback handler's response.
 */
import type { EventLoopProbe } from '../handler/handler-runner.js';

/** Polls the active resources of this thread against the count it had when idle. */
export class ActiveResourcesProbe implements EventLoopProbe {
  private readonly baseline = process.getActiveResourcesInfo().length;
  private waiters: Array<() => void> = [];
  private polling = false;

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
