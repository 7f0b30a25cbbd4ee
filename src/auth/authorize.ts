/**
 * @module auth/authorize
 * The authorization decision for one principal and one target (of any service), with AWS's refusal.
 */
import { accessDenied, type AwsError } from '../errors.js';
import { evaluatePolicy } from './policy.js';
import type { Principal } from './principal.js';

/** What IAM checks for one request: the action and the resource it is on. */
export interface AuthorizationTarget {
  /** `lambda:InvokeFunction`, `logs:FilterLogEvents`, ... */
  readonly action: string;
  /** The resource ARN, or `*` for actions on no particular resource. */
  readonly resource: string;
}

/** Undefined when the principal's policy allows the target; else AWS's `AccessDeniedException`. */
export function authorize(principal: Principal, target: AuthorizationTarget): AwsError | undefined {
  const decision = evaluatePolicy(principal.policy, target.action, target.resource);
  if (decision === 'Allow') return undefined;
  return accessDenied(principal.arn, target.action, target.resource, decision === 'ExplicitDeny');
}
