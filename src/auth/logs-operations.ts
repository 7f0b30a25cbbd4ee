/**
 * @module auth/logs-operations
 * Which IAM action and resource each CloudWatch Logs API request needs, as IAM checks it:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
 * The operation is named by `X-Amz-Target: Logs_20140328.<Operation>` (AWS JSON 1.1), the log group
 * and stream by the body. Like `lambda-operations`, it reads the request on its own, before the API.
 */
import { jsonBodyFields } from '../http/json-body.js';
import { targetOperationOf } from '../http/amz-target.js';
import { groupNameOf, logGroupArn, logStreamArn, type ServiceIdentity } from '../registry/arns.js';
import type { AuthorizationTarget } from './authorize.js';

/** The `X-Amz-Target` prefix of CloudWatch Logs operations. */
export const LOGS_TARGET_PREFIX = 'Logs_20140328.';
/** The signing name of CloudWatch Logs: the service of its requests' credential scope. */
export const LOGS_SERVICE = 'logs';

/** The CloudWatch Logs operation a request names in `X-Amz-Target` (from `rawHeaders`), or undefined for any other request. */
export function logsOperationOf(rawHeaders: readonly string[]): string | undefined {
  return targetOperationOf(rawHeaders, LOGS_TARGET_PREFIX);
}

/**
 * The IAM action (`logs:<Operation>`) and resource of a CloudWatch Logs request: the log group's ARN
 * with `:*` (every stream of it) for operations on a group, the stream's ARN for `GetLogEvents`, every
 * group (`log-group:*`) for `DescribeLogGroups`. A body that names no group needs the action on every group.
 */
export function logsAuthorizationTarget(operation: string, body: Buffer, identity: ServiceIdentity): AuthorizationTarget {
  const action = `logs:${operation}`;
  const allGroups = logGroupArn(identity, '*');
  if (operation === 'DescribeLogGroups') return { action, resource: allGroups };
  const fields = jsonBodyFields(body);
  const named = typeof fields.logGroupName === 'string' ? fields.logGroupName : typeof fields.logGroupIdentifier === 'string' ? fields.logGroupIdentifier : undefined;
  if (named === undefined) return { action, resource: allGroups };
  const group = groupNameOf(named);
  if (operation === 'GetLogEvents' && typeof fields.logStreamName === 'string') return { action, resource: logStreamArn(identity, group, fields.logStreamName) };
  return { action, resource: `${logGroupArn(identity, group)}:*` };
}
