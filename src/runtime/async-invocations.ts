/**
 * @module runtime/async-invocations
 * `InvocationType: Event`: accepted at once, run in the background, as Lambda's internal queue.
 * - Durable: an event is in the data directory's event store before it is acknowledged, and is
 *   forgotten only once it succeeded or was given up; a restart runs again what had not finished
 *   (at-least-once: the request id lets a function de-duplicate).
 * - In order of arrival per function, as fast as its concurrency allows: a throttled function's
 *   queue waits for the invoker to free a slot, then goes on, without polling.
 * - A function error or timeout is retried up to `MaximumRetryAttempts` times (default 2), after
 *   one delay and then twice that delay (AWS: about 1 and 2 minutes; the `eventRetryDelay` setting);
 *   throttles and environment errors are retried until the event's maximum age.
 * - Bounded by events and by payload bytes (past either, new events are throttled with 429, as AWS
 *   throttles). An event older than its maximum age, or out of retries, is given up: the outcome
 *   handler sends it to its destination or dead-letter target, or logs it.
 */
import { AwsError } from '../errors.js';
import type { LogFields, Logger } from '../log.js';
import type { FunctionDefinition } from '../registry/function-definition.js';
import type { InvokeInput, InvokeOutput } from './invoker.js';

/** An invocation as the queue keeps it: with its JSON text, which is stored and measured. */
export type QueuedInput = InvokeInput & { readonly payload: string };
import type { EventQueueStore, StoredEvent } from './event-queue-store.js';
import { traceIdOf } from '../handler/trace-header.js';

/** Seconds before an event whose environment failed (not the function) is tried again. */
const ENVIRONMENT_RETRY_MS = 1000;

/** The queue's bounds. */
export interface EventQueueLimits {
  /** Events queued or running at once. */
  readonly maxEvents: number;
  /** Payload bytes of the events queued or running. */
  readonly maxBytes: number;
  /** Seconds an event may wait before it runs, for functions that do not set their own `maximumEventAge`. */
  readonly maxEventAge: number;
}

/** The part of the invoker the queue drives. */
export interface EventRunner {
  /** Runs an invocation; throws `TooManyRequestsException` at once when over a concurrency limit. */
  invoke(input: InvokeInput, done: (output: InvokeOutput) => void): void;
  /** Calls `listener` each time an execution ends and its concurrency slot is free again. */
  onSlotFreed(listener: () => void): void;
}

/** How the events of one function and qualifier are handled (AWS's event invoke configuration). */
export interface EventHandling {
  /** Retries after a function error: 0 to 2. */
  readonly maximumRetryAttempts: number;
  /** Seconds an event may wait, from its arrival. */
  readonly maximumEventAge: number;
}

/** Why an event was given up (AWS's `requestContext.condition`). */
export type FailureCondition = 'RetriesExhausted' | 'EventAgeExceeded';

/** An event that ended: what destinations and dead-letter targets are told. */
export interface FinishedEvent {
  readonly input: QueuedInput;
  /** The qualifier the event was sent to: `$LATEST`, a version or an alias. */
  readonly qualifier: string;
  /** Attempts made, the last included. */
  readonly attempts: number;
}

/** Receives every event's final outcome. */
export interface EventOutcomeHandler {
  succeeded(event: FinishedEvent, output: InvokeOutput): void;
  /** `output` is the last attempt's, when there was one. */
  failed(event: FinishedEvent, condition: FailureCondition, output: InvokeOutput | undefined): void;
}

/** Finds functions again for events loaded from the store. */
export interface EventFunctionResolver {
  resolve(name: string, qualifier: string | undefined): FunctionDefinition | undefined;
}

/** What the queue is set up with. */
export interface AsyncInvocationsOptions {
  readonly runner: EventRunner;
  readonly logger: Logger;
  /** Where events are kept until they end; none: in memory only (unit tests). */
  readonly store?: EventQueueStore;
  readonly limits?: EventQueueLimits;
  /** Seconds before the first retry of a failed event; the second waits twice as long. Default 60. */
  readonly retryDelay?: number;
  /** The handling of a function's events; default: 2 retries, the function's or the server's maximum age. */
  readonly handling?: (definition: FunctionDefinition, qualifier: string) => Partial<EventHandling> | undefined;
  /** Told every final outcome; default: failures are logged. */
  readonly outcomes?: EventOutcomeHandler;
  /** The clock events are aged by, in milliseconds. */
  readonly now?: () => number;
  /**
   * Finds an event's function again when it is about to run, as Lambda does: an event sent to
   * `$LATEST` runs the code current then, and one whose function was deleted is dropped. None: the
   * function as it was when the event arrived.
   */
  readonly resolver?: EventFunctionResolver;
}

