/**
 * @module topics/topics
 * SNS-style topics with `lambda` subscriptions: one publish, every subscribed function invoked
 * asynchronously with the SNS event (`Records[].Sns`). A publish is answered once each delivery is
 * an event in the durable Event queue, so it gets the queue's retries, maximum age and destinations.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
 */
import { createHash, randomUUID } from 'node:crypto';
import { AwsError } from '../errors.js';
import type { ServiceIdentity } from '../registry/arns.js';
import type { SubscriptionRecord, TopicRecord, TopicStore } from './topic-store.js';

const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const FUNCTION_ARN = /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;
/** SNS's message size limit: 256 KiB. */
export const MAX_MESSAGE_BYTES = 262_144;
const MAX_SUBJECT = 100;
const PAGE = 100;

/** A message attribute as SNS keeps it. */
export interface MessageAttribute {
  readonly dataType: string;
  readonly value: string;
}

/** One message to publish. */
export interface TopicMessage {
  readonly message: string;
  readonly subject?: string;
  readonly attributes: ReadonlyMap<string, MessageAttribute>;
}

/** Hands a function the SNS event of a subscription, through the durable Event queue; `stored` is called once it is queued (or could not be). */
export type SubscriptionDelivery = (subscription: SubscriptionRecord, event: string, stored: (error?: Error) => void) => void;

/** The topics of one server. */
export class Topics {
  private readonly topics = new Map<string, TopicRecord>();
  private readonly subscriptions = new Map<string, SubscriptionRecord>();
  /** Topics and subscriptions the manifest or template declares: served from memory, changed only there. */
  private readonly declared = new Set<string>();

  constructor(
    private readonly store: TopicStore,
    private readonly identity: ServiceIdentity,
    private readonly deliver: SubscriptionDelivery,
    /** The endpoint of this server, for the event's `UnsubscribeUrl`. */
    private readonly endpoint: () => string,
  ) {
    const loaded = store.load();
    for (const topic of loaded.topics) this.topics.set(topic.name, topic);
    for (const subscription of loaded.subscriptions) this.subscriptions.set(subscription.arn, subscription);
  }

  /** Subscribes a function to a topic as the manifest or template declares it, creating the topic if needed (neither is stored). */
  declare(topicName: string, functionArn: string): void {
    if (!this.topics.has(topicName)) {
      this.topics.set(topicName, { name: topicName, attributes: {}, tags: {} });
      this.declared.add(topicName);
    }
    for (const subscription of this.subscriptions.values()) {
      if (subscription.topicName === topicName && subscription.endpoint === functionArn) return;
    }
    // The same declaration gets the same ARN at every start.
    const hex = createHash('sha256').update(`${topicName}\u0000${functionArn}`).digest('hex');
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    const subscription: SubscriptionRecord = { arn: `${this.arnOf(topicName)}:${id}`, topicName, protocol: 'lambda', endpoint: functionArn };
    this.subscriptions.set(subscription.arn, subscription);
    this.declared.add(subscription.arn);
  }

  /** A topic's ARN. */
  arnOf(name: string): string {
    return `arn:aws:sns:${this.identity.region}:${this.identity.accountId}:${name}`;
  }

  /** Whether an ARN names a topic of this server. */
  exists(topicArn: string): boolean {
    return this.nameOf(topicArn) !== undefined;
  }

  /** Creates a topic, or answers the one of that name (as SNS, idempotent). */
  createTopic(name: string, attributes: Record<string, string>, tags: Record<string, string>): string {
    if (name.endsWith('.fifo') || attributes.FifoTopic === 'true') throw new AwsError('InvalidParameter', 'Invalid parameter: FIFO topics are not emulated by serverfull');
    if (!TOPIC_NAME.test(name)) throw new AwsError('InvalidParameter', 'Invalid parameter: Topic Name');
    if (!this.topics.has(name)) {
      const topic = { name, attributes, tags };
      this.store.putTopic(topic);
      this.topics.set(name, topic);
    }
    return this.arnOf(name);
  }

  /** Deletes a topic and its subscriptions. */
  deleteTopic(topicArn: string): void {
    const name = this.required(topicArn);
    if (this.declared.has(name) || [...this.subscriptions.values()].some((s) => s.topicName === name && this.declared.has(s.arn))) {
      throw new AwsError('InvalidParameter', 'Invalid parameter: TopicArn: the topic has subscriptions declared in the manifest or template: change them there');
    }
    this.store.deleteTopic(name);
    this.topics.delete(name);
    for (const [arn, subscription] of this.subscriptions) if (subscription.topicName === name) this.subscriptions.delete(arn);
  }

  /** A page of topic ARNs. */
  listTopics(nextToken: string | undefined): { arns: string[]; nextToken?: string } {
    return page([...this.topics.keys()].sort().map((name) => this.arnOf(name)), nextToken);
  }

