/**
 * @module auth/principal
 * Who signed a request, as IAM names it: a user with long-term keys, or a role session
 * holding temporary credentials. Authorization reads its ARN and policy.
 */
import type { Policy } from './policy.js';

/** An authenticated caller. */
export interface Principal {
  readonly kind: 'user' | 'assumed-role';
  /** The user name, or the role name of a session. */
  readonly name: string;
  /** The session name of an assumed role. */
  readonly sessionName?: string;
  readonly accessKeyId: string;
  /** `arn:aws:iam::ACCOUNT:user/NAME` or `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, as AWS words its errors. */
  readonly arn: string;
  readonly policy: Policy;
}

/** The ARN IAM gives a user. */
export function userArn(accountId: string, name: string): string {
  return `arn:aws:iam::${accountId}:user/${name}`;
}

/** The ARN STS gives a role session. */
export function assumedRoleArn(accountId: string, role: string, session: string): string {
  return `arn:aws:sts::${accountId}:assumed-role/${role}/${session}`;
}

/** A name no IAM role can have (IAM allows only `[\w+=,.@-]`): the role of a function that declares none, which no keys file entry matches. */
export const NO_ROLE = '(none)';

/** The role name a function's `Role` names: the last segment of an IAM role ARN, or the name itself. */
export function roleNameOf(role: string | undefined): string {
  if (role === undefined || role === '') return NO_ROLE;
  return role.startsWith('arn:') ? role.slice(role.lastIndexOf('/') + 1) : role;
}
