/**
 * @module api/http-server
 * The Lambda APIs (Invoke and management) as a `PipelineApi`: matches the route table and renders
 * errors as AWS JSON. Request ids, bodies, hooks and log lines are the pipeline's.
 */
import type { Server } from 'node:http';
import { AwsError } from '../errors.js';
import { NO_BODY } from '../http/api-request.js';
import { writeAwsJsonError } from '../http/aws-json-error.js';
import { RequestHooks } from '../http/request-hooks.js';
import { createPipelineServer, type PipelineApi } from '../http/request-pipeline.js';
import { UNBOUNDED, type ServerLimits } from '../http/server-limits.js';
import type { Logger } from '../log.js';
import { decodeUriComponentSafely } from '../values.js';
import type { Route, RouteRequest } from './route.js';

/** An HTTP server dispatching to `routes` through the request pipeline, with `hooks`. */
export function createApiServer(routes: readonly Route[], logger: Logger, hooks: RequestHooks = new RequestHooks(), limits: ServerLimits = UNBOUNDED): Server {
  return createPipelineServer(lambdaApi(routes), hooks, logger, limits);
}

/** The Lambda APIs over `routes`, for the pipeline. */
export function lambdaApi(routes: readonly Route[]): PipelineApi<Route> {
  return {
    name: 'lambda',
    logMessage: 'request',
    failureMessage: 'unexpected error',
    logsQuery: false,
    match(request) {
      const method = request.method ?? 'GET';
      for (const route of routes) {
        if (route.method !== method) continue;
        const match = route.pattern.exec(request.path);
        if (match && (route.accepts === undefined || route.accepts(request))) return accept(request, route, match);
      }
      return new AwsError('UnknownOperationException', 'Unknown operation');
    },
    handle(request, response, finish) {
      request.target!.handle(request, response, finish);
    },
    clientAborted(request) {
      return request.target!.abandoned(request);
    },
    renderError(request, response, error) {
      const render = request.target?.renderError;
      if (render !== undefined) render(request, response, error);
      else writeAwsJsonError(response, request.requestId, error);
    },
  };
}

function accept(request: RouteRequest, route: Route, match: RegExpExecArray): AwsError | undefined {
  request.target = route;
  request.operation = route.operation;
  if (route.operationOf !== undefined) {
    const operation = route.operationOf(request);
    if (operation instanceof AwsError) return operation;
    request.operation = operation;
  }
  if (match.length > 1) {
    const params: string[] = [];
    for (let i = 1; i < match.length; i++) {
      const decoded = decodeUriComponentSafely(match[i]!);
      if (decoded === undefined) return new AwsError('ValidationException', `1 validation error detected: Value '${match[i]}' is not a valid URI component`);
      params.push(decoded);
    }
    request.params = params;
  }
  if (request.rawQuery !== '') request.query = new URLSearchParams(request.rawQuery);
  request.bodyLimit = route.bodyLimit(request);
  return undefined;
}

/** `GET /healthcheck`: 200 while the server runs. */
export const healthcheckRoute: Route = {
  method: 'GET',
  pattern: /^\/healthcheck\/?$/,
  operation: 'Healthcheck',
  bodyLimit: () => NO_BODY,
  abandoned: () => ({}),
  handle(request, response, finish) {
    response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
    finish(request, response, undefined);
  },
};
