/**
 * @module runtime/event-queue-store
 * What the durable Event queue needs of its store (`deploy/event-store.ts` is the SQLite one): the queue lives
 * here, in the runtime; its persistence lives with the other stores.
 */

/** One stored event: what is needed to invoke it again after a restart. */
export interface StoredEvent {
  /** The store's key, in order of arrival. */
  readonly id: number;
  readonly requestId: string;
  readonly functionName: string;
  /** The qualifier the event was sent to (alias or version); undefined: `$LATEST`. */
  readonly qualifier: string | undefined;
  readonly invokedFunctionArn: string;
  readonly payload: string;
  readonly traceHeader: string | undefined;
  /** When the event was accepted, in epoch milliseconds: its age counts from here. */
  readonly queuedAt: number;
  /** Attempts that ended (with a function error or a timeout). */
  readonly attempts: number;
}

/** An event to store, before it has an id. */
export type NewEvent = Omit<StoredEvent, 'id' | 'attempts'>;

/** Where Event invocations and event invoke configurations are kept until they are done with. */
export interface EventQueueStore {
  /** Every event not yet finished, in order of arrival. */
  load(): StoredEvent[];
  /** Stores an event; `stored` is called once it is durable (or could not be stored). */
  insert(event: NewEvent, stored: (error: Error | undefined, id: number) => void): void;
  /** Forgets a finished event. */
  delete(id: number): void;
  /** Records how many attempts of an event have ended. */
  setAttempts(id: number, attempts: number): void;
  /** Every stored event invoke configuration, as JSON. */
  loadConfigs(): string[];
  /** Stores a function's (and qualifier's) event invoke configuration, as JSON. */
  putConfig(functionName: string, qualifier: string, config: string): void;
  /** Forgets a function's event invoke configuration: one qualifier's, or all of them. */
  deleteConfig(functionName: string, qualifier?: string): void;
}
