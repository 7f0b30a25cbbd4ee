/**
 * @module runtime/event-invoke-configs
 * AWS's event invoke configuration of each function and qualifier (`PutFunctionEventInvokeConfig`):
 * retries, maximum event age and destinations, kept in the event store and read from memory when
 * an event is queued.
 */
import type { FunctionDefinition } from '../registry/function-definition.js';
import type { EventHandling } from './async-invocations.js';
import type { EventQueueStore } from './event-queue-store.js';

/** One function's (and qualifier's) configuration, as stored. */
export interface EventInvokeConfig {
  readonly functionName: string;
  /** `$LATEST`, a version or an alias. */
  readonly qualifier: string;
  readonly maximumRetryAttempts?: number;
  readonly maximumEventAge?: number;
  /** Destination ARNs. */
  readonly onSuccess?: string;
  readonly onFailure?: string;
  /** Epoch seconds. */
  readonly lastModified: number;
}

/** Every event invoke configuration of a server. */
export class EventInvokeConfigs {
  private readonly configs = new Map<string, EventInvokeConfig>();

  constructor(private readonly store: EventQueueStore) {
    for (const text of store.loadConfigs()) {
      const config = JSON.parse(text) as EventInvokeConfig;
      this.configs.set(keyOf(config.functionName, config.qualifier), config);
    }
  }

  /** The configuration of a function and qualifier, if one was put. */
  get(functionName: string, qualifier: string): EventInvokeConfig | undefined {
    return this.configs.get(keyOf(functionName, qualifier));
  }

  /** A function's configurations, by qualifier. */
  list(functionName: string): EventInvokeConfig[] {
    return [...this.configs.values()].filter((config) => config.functionName === functionName).sort((a, b) => a.qualifier.localeCompare(b.qualifier));
  }

  /** Stores, then serves, a configuration (replacing the one before). */
  put(config: EventInvokeConfig): void {
    this.store.putConfig(config.functionName, config.qualifier, JSON.stringify(config));
    this.configs.set(keyOf(config.functionName, config.qualifier), config);
  }

  /** Removes one configuration; false when there was none. */
  delete(functionName: string, qualifier: string): boolean {
    if (!this.configs.has(keyOf(functionName, qualifier))) return false;
    this.store.deleteConfig(functionName, qualifier);
    this.configs.delete(keyOf(functionName, qualifier));
    return true;
  }

  /** Removes the configurations of a deleted function (or of one of its versions). */
  forget(functionName: string, qualifier?: string): void {
    if (qualifier !== undefined) {
      this.delete(functionName, qualifier);
      return;
    }
    this.store.deleteConfig(functionName);
    for (const config of this.list(functionName)) this.configs.delete(keyOf(functionName, config.qualifier));
  }

  /** How the events sent to a function and qualifier are handled: what the queue asks. */
  handling(definition: FunctionDefinition, qualifier: string): Partial<EventHandling> | undefined {
    const config = this.configs.get(keyOf(definition.name, qualifier));
    if (config === undefined) return undefined;
    return { maximumRetryAttempts: config.maximumRetryAttempts, maximumEventAge: config.maximumEventAge };
  }
}

function keyOf(functionName: string, qualifier: string): string {
  return `${functionName}\u0000${qualifier}`;
}
