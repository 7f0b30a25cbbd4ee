/**
 * @module api/route
 * The shape of an API route: HTTP parsing lives in the server, API rules in handlers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogFields } from '../log.js';

/** What a route handler gets besides the raw request and response. */
export interface RouteContext {
  /** The id of this request: `x-amzn-RequestId`, and the invocation's `awsRequestId`. */
  readonly requestId: string;
  /** Decoded path parameters, in pattern order. */
  readonly params: readonly string[];
  readonly query: URLSearchParams;
}

/** Handles one matched request; may return fields for the request's log line. Throws `AwsError` for service errors. */
export type RouteHandler = (request: IncomingMessage, response: ServerResponse, context: RouteContext) => Promise<LogFields | void>;

/** One entry of the route table. */
export interface Route {
  readonly method: string;
  /** Anchored; capture groups become `params`. */
  readonly pattern: RegExp;
  readonly handle: RouteHandler;
}
