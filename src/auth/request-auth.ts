/**
 * @module auth/request-auth
 * The one entry point of authentication and authorization for a request pipeline: given a
 * request whose body has been read, who signed it, and whether they may do what it asks.
 *
 * Wiring (in the pipeline, before the route runs):
 *   const auth = createRequestAuth({ keys: () => keysFile, identity: settings });
 *   const outcome = await auth.check(signedRequestOf(request, body));
 *   if (outcome instanceof AwsError) → render it as any AwsError; else outcome is the Principal.
 */
import { AwsError } from '../errors.js';
import type { ServiceIdentity } from '../registry/arns.js';
import { authorize } from './authorize.js';
import { credentialResolver } from './credentials.js';
import type { KeysFile } from './keys-file.js';
import { authorizationTarget, recognizeOperation } from './lambda-operations.js';
import type { Principal } from './principal.js';
import type { SessionIssuer } from './session-issuer.js';
import { verifySignature, type SignedRequest } from './sigv4-verifier.js';

/** What request authentication needs. */
export interface RequestAuthOptions {
  /** The current keys file; a function so a reloaded file applies to the next request. */
  readonly keys: () => KeysFile;
  /** The region and account the server answers for: ARNs of names, principals' ARNs. */
  readonly identity: ServiceIdentity;
  /** The issuer of function roles' temporary credentials, if the server hands any out. */
  readonly issuer?: SessionIssuer;
  /** The clock, in milliseconds; for tests. */
  readonly now?: () => number;
}

/** Authentication and authorization of requests, over one keys file. */
export interface RequestAuth {
  /** The principal when the request is signed by a known key and its policy allows the operation; else AWS's error. */
  check(request: SignedRequest): Promise<Principal | AwsError>;
  /** Only who signed the request, for routes that are not Lambda operations. */
  authenticate(request: SignedRequest): Promise<Principal | AwsError>;
}

/** A `RequestAuth` over `options`. */
export function createRequestAuth(options: RequestAuthOptions): RequestAuth {
  const resolve = credentialResolver(options.keys, options.identity.accountId, options.issuer);
  const now = options.now ?? Date.now;
  const authenticate = (request: SignedRequest) => verifySignature(request, resolve, now());
  return {
    authenticate,
    async check(request) {
      const principal = await authenticate(request);
      if (principal instanceof AwsError) return principal;
      const call = recognizeOperation(request.method, request.path, new URLSearchParams(request.query), request.body);
      // Not a Lambda operation: the router answers it (404 UnknownOperationException), signed callers only.
      if (call === undefined) return principal;
      return authorize(principal, authorizationTarget(call, options.identity)) ?? principal;
    },
  };
}
