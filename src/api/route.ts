/**
 * @module api/route
 * The shape of a Lambda API route: the pipeline (`http/request-pipeline.ts`) does the HTTP part,
 * routes the API rules.
 */
import type { ServerResponse } from 'node:http';
import type { AwsError } from '../errors.js';
import type { ApiRequest } from '../http/api-request.js';
import type { LogFields } from '../log.js';
import type { FinishRequest } from '../http/request-pipeline.js';

/** A request matched to a Lambda API route. */
export type RouteRequest = ApiRequest<Route>;

/**
 * Answers one matched request, its body already in `request.body`, and calls `finish` exactly once.
 * It may also throw synchronously. Callback-based: promises cost extra on the hot path while
 * AsyncLocalStorage is active.
 */
export type RouteHandler = (request: RouteRequest, response: ServerResponse, finish: FinishRequest) => void;

/** One entry of the route table. */
export interface Route {
  readonly method: string;
  /** Anchored; capture groups become `params`. */
  readonly pattern: RegExp;
  /**
   * For routes that share a method and path (`POST /`: the AWS JSON 1.1 APIs and SNS's AWS Query): whether this one
   * takes the request, from its head; the next route that matches is tried otherwise.
   */
  claims?(request: RouteRequest): boolean;
  /** The AWS operation name: in 413 messages, for authorization's action and for metrics. */
  readonly operation: string;
  /**
   * For APIs that name the operation in a header rather than the path (AWS JSON 1.1's `X-Amz-Target`):
   * the request's operation, or the error to answer. `operation` then names the API in logs.
   */
  operationOf?(request: RouteRequest): string | AwsError;
  /** Writes an error in this route's wire shape; default: the Lambda APIs' REST-JSON shape. */
  renderError?(request: RouteRequest, response: ServerResponse, error: AwsError): void;
  /**
   * The largest body the operation accepts, from the head alone (Invoke's depends on the
   * invocation type), or `NO_BODY`. It may keep what it read in `request.routeState`.
   */
  bodyLimit(request: RouteRequest): number;
  readonly handle: RouteHandler;
  /** What the log line of a request abandoned mid-body says it was for (no handler ran to say it). */
  abandoned(request: RouteRequest): LogFields;
}
