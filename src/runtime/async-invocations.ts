/**
 * @module runtime/async-invocations
 * `InvocationType: Event`: accepted at once, run in the background. Like Lambda's
 * internal queue, a throttled event waits and is retried rather than dropped; function
 * errors are logged. The queue is bounded by events and by payload bytes (past either,
 * new events are throttled with 429, as AWS throttles), and an event that waited longer than
 * the maximum event age is dropped with a log line, as AWS drops it. Kept in memory:
 * events still queued when the server stops are lost.
 */
import { AwsError } from '../errors.js';
import type { LogFields, Logger } from '../log.js';
import type { InvokeInput, Invoker } from './invoker.js';
import { traceIdOf } from '../handler/trace-header.js';

const MAX_BACKOFF_MS = 1000;

/** The queue's bounds. */
export interface EventQueueLimits {
  /** Events queued or running at once. */
  readonly maxEvents: number;
  /** Payload bytes of the events queued or running. */
  readonly maxBytes: number;
  /** Seconds an event may wait before it runs, for functions that do not set their own `maximumEventAge`. */
  readonly maxEventAge: number;
}

/** Runs Event invocations in the background. */
export class AsyncInvocations {
  private active = 0;
  private bytes = 0;
  private closed = false;
  /** Events accepted and not yet finished, per function name, then version: read by metrics. */
  private readonly byVersion = new Map<string, Map<string, number>>();

  constructor(
    private readonly invoker: Invoker,
    private readonly logger: Logger,
    private readonly limits: EventQueueLimits = { maxEvents: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER, maxEventAge: 21_600 },
    /** The clock events are aged by, in milliseconds. */
    private readonly now: () => number = Date.now,
  ) {}

  /** Events accepted and not yet finished. */
  get pending(): number {
    return this.active;
  }

  /** Payload bytes of the events accepted and not yet finished. */
  get pendingBytes(): number {
    return this.bytes;
  }

  /** Calls `visit` with every function version that has events accepted and not yet finished. */
  forEachPending(visit: (functionName: string, version: string, events: number) => void): void {
    for (const [name, versions] of this.byVersion) {
      for (const [version, events] of versions) visit(name, version, events);
    }
  }

  /** Accepts an event; it runs as soon as the function has capacity. Throws `TooManyRequestsException` when the queue is full. */
  submit(input: InvokeInput): void {
    const size = Buffer.byteLength(input.payload);
    if (this.active + 1 > this.limits.maxEvents || this.bytes + size > this.limits.maxBytes) {
      this.logger.log('warn', 'async invocation refused: the event queue is full', {
        function: input.definition.name, requestId: input.requestId, queuedEvents: this.active, queuedBytes: this.bytes,
      });
      throw new AwsError('TooManyRequestsException', 'Rate Exceeded.', {}, { 'Retry-After': '1' });
    }
    this.active++;
    this.bytes += size;
    const { name, version } = input.definition;
    let versions = this.byVersion.get(name);
    if (!versions) this.byVersion.set(name, (versions = new Map()));
    versions.set(version, (versions.get(version) ?? 0) + 1);
    void this.run(input, this.now()).finally(() => {
      this.active--;
      this.bytes -= size;
      const left = versions.get(version)! - 1;
      if (left > 0) versions.set(version, left);
      else {
        versions.delete(version);
        if (versions.size === 0 && this.byVersion.get(name) === versions) this.byVersion.delete(name);
      }
    });
  }

  /** Stops retrying throttled events. */
  close(): void {
    this.closed = true;
  }

  private async run(input: InvokeInput, queuedAt: number): Promise<void> {
    const fields: LogFields = { function: input.definition.name, requestId: input.requestId };
    if (input.traceHeader !== undefined) fields.traceId = traceIdOf(input.traceHeader);
    const maxEventAge = input.definition.maximumEventAge ?? this.limits.maxEventAge;
    const maxAgeMs = maxEventAge * 1000;
    for (let backoff = 10; ; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
      const age = this.now() - queuedAt;
      if (age > maxAgeMs) {
        // The event's content stays out of the log: only who, which request and how old.
        this.logger.log('warn', 'async invocation dropped: the event is older than the maximum event age', {
          ...fields, ageSeconds: Math.floor(age / 1000), maxEventAge,
        });
        return;
      }
      try {
        const output = await this.invoker.invokeAsync(input);
        if (output.functionError) this.logger.log('warn', `async invocation failed: ${output.payload}`, { ...fields, functionError: output.functionError });
        return;
      } catch (error) {
        if (!(error instanceof AwsError && error.type === 'TooManyRequestsException') || this.closed) {
          this.logger.log('error', `async invocation dropped: ${(error as Error).message}`, fields);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(backoff, Math.max(1, maxAgeMs - age + 1))));
      }
    }
  }
}