  /** Subscribes a function; the same function twice is one subscription, as in SNS. */
  subscribe(topicArn: string, protocol: string, endpoint: string): string {
    const topicName = this.required(topicArn);
    if (protocol !== 'lambda') throw new AwsError('InvalidParameter', `Invalid parameter: Protocol: serverfull serves lambda subscriptions only, not ${protocol}`);
    const [, , , region, account] = endpoint.split(':');
    // A function of another account or region is not one this server can invoke.
    if (!FUNCTION_ARN.test(endpoint) || region !== this.identity.region || account !== this.identity.accountId) {
      throw new AwsError('InvalidParameter', 'Invalid parameter: Lambda endpoint ARN');
    }
    for (const subscription of this.subscriptions.values()) {
      if (subscription.topicName === topicName && subscription.endpoint === endpoint) return subscription.arn;
    }
    const subscription: SubscriptionRecord = { arn: `${topicArn}:${randomUUID()}`, topicName, protocol, endpoint };
    this.store.putSubscription(subscription);
    this.subscriptions.set(subscription.arn, subscription);
    return subscription.arn;
  }

  unsubscribe(subscriptionArn: string): void {
    if (!this.subscriptions.has(subscriptionArn)) throw new AwsError('NotFound', 'Subscription does not exist');
    if (this.declared.has(subscriptionArn)) throw new AwsError('InvalidParameter', 'Invalid parameter: SubscriptionArn: the subscription is declared in the manifest or template: change it there');
    this.store.deleteSubscription(subscriptionArn);
    this.subscriptions.delete(subscriptionArn);
  }

  /** A page of a topic's subscriptions. */
  listSubscriptions(topicArn: string, nextToken: string | undefined): { subscriptions: SubscriptionRecord[]; nextToken?: string } {
    const name = this.required(topicArn);
    const { arns, nextToken: next } = page([...this.subscriptions.values()].filter((s) => s.topicName === name).map((s) => s.arn), nextToken);
    return { subscriptions: arns.map((arn) => this.subscriptions.get(arn)!), nextToken: next };
  }

  /** Checks a message as SNS does; throws `InvalidParameter`. */
  check(message: TopicMessage): void {
    if (message.message === '') throw new AwsError('InvalidParameter', 'Invalid parameter: Empty message');
    if (Buffer.byteLength(message.message) > MAX_MESSAGE_BYTES) throw new AwsError('InvalidParameter', 'Invalid parameter: Message too long');
    if (message.subject !== undefined && (message.subject.length > MAX_SUBJECT || message.subject === '' || /[\r\n]/.test(message.subject))) {
      throw new AwsError('InvalidParameter', 'Invalid parameter: Subject');
    }
  }

  /** Publishes a checked message: resolves with its id once every subscribed function's event is queued. */
  publish(topicArn: string, message: TopicMessage): Promise<string> {
    const name = this.required(topicArn);
    const messageId = randomUUID();
    const timestamp = new Date().toISOString();
    const targets = [...this.subscriptions.values()].filter((s) => s.topicName === name);
    return new Promise((resolve, reject) => {
      let left = targets.length;
      let failed: Error | undefined;
      if (left === 0) return resolve(messageId);
      for (const subscription of targets) {
        try {
          this.deliver(subscription, JSON.stringify(this.eventOf(subscription, topicArn, messageId, timestamp, message)), (error) => {
            failed ??= error;
            if (--left === 0) return failed === undefined ? resolve(messageId) : reject(failed);
          });
        } catch (error) {
          failed ??= error as Error;
          if (--left === 0) reject(failed);
        }
      }
    });
  }

  private eventOf(subscription: SubscriptionRecord, topicArn: string, messageId: string, timestamp: string, message: TopicMessage): unknown {
    const attributes: Record<string, { Type: string; Value: string }> = {};
    for (const [key, attribute] of message.attributes) attributes[key] = { Type: attribute.dataType, Value: attribute.value };
    return {
      Records: [{
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: subscription.arn,
        Sns: {
          Type: 'Notification',
          MessageId: messageId,
          TopicArn: topicArn,
          Subject: message.subject ?? null,
          Message: message.message,
          Timestamp: timestamp,
          // Messages are not signed: there is no certificate to check them against.
          SignatureVersion: '1',
          Signature: 'EXAMPLE',
          SigningCertUrl: 'EXAMPLE',
          UnsubscribeUrl: `${this.endpoint()}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscription.arn)}`,
          MessageAttributes: attributes,
        },
      }],
    };
  }

  private nameOf(topicArn: string): string | undefined {
    const prefix = this.arnOf('');
    if (!topicArn.startsWith(prefix)) return undefined;
    const name = topicArn.slice(prefix.length);
    return this.topics.has(name) ? name : undefined;
  }

  private required(topicArn: string): string {
    const name = this.nameOf(topicArn);
    if (name === undefined) throw new AwsError('NotFound', 'Topic does not exist');
    return name;
  }
}

function page(arns: string[], nextToken: string | undefined): { arns: string[]; nextToken?: string } {
  let start = 0;
  if (nextToken !== undefined && nextToken !== '') {
    start = Number(Buffer.from(nextToken, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw new AwsError('InvalidParameter', 'Invalid parameter: NextToken');
  }
  const slice = arns.slice(start, start + PAGE);
  return start + PAGE < arns.length ? { arns: slice, nextToken: Buffer.from(String(start + PAGE)).toString('base64url') } : { arns: slice };
}