/** One event in memory. */
interface QueuedEvent {
  /** The store's id; 0 when there is no store. */
  readonly id: number;
  /** Its definition is the current one at each attempt. */
  input: QueuedInput;
  /** The definition it is counted under (in the metrics' per-version counts): the one it arrived with. */
  readonly counted: FunctionDefinition;
  readonly qualifier: string;
  readonly size: number;
  /** When it must have started, in epoch milliseconds. */
  readonly deadline: number;
  readonly maxEventAge: number;
  readonly maximumRetryAttempts: number;
  readonly queuedAt: number;
  attempts: number;
}

/** The events of one function (reserved concurrency is per function name), ready to run, in order. */
class FunctionQueue {
  events: QueuedEvent[] = [];
  head = 0;
  /** Throttled: waits for a slot to free. */
  blocked = false;
  /** While blocked: drops the events that outlive their age meanwhile. */
  expiry: NodeJS.Timeout | undefined;

  get size(): number {
    return this.events.length - this.head;
  }

  peek(): QueuedEvent | undefined {
    return this.events[this.head];
  }

  shift(): void {
    this.events[this.head++] = undefined as unknown as QueuedEvent;
    // Compacted now and then, not on every shift: a long queue stays O(1) per event.
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
  }
}

const DEFAULT_LIMITS: EventQueueLimits = { maxEvents: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER, maxEventAge: 21_600 };

/** Runs Event invocations in the background. */
export class AsyncInvocations {
  private accepted = 0;
  private bytes = 0;
  /** Events ready or running: what a graceful stop waits for. Events waiting for a retry are not counted. */
  private active = 0;
  private closed = false;
  private wakeScheduled = false;
  /** Events accepted and not yet finished, per function name, then version: read by metrics. */
  private readonly byVersion = new Map<string, Map<string, number>>();
  private readonly queues = new Map<string, FunctionQueue>();
  private readonly blocked = new Set<FunctionQueue>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly runner: EventRunner;
  private readonly logger: Logger;
  private readonly store: EventQueueStore | undefined;
  private readonly limits: EventQueueLimits;
  private readonly retryDelayMs: number;
  private readonly now: () => number;

  constructor(private readonly options: AsyncInvocationsOptions) {
    this.runner = options.runner;
    this.logger = options.logger;
    this.store = options.store;
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.retryDelayMs = (options.retryDelay ?? 60) * 1000;
    this.now = options.now ?? Date.now;
    this.runner.onSlotFreed(() => {
      if (this.blocked.size === 0 || this.wakeScheduled) return;
      this.wakeScheduled = true;
      // After the ending invocation's own callbacks: never a new invocation from inside another's.
      queueMicrotask(() => this.wake());
    });
  }

  /** Events ready to run or running (not those waiting for a retry). */
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

  /** Calls `visit` with every function that has events waiting to run, and the age in seconds of the oldest of them. */
  forEachOldest(visit: (functionName: string, ageSeconds: number) => void): void {
    const now = this.now();
    for (const [name, queue] of this.queues) {
      let oldest = Infinity;
      for (let i = queue.head; i < queue.events.length; i++) oldest = Math.min(oldest, queue.events[i]!.queuedAt);
      if (oldest !== Infinity) visit(name, Math.max(0, (now - oldest) / 1000));
    }
  }

  /** Queues again the events the store kept from before a restart, in their order of arrival. */
  restore(resolver: EventFunctionResolver): number {
    if (this.store === undefined) return 0;
    let restored = 0;
    for (const stored of this.store.load()) {
      const definition = resolver.resolve(stored.functionName, stored.qualifier);
      if (definition === undefined) {
        this.logger.log('warn', 'async invocation dropped: its function no longer exists', { function: stored.functionName, requestId: stored.requestId });
        this.store.delete(stored.id);
        continue;
      }
      let event: unknown;
      try {
        event = JSON.parse(stored.payload);
      } catch {
        this.store.delete(stored.id);
        continue;
      }
      const input: QueuedInput = {
        definition, requestId: stored.requestId, payload: stored.payload, event, invokedFunctionArn: stored.invokedFunctionArn, tail: false, traceHeader: stored.traceHeader,
      };
      this.admit(input, stored.qualifier ?? '$LATEST', stored, Buffer.byteLength(stored.payload));
      restored++;
    }
    for (const queue of this.queues.values()) this.pump(queue);
    return restored;
  }

