/**
 * @module runtime/async-invocations
 * `InvocationType: Event`: accepted at once, run in the background. Like Lambda's
 * internal queue, a throttled event waits and is retried rather than dropped; function
 * errors are logged. Kept in memory: events still queued when the server stops are lost.
 */
import { AwsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { InvokeInput, Invoker } from './invoker.js';

const MAX_BACKOFF_MS = 1000;

/** Runs Event invocations in the background. */
export class AsyncInvocations {
  private active = 0;
  private closed = false;

  constructor(private readonly invoker: Invoker, private readonly logger: Logger) {}

  /** Events accepted and not yet finished. */
  get pending(): number {
    return this.active;
  }

  /** Accepts an event; it runs as soon as the function has capacity. */
  submit(input: InvokeInput): void {
    this.active++;
    void this.run(input).finally(() => this.active--);
  }

  /** Stops retrying throttled events. */
  close(): void {
    this.closed = true;
  }

  private async run(input: InvokeInput): Promise<void> {
    const fields = { function: input.definition.name, requestId: input.requestId };
    for (let backoff = 10; ; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
      try {
        const output = await this.invoker.invokeAsync(input);
        if (output.functionError) this.logger.log('warn', `async invocation failed: ${output.payload}`, { ...fields, functionError: output.functionError });
        return;
      } catch (error) {
        if (!(error instanceof AwsError && error.type === 'TooManyRequestsException') || this.closed) {
          this.logger.log('error', `async invocation dropped: ${(error as Error).message}`, fields);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    }
  }
}
