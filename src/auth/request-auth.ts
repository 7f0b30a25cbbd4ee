/**
 * @module auth/request-auth
 * The one entry point of authentication and authorization for a request pipeline: given a
 * request whose body has been read, who signed it, and whether they may do what it asks.
 *
 * Wiring (in the pipeline, before the route runs):
 *   const auth = createRequestAuth({ keys: () => keysFile, identity: settings });
 *   const pending = auth.begin(signedRequestOf(request));     // headers only: before reading the body
 *   if (pending instanceof AwsError) → render it, do not read the body;
 *   ...read the body...
 *   const outcome = await pending.finish(body);               // signature over the body, then the policy
 *   if (outcome instanceof AwsError) → render it as any AwsError; else outcome is the Principal.
 * `check(signedRequestOf(request, body))` does both at once when the body is already read.
 */
import { AwsError } from '../errors.js';
import type { ServiceIdentity } from '../registry/arns.js';
import { authorize } from './authorize.js';
import { credentialResolver } from './credentials.js';
import type { KeysFile } from './keys-file.js';
import { authorizationTarget, recognizeOperation } from './lambda-operations.js';
import { LOGS_SERVICE, logsAuthorizationTarget, logsOperationOf } from './logs-operations.js';
import type { Principal } from './principal.js';
import { isSnsRequest, SNS_SERVICE, snsAuthorizationTarget } from './sns-operations.js';
import type { SessionIssuer } from './session-issuer.js';
import { decryptRefusal, namesToDecrypt, SSM_SERVICE, ssmAuthorizationTargets, ssmOperationOf } from './ssm-operations.js';
import { completeSignature, LAMBDA_SERVICE, prepareSignature, type SignedRequest } from './sigv4-verifier.js';

/** What request authentication needs. */
export interface RequestAuthOptions {
  /** The current keys file; a function so a reloaded file applies to the next request. */
  readonly keys: () => KeysFile;
  /** The region and account the server answers for: ARNs of names, principals' ARNs. */
  readonly identity: ServiceIdentity;
  /** The issuer of function roles' temporary credentials, if the server hands any out. */
  readonly issuer?: SessionIssuer;
  /** The `KeyId` of a SecureString parameter, for `kms:Decrypt`; undefined for any other name. */
  readonly parameterKeyId?: (name: string) => string | undefined;
  /** The clock, in milliseconds; for tests. */
  readonly now?: () => number;
}

/** The second half of a request's check, once its body is read. */
export interface PendingAuth {
  /** The principal when the signature covers this body and the policy allows the operation; else AWS's error. */
  finish(body: Buffer): Promise<Principal | AwsError>;
}

/** Authentication and authorization of requests, over one keys file. */
export interface RequestAuth {
  /** The checks that need no body (signature present and whole, date, known key): an error, or what remains to do. */
  begin(request: Omit<SignedRequest, 'body'>): PendingAuth | AwsError;
  /** `begin` and `finish` at once, for a request whose body is already read. */
  check(request: SignedRequest): Promise<Principal | AwsError>;
}

/** A `RequestAuth` over `options`. */
export function createRequestAuth(options: RequestAuthOptions): RequestAuth {
  const resolve = credentialResolver(options.keys, options.identity.accountId, options.issuer);
  const now = options.now ?? Date.now;
  const begin = (request: Omit<SignedRequest, 'body'>): PendingAuth | AwsError => {
    // A CloudWatch Logs or SSM request (AWS JSON 1.1, named by X-Amz-Target) is signed for `logs` or `ssm`; an SNS
    // request (AWS Query, a form body without X-Amz-Target) for `sns`; any other for `lambda`.
    const rootPost = request.method === 'POST' && request.path === '/';
    const logsOperation = rootPost ? logsOperationOf(request.rawHeaders) : undefined;
    const ssmOperation = rootPost && logsOperation === undefined ? ssmOperationOf(request.rawHeaders) : undefined;
    const sns = rootPost && logsOperation === undefined && ssmOperation === undefined && isSnsRequest(request.rawHeaders);
    const service = logsOperation !== undefined ? LOGS_SERVICE : ssmOperation !== undefined ? SSM_SERVICE : sns ? SNS_SERVICE : LAMBDA_SERVICE;
    const prepared = prepareSignature(request, resolve, now(), service);
    if (prepared instanceof AwsError) return prepared;
    return {
      async finish(body) {
        const principal = await completeSignature(prepared, body);
        if (principal instanceof AwsError) return principal;
        if (logsOperation !== undefined) return authorize(principal, logsAuthorizationTarget(logsOperation, body, options.identity)) ?? principal;
        if (ssmOperation !== undefined) {
          for (const target of ssmAuthorizationTargets(ssmOperation, body, options.identity)) {
            const refusal = authorize(principal, target);
            if (refusal !== undefined) return refusal;
          }
          const keyIdOf = options.parameterKeyId;
          for (const name of keyIdOf === undefined ? [] : namesToDecrypt(ssmOperation, body)) {
            const refusal = decryptRefusal(principal, options.identity, keyIdOf!(name));
            if (refusal !== undefined) return refusal;
          }
          return principal;
        }
        if (sns) return authorize(principal, snsAuthorizationTarget(body, options.identity)) ?? principal;
        const call = recognizeOperation(request.method, request.path, new URLSearchParams(request.query), body);
        // Not a Lambda operation: the router answers it (404 UnknownOperationException), to signed callers only.
        if (call === undefined) return principal;
        return authorize(principal, authorizationTarget(call, options.identity)) ?? principal;
      },
    };
  };
  return {
    begin,
    check(request) {
      const pending = begin(request);
      return pending instanceof AwsError ? Promise.resolve(pending) : pending.finish(request.body);
    },
  };
}
