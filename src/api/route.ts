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

/** Ends a request: with the error to render (an `AwsError` for service errors), or with fields for its log line. */
export type RouteDone = (error: unknown, fields?: LogFields) => void;

/**
 * Handles one matched request and calls `done` exactly once. It may also throw synchronously.
 * Callback-based: promises cost extra on the hot path while AsyncLocalStorage is active.
 */
export type RouteHandler = (request: IncomingMessage, response: ServerResponse, context: RouteContext, done: RouteDone) => void;

/** One entry of the route table. */
export interface Route {
  readonly method: string;
  /** Anchored; capture groups become `params`. */
  readonly pattern: RegExp;
  readonly handle: RouteHandler;
}
