/**
 * @module runtime/event-destinations
 * Sends each Event invocation's outcome where its event invoke configuration says: on success or
 * on failure, to a function (invoked asynchronously, through the durable queue) or a topic, with
 * AWS's invocation record. A failure with nowhere to go is logged, as before destinations existed.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 */
import type { Logger } from '../log.js';
import type { EventOutcomeHandler, FailureCondition, FinishedEvent } from './async-invocations.js';
import type { EventInvokeConfigs } from './event-invoke-configs.js';
import type { InvokeOutput } from './invoker.js';

/** Where records can be sent. */
export interface DestinationTargets {
  /** Invokes the function an ARN names asynchronously with `payload`; false when it does not exist (any more). */
  invokeFunction(functionArn: string, payload: string): boolean;
  /** Publishes `message` (with SNS message attributes) to the topic an ARN names; false when it does not exist (any more). */
  publish(topicArn: string, message: string, attributes?: ReadonlyMap<string, { dataType: string; value: string }>): boolean;
}

/** The record AWS sends to a destination. */
export interface InvocationRecord {
  readonly version: '1.0';
  readonly timestamp: string;
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: 'Success' | FailureCondition;
    readonly approximateInvokeCount: number;
  };
  readonly requestPayload: unknown;
  readonly responseContext?: { readonly statusCode: number; readonly executedVersion: string; readonly functionError?: string };
  readonly responsePayload?: unknown;
}

/** Sends outcomes to destinations. */
export class EventDestinations implements EventOutcomeHandler {
  constructor(
    private readonly configs: EventInvokeConfigs,
    private readonly targets: DestinationTargets,
    private readonly logger: Logger,
    /** The function's ARN with the qualifier events were sent to, as AWS puts it in the record. */
    private readonly arnOf: (functionName: string, qualifier: string) => string,
  ) {}

  succeeded(event: FinishedEvent, output: InvokeOutput): void {
    const destination = this.configs.get(event.input.definition.name, event.qualifier)?.onSuccess;
    if (destination !== undefined) this.send(destination, event, this.record(event, 'Success', output));
  }

  failed(event: FinishedEvent, condition: FailureCondition, output: InvokeOutput | undefined): void {
    const fields = { function: event.input.definition.name, requestId: event.input.requestId, attempts: event.attempts, condition };
    const destination = this.configs.get(event.input.definition.name, event.qualifier)?.onFailure;
    if (output !== undefined) this.logger.log('warn', `async invocation failed: ${output.payload}`, { ...fields, functionError: output.functionError });
    if (destination !== undefined) this.send(destination, event, this.record(event, condition, output));
    const deadLetter = event.input.definition.deadLetterTarget;
    if (deadLetter !== undefined) {
      // As AWS: the dead-letter target gets the event itself, with what failed in message attributes.
      const attributes = new Map([
        ['RequestID', { dataType: 'String', value: event.input.requestId }],
        ['ErrorCode', { dataType: 'Number', value: '200' }],
        ['ErrorMessage', { dataType: 'String', value: output === undefined ? 'Event age exceeded' : errorMessageOf(output.payload) }],
      ]);
      if (!this.targets.publish(deadLetter, event.input.payload, attributes)) {
        this.logger.log('warn', 'async invocation not sent to its dead-letter target: the topic does not exist', { ...fields, deadLetterTarget: deadLetter });
      }
    }
  }

  private send(destination: string, event: FinishedEvent, record: InvocationRecord): void {
    const payload = JSON.stringify(record);
    const sent = destination.split(':')[2] === 'sns' ? this.targets.publish(destination, payload) : this.targets.invokeFunction(destination, payload);
    if (!sent) {
      this.logger.log('warn', 'async invocation record not delivered: its destination does not exist', {
        function: event.input.definition.name, requestId: event.input.requestId, destination,
      });
    }
  }

  private record(event: FinishedEvent, condition: 'Success' | FailureCondition, output: InvokeOutput | undefined): InvocationRecord {
    const record: InvocationRecord = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId: event.input.requestId,
        functionArn: this.arnOf(event.input.definition.name, event.qualifier),
        condition,
        approximateInvokeCount: event.attempts,
      },
      requestPayload: event.input.event,
    };
    if (output === undefined) return record;
    const responseContext = output.functionError === undefined
      ? { statusCode: 200, executedVersion: output.executedVersion }
      // As the Invoke API's `X-Amz-Function-Error`: AWS reports every function error as `Unhandled`.
      : { statusCode: 200, executedVersion: output.executedVersion, functionError: 'Unhandled' };
    return { ...record, responseContext, responsePayload: parsed(output.payload) };
  }
}

function errorMessageOf(payload: string): string {
  const error = parsed(payload) as { errorMessage?: unknown } | null;
  return typeof error?.errorMessage === 'string' ? error.errorMessage : payload;
}

function parsed(payload: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}
