/**
 * @module http/api-request
 * The request as the pipeline carries it: Node's `IncomingMessage` with what the pipeline learns
 * about it kept as fields. Node builds it (`createServer({ IncomingMessage: ApiRequest })`), so the
 * per-request state costs no context object and no closure on the hot path.
 */
import type { ServerResponse } from 'node:http';
import { IncomingMessage } from './node-http.js';

/** `bodyLimit` of a request whose body is not read: it is drained, never kept. */
export const NO_BODY = -1;

const EMPTY_BODY = Buffer.alloc(0);
const NO_PARAMS: readonly string[] = Object.freeze([]);
/** Shared by every request without a query: routes only read the query, never write it. */
const NO_QUERY = new URLSearchParams();

/** Where the body reader hands a request back; an interface so that the reader need not import the pipeline. */
export interface BodyReceiver {
  bodyRead(request: ApiRequest, response: ServerResponse, error: Error | undefined): void;
}

/**
 * One API request. `T` is what the API matched it to (a Lambda API route, a gateway route); hooks
 * read `operation` and `params` to decide, without knowing which API they run in.
 */
export class ApiRequest<T = unknown> extends IncomingMessage {
  /** `x-amzn-RequestId` on the Lambda APIs, `apigw-requestid` on the gateway; the invocation's `awsRequestId`. */
  requestId = '';
  /** `performance.now()` when the pipeline received the request: the start of its duration. */
  started = 0;
  /** The URL's path, without the query. */
  path = '/';
  /** The URL's query without its `?`; empty when there is none. */
  rawQuery = '';
  /** The query, parsed only by APIs that read it. */
  query: URLSearchParams = NO_QUERY;
  /** The AWS operation (`InvokeFunction`) or gateway route key (`POST /items`); undefined when nothing matched. */
  operation: string | undefined = undefined;
  /** Decoded path parameters, in the route pattern's order. */
  params: readonly string[] = NO_PARAMS;
  /** What the API matched the request to. */
  target: T | undefined = undefined;
  /** What the route read from the head for its handler (the Invoke headers): the head is scanned once. */
  routeState: unknown = undefined;
  /** Largest body the route accepts, in bytes, or `NO_BODY`. */
  bodyLimit = NO_BODY;
  /** The whole body, read once by the pipeline before any hook or handler sees it. */
  body: Buffer = EMPTY_BODY;
  /** The ARN of who signed the request, once authentication has checked it; undefined without authentication. */
  principalArn: string | undefined = undefined;
  /** Set once the pipeline has answered: a second answer (a late callback) is ignored. */
  answered = false;
  /** Body reading state, kept here so that the data listeners can be shared functions. */
  bodyReceiver: BodyReceiver | undefined = undefined;
  bodyResponse: ServerResponse | undefined = undefined;
  bodySize = 0;
  bodyChunks: Buffer[] | undefined = undefined;
}
