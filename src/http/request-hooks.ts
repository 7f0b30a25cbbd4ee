/**
 * @module http/request-hooks
 * The seam where cross-cutting features join every API request: authentication and authorization
 * (SigV4, IAM-style policies), browser protection (Origin, Host) and metrics. `serve()` owns one
 * `RequestHooks` and hands it to every server; features push their hooks into its lists. A list
 * left empty costs one length check per request.
 */
import type { AwsError } from '../errors.js';
import type { ApiRequest } from './api-request.js';

/**
 * A check on a request: `undefined` lets it through, an `AwsError` refuses it (rendered in the wire
 * shape of the API that was asked). Synchronous, so that a check costs no promise per request.
 */
export type RequestHook = (request: ApiRequest) => AwsError | undefined;

/**
 * A check once the body is read, which may answer later: SigV4 verification goes through
 * `@smithy/signature-v4`, whose signing is asynchronous. A hook that answers at once costs no promise.
 */
export type BodyHook = (request: ApiRequest) => AwsError | undefined | Promise<AwsError | undefined>;

/** What a finished request reports to `finished` hooks (metrics, access logs). */
export interface RequestOutcome {
  /** Which server answered: `lambda` (Invoke and management APIs) or `gateway`. */
  readonly api: string;
  readonly requestId: string;
  readonly method: string;
  /** The AWS operation or gateway route key; undefined when no route matched. */
  readonly operation: string | undefined;
  readonly status: number;
  /** From the request's arrival to its answer, in milliseconds. */
  readonly durationMs: number;
}

/** Told once per request after its answer is written; it cannot change the answer any more. */
export type FinishedHook = (outcome: RequestOutcome) => void;

/**
 * The hook points, in the order a request meets them:
 * 1. `beforeBody`: on the head alone, after routing, before the body is read. For checks that need
 *    no body (browser protection), so that a refused request is not read. Runs for unmatched
 *    requests too (`operation` undefined), since they must be refused alike.
 * 2. `beforeRoute`: once the body is read (`request.body`), before the route's handler. For SigV4,
 *    which hashes the body, and authorization, which needs the operation and its parameters.
 * 3. `finished`: after the answer, with its status and duration. For metrics.
 */
export class RequestHooks {
  /** Stage 1: checks on the head, before the body is read. */
  readonly beforeBody: RequestHook[] = [];
  /** Stage 2: checks with the body read, before the route's handler. */
  readonly beforeRoute: BodyHook[] = [];
  /** Stage 3: observers of every answered request. */
  readonly finished: FinishedHook[] = [];
}

/** Runs `hooks` in order; the first refusal wins and the rest do not run. */
export function runRequestHooks(hooks: readonly RequestHook[], request: ApiRequest): AwsError | undefined {
  for (let i = 0; i < hooks.length; i++) {
    const refusal = hooks[i]!(request);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}
