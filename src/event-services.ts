/**
 * @module event-services
 * Everything asynchronous a server runs, wired together over the data directory: the durable Event
 * queue (`runtime/async-invocations`), event invoke configurations and destinations, and topics,
 * whose deliveries and whose use as destinations go through that same queue.
 */
import { randomUUID } from 'node:crypto';
import { parseFunctionRef } from './api/function-ref.js';
import type { Settings } from './config/settings.js';
import { LATEST, type FunctionCatalog } from './deploy/function-catalog.js';
import type { Logger } from './log.js';
import { functionArn } from './registry/arns.js';
import type { FunctionDefinition } from './registry/function-definition.js';
import { AsyncInvocations } from './runtime/async-invocations.js';
import { EventDestinations } from './runtime/event-destinations.js';
import { EventInvokeConfigs } from './runtime/event-invoke-configs.js';
import { EventStore } from './deploy/event-store.js';
import type { Invoker } from './runtime/invoker.js';
import { TopicStore } from './topics/topic-store.js';
import { Topics } from './topics/topics.js';

/** What the event services are opened with. */
export interface EventServicesOptions {
  readonly dataDir: string;
  readonly settings: Pick<Settings, 'region' | 'accountId' | 'eventQueueLimit' | 'eventQueueBytes' | 'maxEventAge' | 'eventRetryDelay'>;
  readonly invoker: Invoker;
  readonly catalog: FunctionCatalog;
  readonly logger: Logger;
  /** The Lambda API's endpoint, once listening (topics' `UnsubscribeUrl`). */
  readonly endpoint: () => string;
  /** The manifest's or template's functions: their declared topic subscriptions are served. */
  readonly declared: readonly FunctionDefinition[];
}

/** The event services of one server. */
export interface EventServices {
  readonly events: AsyncInvocations;
  readonly configs: EventInvokeConfigs;
  readonly topics: Topics;
  /** Queues again the events a stopped server had not finished; returns how many. */
  restore(): number;
  /** Closes the stores: events not finished stay there for the next start. */
  close(): void;
}

/** Opens the event store and the topics store of a data directory and wires the services over them. */
export function openEventServices(options: EventServicesOptions): EventServices {
  const { settings, catalog, logger } = options;
  const eventStore = new EventStore(options.dataDir);
  let topicStore: TopicStore;
  try {
    topicStore = new TopicStore(options.dataDir);
  } catch (error) {
    eventStore.close();
    throw error;
  }
  const configs = new EventInvokeConfigs(eventStore);
  let topics: Topics | undefined;
  const destinations = new EventDestinations(configs, {
    invokeFunction: (arn, payload) => submitToFunction(arn, payload, (error) => {
      if (error !== undefined) logger.log('error', `async invocation record not delivered: ${error.message}`, { destination: arn });
    }),
    publish: (arn, message, attributes) => {
      if (topics === undefined || !topics.exists(arn)) return false;
      topics.publish(arn, { message, attributes: attributes ?? new Map() }).catch((error: Error) => {
        logger.log('error', `async invocation record not published: ${error.message}`, { destination: arn });
      });
      return true;
    },
  }, logger, (name, qualifier) => functionArn(settings, name, qualifier));
  const events = new AsyncInvocations({
    runner: options.invoker, logger, store: eventStore, retryDelay: settings.eventRetryDelay,
    limits: { maxEvents: settings.eventQueueLimit, maxBytes: settings.eventQueueBytes, maxEventAge: settings.maxEventAge },
    handling: (definition, qualifier) => configs.handling(definition, qualifier),
    outcomes: destinations,
    resolver: catalog,
  });

  /** Queues an Event invocation of the function an ARN names (a destination, a topic's subscriber); false when there is none. */
  const submitToFunction = (arn: string, payload: string, accepted: (error?: Error) => void): boolean => {
    let ref;
    try {
      ref = parseFunctionRef(arn, undefined, settings);
    } catch {
      return false;
    }
    const definition = catalog.resolve(ref.name, ref.qualifier);
    if (definition === undefined) return false;
    try {
      events.submit({
        definition, requestId: randomUUID(), payload, event: JSON.parse(payload), invokedFunctionArn: functionArn(settings, ref.name, ref.qualifier), tail: false,
      }, ref.qualifier ?? LATEST, accepted);
    } catch (error) {
      accepted(error as Error);
    }
    return true;
  };

  const served = new Topics(topicStore, settings, (subscription, payload, stored) => {
    if (!submitToFunction(subscription.endpoint, payload, stored)) {
      // As SNS: a subscription whose function is gone is not the publisher's error.
      logger.log('warn', 'topic message not delivered: the subscribed function does not exist', { subscription: subscription.arn, function: subscription.endpoint });
      stored();
    }
  }, options.endpoint);
  topics = served;
  for (const definition of options.declared) {
    for (const topicName of definition.topics ?? []) served.declare(topicName, functionArn(settings, definition.name));
  }
  return {
    events,
    configs,
    topics: served,
    restore: () => events.restore(catalog),
    close() {
      events.close();
      eventStore.close();
      topicStore.close();
    },
  };
}
