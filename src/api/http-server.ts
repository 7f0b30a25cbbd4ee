/**
 * @module api/http-server
 * The `node:http` glue: matches the route table, gives each request its id, renders
 * every `AwsError` the one way AWS does (status, `x-amzn-ErrorType`, JSON body) and
 * writes one log line per request. No framework in between.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AwsError } from '../errors.js';
import type { Logger } from '../log.js';
import { decodeUriComponentSafely } from '../values.js';
import type { Route, RouteDone } from './route.js';

const NO_QUERY = new URLSearchParams();

/** An HTTP server dispatching to `routes`. */
export function createApiServer(routes: readonly Route[], logger: Logger): Server {
  const dispatch = (request: IncomingMessage, response: ServerResponse) => {
    const started = performance.now();
    const requestId = randomUUID();
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    let ended = false;
    const done: RouteDone = (error, fields) => {
      if (ended) return;
      ended = true;
      if (error !== undefined) sendError(response, error, requestId, logger);
      if (logger.enabled('info')) {
        logger.log('info', 'request', {
          method: request.method,
          path,
          status: response.statusCode,
          durationMs: Math.round((performance.now() - started) * 100) / 100,
          requestId,
          ...fields,
        });
      }
    };
    try {
      const [route, match] = findRoute(routes, request.method ?? 'GET', path);
      const params: string[] = [];
      for (let i = 1; i < match.length; i++) params.push(decodePathParameter(match[i]!));
      const query = queryStart === -1 ? NO_QUERY : new URLSearchParams(url.slice(queryStart + 1));
      route.handle(request, response, { requestId, params, query }, done);
    } catch (error) {
      done(error);
    }
  };
  return createServer(dispatch);
}

function findRoute(routes: readonly Route[], method: string, path: string): [Route, RegExpExecArray] {
  for (const route of routes) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (match) return [route, match];
  }
  throw new AwsError('UnknownOperationException', 'Unknown operation');
}

function decodePathParameter(value: string): string {
  const decoded = decodeUriComponentSafely(value);
  if (decoded === undefined) throw new AwsError('ValidationException', `1 validation error detected: Value '${value}' is not a valid URI component`);
  return decoded;
}

/** Writes an error response; unexpected errors become a logged 500 `ServiceException`. */
function sendError(response: ServerResponse, error: unknown, requestId: string, logger: Logger): void {
  if (!(error instanceof AwsError)) {
    logger.log('error', `unexpected error: ${(error as Error)?.stack ?? String(error)}`, { requestId });
    error = new AwsError('ServiceException', 'An internal error occurred.');
  }
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const awsError = error as AwsError;
  const body = awsError.toBody();
  response.writeHead(awsError.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
    'x-amzn-ErrorType': awsError.type,
    ...awsError.headers,
    // An oversized body may still be arriving; do not keep reading it on this connection.
    ...(awsError.status === 413 ? { Connection: 'close' } : {}),
  });
  response.end(body);
}

/** `GET /healthcheck`: 200 while the server runs. */
export const healthcheckRoute: Route = {
  method: 'GET',
  pattern: /^\/healthcheck\/?$/,
  handle(_request, response, _context, done) {
    response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
    done(undefined);
  },
};
