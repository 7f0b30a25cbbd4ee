/**
 * @module auth/credentials
 * Who owns an access key: a user of the keys file (long-term `AKIA...` keys), or a role
 * session minted by the `SessionIssuer` (`ASIA...` keys with a session token). Unknown keys
 * and bad tokens get one answer, as in AWS, so a caller learns nothing about which it was.
 */
import { AwsError, unrecognizedClient } from '../errors.js';
import type { KeysFile } from './keys-file.js';
import { assumedRoleArn, userArn } from './principal.js';
import type { SessionIssuer } from './session-issuer.js';
import type { CredentialResolver } from './sigv4-verifier.js';

/** A resolver over the keys file (read through `keys()` so a reloaded file applies) and, if given, the session issuer. */
export function credentialResolver(keys: () => KeysFile, accountId: string, issuer?: SessionIssuer): CredentialResolver {
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
          policy: role.policy,
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