  /**
   * Accepts an event: calls `accepted` once it is stored (then it will run at least once) or with the
   * error that kept it out. Throws `TooManyRequestsException` at once when the queue is full.
   */
  submit(input: QueuedInput, qualifier: string, accepted: (error?: Error) => void): void {
    const size = Buffer.byteLength(input.payload);
    if (this.accepted + 1 > this.limits.maxEvents || this.bytes + size > this.limits.maxBytes) {
      this.logger.log('warn', 'async invocation refused: the event queue is full', {
        function: input.definition.name, requestId: input.requestId, queuedEvents: this.accepted, queuedBytes: this.bytes,
      });
      throw new AwsError('TooManyRequestsException', 'Rate Exceeded.', {}, { 'Retry-After': '1' });
    }
    // Counted at once: a burst within one group commit is bounded too.
    this.count(input.definition, size, +1);
    const queuedAt = this.now();
    const enqueue = (id: number) => {
      const queue = this.admit(input, qualifier, { id, queuedAt, attempts: 0 }, size, true);
      if (!queue.blocked) this.pump(queue);
    };
    if (this.store === undefined) {
      accepted();
      return enqueue(0);
    }
    this.store.insert({
      requestId: input.requestId, functionName: input.definition.name, qualifier: qualifier === '$LATEST' ? undefined : qualifier,
      invokedFunctionArn: input.invokedFunctionArn, payload: input.payload, traceHeader: input.traceHeader, queuedAt,
    }, (error, id) => {
      if (error !== undefined) {
        this.count(input.definition, size, -1);
        this.logger.log('error', `async invocation refused: the event could not be stored: ${error.message}`, { function: input.definition.name, requestId: input.requestId });
        return accepted(new AwsError('ServiceException', 'The event could not be stored: try again.'));
      }
      accepted();
      enqueue(id);
    });
  }

