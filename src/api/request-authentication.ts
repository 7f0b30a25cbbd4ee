/**
 * @module api/request-authentication
 * SigV4 and IAM policies on every Lambda API request, in the request pipeline: what needs no body
 * (a signature at all, its date, a known key) before the body is read, so an unsigned 70 MB upload
 * is refused unread; the signature over the body and the caller's policy once it is read.
 */
import type { PendingAuth, RequestAuth } from '../auth/request-auth.js';
import { signedRequestOf } from '../auth/sigv4-verifier.js';
import { AwsError } from '../errors.js';
import type { ApiRequest } from '../http/api-request.js';
import type { RequestHooks } from '../http/request-hooks.js';

/** Operations anyone may call: a load balancer's health check carries no signature. */
const OPEN_OPERATIONS: ReadonlySet<string | undefined> = new Set(['Healthcheck']);

/**
 * Adds `auth`'s two checks to `hooks`. Operations for which `authenticatesItself` is true (the web
 * console's, which check a session of their own) are left to their routes.
 */
export function requireAuthentication(hooks: RequestHooks, auth: RequestAuth, authenticatesItself: (operation: string | undefined) => boolean = () => false): void {
  // The first half's result, until the body is read; a request is never seen twice.
  const pending = new WeakMap<ApiRequest, PendingAuth>();
  hooks.beforeBody.push((request) => {
    if (OPEN_OPERATIONS.has(request.operation) || authenticatesItself(request.operation)) return undefined;
    const begun = auth.begin(signedRequestOf(request));
    if (begun instanceof AwsError) return begun;
    pending.set(request, begun);
    return undefined;
  });
  hooks.beforeRoute.push(async (request) => {
    const begun = pending.get(request);
    if (begun === undefined) return undefined;
    pending.delete(request);
    const outcome = await begun.finish(request.body);
    if (outcome instanceof AwsError) return outcome;
    request.principalArn = outcome.arn;
    return undefined;
  });
}
