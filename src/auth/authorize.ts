/**
 * @module auth/authorize
 * The authorization decision for one principal and one target, with AWS's refusal.
 */
import { accessDenied, type AwsError } from '../errors.js';
import type { AuthorizationTarget } from './lambda-operations.js';
import { evaluatePolicy } from './policy.js';
import type { Principal } from './principal.js';

/** Undefined when the principal's policy allows the target; else AWS's `AccessDeniedException`. */
export function authorize(principal: Principal, target: AuthorizationTarget): AwsError | undefined {
  const decision = evaluatePolicy(principal.policy, target.action, target.resource);
  if (decision === 'Allow') return undefined;
  return accessDenied(principal.arn, target.action, target.resource, decision === 'ExplicitDeny');
}
