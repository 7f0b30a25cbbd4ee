/**
 * @module runtime/concurrency-limit
 * A counter of executions in flight against a ceiling: the account-wide limit and each
 * function's reserved concurrency are one of these each.
 */

/** Admits at most `limit` concurrent holders; never queues. */
export class ConcurrencyLimit {
  private active = 0;

  /** Changeable while executions are in flight: those already admitted finish. */
  constructor(public limit: number) {}

  /** Executions currently admitted. */
  get inFlight(): number {
    return this.active;
  }

  /** Takes a slot if one is free. */
  tryAcquire(): boolean {
    if (this.active >= this.limit) return false;
    this.active++;
    return true;
  }

  /** Gives a slot back. */
  release(): void {
    this.active--;
  }
}
