/**
 * @module auth/credentials
 * Who owns an access key: a user of the keys file (long-term `AKIA...` keys), or a role
 * session minted by the `SessionIssuer` (`ASIA...` keys with a session token). Unknown keys
 * and bad tokens get one answer, as in AWS, so a caller learns nothing about which it was.
 */
import { AwsError, unrecognizedClient } from '../errors.js';
import type { KeysFile, KeysFileRole } from './keys-file.js';
import type { Policy } from './policy.js';
import { assumedRoleArn, userArn } from './principal.js';
import type { SessionIssuer } from './session-issuer.js';
import type { CredentialResolver } from './sigv4-verifier.js';
import { coversSsm, namespacePolicy } from './ssm-operations.js';

/** A resolver over the keys file (read through `keys()` so a reloaded file applies) and, if given, the session issuer. */
export function credentialResolver(keys: () => KeysFile, accountId: string, issuer?: SessionIssuer): CredentialResolver {
  const sessionPolicy = sessionPolicies(accountId);
  return (accessKeyId, sessionToken) => {
    if (accessKeyId.startsWith('ASIA')) {
      const lookup = issuer?.resolve(accessKeyId, sessionToken) ?? { kind: 'invalid' as const };
      if (lookup.kind === 'expired') return new AwsError('ExpiredTokenException', 'The security token included in the request is expired');
      if (lookup.kind === 'invalid') return unrecognizedClient();
      const { session } = lookup;
      // A role removed from the keys file takes its sessions with it.
      const role = keys().roles.get(session.role);
      if (!role) return unrecognizedClient();
      return {
        secretAccessKey: session.secretAccessKey,
        principal: {
          kind: 'assumed-role',
          name: role.name,
          sessionName: session.sessionName,
          accessKeyId,
          arn: assumedRoleArn(accountId, role.name, session.sessionName),
          policy: sessionPolicy(role, session.sessionName),
        },
      };
    }
    // Long-term keys have no session token: one sent with them is not theirs.
    const found = sessionToken === undefined ? keys().userByAccessKey(accessKeyId) : undefined;
    if (!found) return unrecognizedClient();
    return {
      secretAccessKey: found.secretAccessKey,
      principal: { kind: 'user', name: found.user.name, accessKeyId, arn: userArn(accountId, found.user.name), policy: found.user.policy },
    };
  };
}

/**
 * The policy of a role's session: the role's, plus the namespace policy of the session's function
 * (its name) when the role says nothing about SSM. Built once per role and function; a reloaded keys
 * file brings new role objects, so nothing stale is kept.
 */
function sessionPolicies(accountId: string): (role: KeysFileRole, sessionName: string) => Policy {
  const built = new WeakMap<KeysFileRole, Map<string, Policy>>();
  return (role, sessionName) => {
    if (coversSsm(role.policy)) return role.policy;
    let byFunction = built.get(role);
    if (byFunction === undefined) built.set(role, byFunction = new Map());
    let policy = byFunction.get(sessionName);
    if (policy === undefined) {
      const namespace = namespacePolicy(accountId, role.api, sessionName);
      policy = Object.freeze({ statements: Object.freeze([...role.policy.statements, ...namespace.statements]) });
      byFunction.set(sessionName, policy);
    }
    return policy;
  };
}
