/**
 * @module logs/log-stream-name
 * Lambda's log group names (`/aws/lambda/<function>`) read back: which function a group is. Streams
 * are named by the environments (`handler/lambda-environment.ts`), one per environment.
 */
import { logGroupName } from '../handler/lambda-environment.js';

/** The prefix of Lambda's log group names. */
export const LAMBDA_LOG_GROUP_PREFIX = logGroupName('');

/** The function a log group name belongs to; undefined for a group that is no Lambda function's. */
export function functionOfLogGroup(groupName: string): string | undefined {
  if (!groupName.startsWith(LAMBDA_LOG_GROUP_PREFIX)) return undefined;
  const name = groupName.slice(LAMBDA_LOG_GROUP_PREFIX.length);
  return name === '' || name.includes('/') ? undefined : name;
}