  /** Stops running events: those not finished stay in the store for the next start. */
  close(): void {
    this.closed = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const queue of this.queues.values()) clearTimeout(queue.expiry);
  }

  /** Puts an event in its function's queue (counting it, unless `counted`). */
  private admit(input: QueuedInput, qualifier: string, stored: Pick<StoredEvent, 'id' | 'queuedAt' | 'attempts'>, size: number, counted = false): FunctionQueue {
    if (!counted) this.count(input.definition, size, +1);
    const handling = this.options.handling?.(input.definition, qualifier);
    const maxEventAge = handling?.maximumEventAge ?? input.definition.maximumEventAge ?? this.limits.maxEventAge;
    const event: QueuedEvent = {
      id: stored.id, input, counted: input.definition, qualifier, size, queuedAt: stored.queuedAt, attempts: stored.attempts,
      deadline: stored.queuedAt + maxEventAge * 1000, maxEventAge,
      maximumRetryAttempts: handling?.maximumRetryAttempts ?? input.definition.maximumRetryAttempts ?? 2,
    };
    return this.ready(event);
  }

  private ready(event: QueuedEvent): FunctionQueue {
    const name = event.input.definition.name;
    let queue = this.queues.get(name);
    if (queue === undefined) this.queues.set(name, (queue = new FunctionQueue()));
    queue.events.push(event);
    this.active++;
    if (queue.blocked) this.armExpiry(queue);
    return queue;
  }

  /** Starts the queue's events in order until it is empty or its function is throttled. */
  private pump(queue: FunctionQueue): void {
    for (let event = queue.peek(); event !== undefined && !this.closed; event = queue.peek()) {
      if (this.now() > event.deadline) {
        queue.shift();
        this.active--;
        this.expired(event);
        continue;
      }
      if (this.options.resolver !== undefined) {
        const current = this.options.resolver.resolve(event.input.definition.name, event.qualifier);
        if (current === undefined) {
          queue.shift();
          this.active--;
          this.logger.log('warn', 'async invocation dropped: its function no longer exists', this.fieldsOf(event));
          this.end(event);
          continue;
        }
        if (current !== event.input.definition) event.input = { ...event.input, definition: current };
      }
      try {
        this.runner.invoke(event.input, (output) => this.attempted(event, output));
      } catch (error) {
        if (error instanceof AwsError && error.type === 'TooManyRequestsException') {
          queue.blocked = true;
          this.blocked.add(queue);
          this.armExpiry(queue);
          return;
        }
        // Not the function's failure: tried again later, until the event is too old.
        queue.shift();
        this.active--;
        this.logger.log('error', `async invocation could not start: ${(error as Error).message}`, this.fieldsOf(event));
        this.later(event, ENVIRONMENT_RETRY_MS);
        continue;
      }
      queue.shift();
    }
    if (queue.blocked) {
      queue.blocked = false;
      this.blocked.delete(queue);
    }
    clearTimeout(queue.expiry);
    queue.expiry = undefined;
  }

  /** A slot is free: every throttled queue tries again, in the order they were throttled. */
  private wake(): void {
    this.wakeScheduled = false;
    for (const queue of [...this.blocked]) {
      this.blocked.delete(queue);
      queue.blocked = false;
      this.pump(queue);
    }
  }

  /** While a queue waits for a slot, its events still age: the oldest is dropped when its time is up. */
  private armExpiry(queue: FunctionQueue): void {
    if (queue.expiry !== undefined) return;
    let deadline = Infinity;
    for (let i = queue.head; i < queue.events.length; i++) deadline = Math.min(deadline, queue.events[i]!.deadline);
    if (deadline === Infinity) return;
    queue.expiry = setTimeout(() => {
      queue.expiry = undefined;
      const now = this.now();
      const kept: QueuedEvent[] = [];
      for (let i = queue.head; i < queue.events.length; i++) {
        const event = queue.events[i]!;
        if (now > event.deadline) {
          this.active--;
          this.expired(event);
        } else kept.push(event);
      }
      queue.events = kept;
      queue.head = 0;
      if (queue.blocked) this.armExpiry(queue);
    }, Math.max(1, deadline - this.now() + 1));
    queue.expiry.unref();
  }

  /** An attempt ended. */
  private attempted(event: QueuedEvent, output: InvokeOutput): void {
    this.active--;
    event.attempts++;
    if (output.functionError === undefined) {
      this.end(event);
      this.options.outcomes?.succeeded(this.finished(event), output);
      return;
    }
    if (event.attempts > event.maximumRetryAttempts) {
      this.end(event);
      this.giveUp(event, 'RetriesExhausted', output);
      return;
    }
    this.logger.log('warn', `async invocation failed, retrying: ${output.payload}`, { ...this.fieldsOf(event), functionError: output.functionError, attempt: event.attempts });
    this.store?.setAttempts(event.id, event.attempts);
    this.later(event, this.retryDelayMs * event.attempts);
  }

  /** Queues an event again after `delayMs`, unless it is too old by then. */
  private later(event: QueuedEvent, delayMs: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      if (this.now() > event.deadline) return this.expired(event);
      const queue = this.ready(event);
      if (!queue.blocked) this.pump(queue);
    }, Math.max(0, Math.min(delayMs, event.deadline - this.now() + 1)));
    this.retryTimers.add(timer);
  }

  private expired(event: QueuedEvent): void {
    // The event's content stays out of the log: only who, which request and how old.
    this.logger.log('warn', 'async invocation dropped: the event is older than the maximum event age', {
      ...this.fieldsOf(event), ageSeconds: Math.floor((this.now() - event.queuedAt) / 1000), maxEventAge: event.maxEventAge,
    });
    this.end(event);
    this.giveUp(event, 'EventAgeExceeded', undefined);
  }

  private giveUp(event: QueuedEvent, condition: FailureCondition, output: InvokeOutput | undefined): void {
    if (this.options.outcomes !== undefined) return this.options.outcomes.failed(this.finished(event), condition, output);
    if (output !== undefined) this.logger.log('warn', `async invocation failed: ${output.payload}`, { ...this.fieldsOf(event), functionError: output.functionError, attempts: event.attempts });
  }

  /** The event is over: out of the store and the counts. */
  private end(event: QueuedEvent): void {
    if (event.id !== 0) this.store?.delete(event.id);
    this.count(event.counted, event.size, -1);
  }

  private count(definition: FunctionDefinition, size: number, delta: 1 | -1): void {
    this.accepted += delta;
    this.bytes += delta * size;
    const { name, version } = definition;
    let versions = this.byVersion.get(name);
    if (versions === undefined) this.byVersion.set(name, (versions = new Map()));
    const left = (versions.get(version) ?? 0) + delta;
    if (left > 0) versions.set(version, left);
    else {
      versions.delete(version);
      if (versions.size === 0) this.byVersion.delete(name);
    }
  }

  private finished(event: QueuedEvent): FinishedEvent {
    return { input: event.input, qualifier: event.qualifier, attempts: event.attempts };
  }

  private fieldsOf(event: QueuedEvent): LogFields {
    const fields: LogFields = { function: event.input.definition.name, requestId: event.input.requestId };
    if (event.input.traceHeader !== undefined) fields.traceId = traceIdOf(event.input.traceHeader);
    return fields;
  }
}
