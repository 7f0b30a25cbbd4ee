/**
 * @module runtime/sampled-reading
 * A measurement reused for a few milliseconds. The REPORT line's "Max Memory Used" is read for every
 * invocation, and the readings behind it cost more than the invocation's own work under load: a walk
 * of the V8 heap, or a file the kernel writes anew for each read (`/proc/<pid>/status` was 21% of the
 * server's busy time in process isolation at 32 connections). A peak only grows: a reading at most
 * `maxAgeMs` old gives the same number, but in an invocation whose last milliseconds grew it.
 */

/** Reads `read()` at most every `maxAgeMs`, returning the last reading in between. */
export class SampledReading {
  private readAt = -Infinity;
  private last = 0;

  constructor(private readonly read: () => number, private readonly maxAgeMs = 10) {}

  /** The last reading, taken now if it is older than `maxAgeMs`. */
  get value(): number {
    const now = performance.now();
    if (now - this.readAt >= this.maxAgeMs) {
      this.last = this.read();
      this.readAt = now;
    }
    return this.last;
  }
}
