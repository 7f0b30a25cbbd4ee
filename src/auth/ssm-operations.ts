/**
 * @module auth/ssm-operations
 * Which IAM actions and resources each Systems Manager Parameter Store request needs, as IAM checks them:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html
 * The operation is named by `X-Amz-Target: AmazonSSM.<Operation>` (AWS JSON 1.1), the parameters by
 * the body: each named parameter's ARN (`GetParameters` and `DeleteParameters` need the action on
 * every one), the path's ARN for `GetParametersByPath`, every resource for `DescribeParameters`.
 * Also the namespace policy of function roles that have no SSM policy of their own, and `kms:Decrypt` on a
 * SecureString's key for callers whose policy speaks of it.
 */
import { jsonBodyFields } from '../http/json-body.js';
import { targetOperationOf } from '../http/amz-target.js';
import { parameterArn, type ServiceIdentity } from '../registry/arns.js';
import type { AwsError } from '../errors.js';
import { authorize, type AuthorizationTarget } from './authorize.js';
import type { Policy } from './policy.js';
import { parsePolicy } from './policy.js';
import type { Principal } from './principal.js';

/** The `X-Amz-Target` prefix of SSM operations. */
export const SSM_TARGET_PREFIX = 'AmazonSSM.';
/** The signing name of Systems Manager. */
export const SSM_SERVICE = 'ssm';

/** The SSM operation a request names in `X-Amz-Target` (from `rawHeaders`), or undefined for any other request. */
export function ssmOperationOf(rawHeaders: readonly string[]): string | undefined {
  return targetOperationOf(rawHeaders, SSM_TARGET_PREFIX);
}

/** The IAM checks of an SSM request: one per parameter it names (all must pass). */
export function ssmAuthorizationTargets(operation: string, body: Buffer, identity: ServiceIdentity): AuthorizationTarget[] {
  const action = `ssm:${operation}`;
  const fields = jsonBodyFields(body);
  const every = `arn:aws:ssm:${identity.region}:${identity.accountId}:*`;
  if (operation === 'GetParametersByPath') {
    const path = typeof fields.Path === 'string' ? fields.Path : '';
    return [{ action, resource: parameterArn(identity, path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path) }];
  }
  const names = Array.isArray(fields.Names) ? fields.Names : typeof fields.Name === 'string' ? [fields.Name] : [];
  const targets = names.filter((name): name is string => typeof name === 'string')
    // `name:3` and `name:label` are the parameter `name` to IAM.
    .map((name) => ({ action, resource: parameterArn(identity, name.split(':')[0]!) }));
  return targets.length > 0 ? targets : [{ action, resource: every }];
}

/** The reading actions of the namespace policy. */
const READ_ACTIONS = ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath', 'ssm:GetParameterHistory'];

/**
 * The namespace policy of a function: read `/<api>/<function>/*`, `/<api>/common/*` and `/global/*`
 * (the paths themselves too, for GetParametersByPath), nothing else, no writes. Without an API name,
 * `/global/*` only. In any region of the account: the ARN is the only resource it names.
 */
export function namespacePolicy(accountId: string, api: string | undefined, functionName: string): Policy {
  const roots = [...(api === undefined ? [] : [`${api}/${functionName}`, `${api}/common`]), 'global'];
  const resources = roots.flatMap((root) => [`arn:aws:ssm:*:${accountId}:parameter/${root}`, `arn:aws:ssm:*:${accountId}:parameter/${root}/*`]);
  return parsePolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: READ_ACTIONS, Resource: resources }] }, 'the namespace policy');
}

/** Whether `policy` says anything about SSM: then it is the role's SSM policy, and no namespace policy is added. */
export function coversSsm(policy: Policy): boolean {
  return policy.statements.some((statement) => statement.actions.some((pattern) => READ_ACTIONS.some((action) => pattern.test(action)) || pattern.test('ssm:PutParameter')));
}

/** The operations that return values, decrypted when the request says `WithDecryption`. */
const DECRYPTING = new Set(['GetParameter', 'GetParameters', 'GetParameterHistory']);

/** The names whose SecureString values a request asks decrypted (GetParametersByPath's are checked by no one here). */
export function namesToDecrypt(operation: string, body: Buffer): string[] {
  if (!DECRYPTING.has(operation)) return [];
  const fields = jsonBodyFields(body);
  if (fields.WithDecryption !== true) return [];
  const names = Array.isArray(fields.Names) ? fields.Names : [fields.Name];
  return names.filter((name): name is string => typeof name === 'string').map((name) => name.split(':')[0]!);
}

/**
 * `kms:Decrypt` on a SecureString's key, as IAM would check it, when the principal's policy says anything
 * about `kms:Decrypt` (an Allow on some keys, a Deny): a policy silent about KMS decrypts what it may read,
 * since serverfull has no key policies. `keyId` is the parameter's `KeyId`: an alias, a key id or an ARN.
 */
export function decryptRefusal(principal: Principal, identity: ServiceIdentity, keyId: string | undefined): AwsError | undefined {
  if (keyId === undefined || !principal.policy.statements.some((statement) => statement.actions.some((pattern) => pattern.test('kms:Decrypt')))) return undefined;
  const resource = keyId.startsWith('arn:') ? keyId : `arn:aws:kms:${identity.region}:${identity.accountId}:${keyId.startsWith('alias/') ? keyId : `key/${keyId}`}`;
  return authorize(principal, { action: 'kms:Decrypt', resource });
}
