/**
 * @module auth/sns-operations
 * Which IAM action and resource each SNS request needs, as IAM checks it:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html
 * The request is AWS Query: `POST /`, a form body naming the `Action` and the topic. Like
 * `lambda-operations`, it reads the request on its own, before the API.
 */
import type { ServiceIdentity } from '../registry/arns.js';
import type { AuthorizationTarget } from './authorize.js';

/** The signing name of SNS: the service of its requests' credential scope. */
export const SNS_SERVICE = 'sns';

/** Whether a `POST /` is an SNS (AWS Query) request, from its raw headers: a form body. */
export function isSnsRequest(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length === 12 && rawHeaders[i]!.toLowerCase() === 'content-type') {
      return rawHeaders[i + 1]!.startsWith('application/x-www-form-urlencoded');
    }
  }
  return false;
}

/**
 * The IAM action (`sns:<Action>`) and resource of an SNS request: the topic's ARN (from `TopicArn`,
 * `TargetArn`, `Name` for CreateTopic, or a subscription's ARN for Unsubscribe); `*` for ListTopics
 * and for a request that names no topic.
 */
export function snsAuthorizationTarget(body: Buffer, identity: ServiceIdentity): AuthorizationTarget {
  const params = new URLSearchParams(body.toString('utf8'));
  const action = `sns:${params.get('Action') ?? ''}`;
  const name = params.get('Name');
  const topicArn = params.get('TopicArn') ?? params.get('TargetArn')
    ?? (name !== null ? `arn:aws:sns:${identity.region}:${identity.accountId}:${name}` : undefined)
    ?? topicOfSubscription(params.get('SubscriptionArn'));
  return { action, resource: topicArn ?? '*' };
}

/** A subscription ARN is its topic's ARN and an id. */
function topicOfSubscription(arn: string | null): string | undefined {
  if (arn === null) return undefined;
  const parts = arn.split(':');
  return parts.length === 7 ? parts.slice(0, 6).join(':') : undefined;
}
