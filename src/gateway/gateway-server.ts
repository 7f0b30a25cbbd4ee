/**
 * @module gateway/gateway-server
 * API Gateway in front of the functions, on its own port: matches the route, answers CORS
 * preflights, runs the Lambda authorizer, builds the proxy event (payload 1.0 or 2.0),
 * invokes the function through the same invoker as the Invoke API, and maps the result
 * (or the failure: 502, 504, ...) to an HTTP response as API Gateway does.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { functionArn, type ServiceIdentity } from '../registry/arns.js';
import { BodyTooLargeError, readBody } from '../request-body.js';
import { AwsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { FunctionRegistry } from '../registry/function-definition.js';
import type { InvokeOutput, Invoker } from '../runtime/invoker.js';
import {
  authorizerDecision, httpApiAuthorizerEvent, identitySourcesPresent, restApiAuthorizerEvent, routeArn, type AuthorizerOutcome,
} from './authorizer-event.js';
import { preflightResponse, withCorsHeaders } from './cors.js';
import type { ApiDefinition, AuthorizerDefinition, HttpRoute } from './http-api.js';
import { httpApiEvent, restApiEvent, type GatewayRequest, type MatchedRoute } from './proxy-event.js';
import { gatewayError, httpApiResponse, restApiResponse, type GatewayResponse } from './proxy-response.js';
import type { RouteTable } from './route-table.js';

/** API Gateway's request payload limit: 10 MB. */
const MAX_BODY = 10_485_760;

/** What the gateway needs from the server. */
export interface GatewayOptions {
  readonly table: RouteTable;
  readonly registry: FunctionRegistry;
  readonly invoker: Invoker;
  readonly identity: ServiceIdentity;
  /** First path segment → qualifier: `/v1/...` invokes the route's function at `basePaths.v1`. */
  readonly basePaths: Readonly<Record<string, string>>;
  readonly logger: Logger;
}

/** An HTTP server that is the API Gateway of `options.table`. */
export function createGatewayServer(options: GatewayOptions): Server {
  const { table, logger } = options;
  return createServer((request, response) => {
    const started = performance.now();
    const requestId = randomUUID();
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    let path = queryStart === -1 ? url : url.slice(0, queryStart);
    const rawQuery = queryStart === -1 ? '' : url.slice(queryStart + 1);
    const method = request.method ?? 'GET';

    let qualifier: string | undefined;
    const second = path.indexOf('/', 1);
    const first = second === -1 ? path.slice(1) : path.slice(1, second);
    if (first !== '' && Object.hasOwn(options.basePaths, first)) {
      qualifier = options.basePaths[first];
      path = second === -1 ? '/' : path.slice(second);
    }

    let answered = false;
    const finish = (answer: GatewayResponse, api: ApiDefinition | undefined, fields: Record<string, unknown> = {}) => {
      if (answered) return;
      answered = true;
      const cors = api?.kind === 'http' ? api.cors : undefined;
      const headers = cors ? withCorsHeaders(answer.headers, cors, request.headers.origin) : answer.headers;
      const flat: string[] = [];
      for (const [name, value] of headers) flat.push(name, value);
      flat.push('apigw-requestid', requestId);
      // The gateway frames the body itself (the function's framing headers were dropped); a 204 must
      // not carry a Content-Length and a 304's would describe another response (RFC 9110 §8.6).
      if (hasBody(answer.statusCode)) flat.push('content-length', String(answer.body.length));
      response.writeHead(answer.statusCode, flat).end(answer.body);
      if (logger.enabled('info')) {
        logger.log('info', 'gateway request', {
          method, path: url, status: answer.statusCode, durationMs: Math.round((performance.now() - started) * 100) / 100, requestId, ...fields,
        });
      }
    };

    // Nothing a request brings may take the server down: any failure is this request's 502.
    const fail = (error: unknown) => {
      logger.log('error', `gateway failure: ${(error as Error)?.stack ?? String(error)}`, { requestId });
      if (answered || response.headersSent) response.destroy();
      else finish(gatewayError(table.allApis()[0]?.kind ?? 'http', 'integrationFailure'), undefined);
    };
    const guard = <A extends unknown[]>(step: (...args: A) => void) => (...args: A) => {
      try {
        step(...args);
      } catch (error) {
        fail(error);
      }
    };
    guard(handle)();

    function handle(): void {
      if (method === 'OPTIONS' && request.headers.origin !== undefined && request.headers['access-control-request-method'] !== undefined) {
        const api = table.matchesPath(path) ?? table.allApis().find((a) => a.kind === 'http' && a.cors);
        if (api?.cors) {
          request.resume();
          return finish(preflightResponse(api.cors, request.headers), undefined, { preflight: true });
        }
      }

      const match = table.match(method, path);
      if (!match) {
        request.resume();
        const api = table.matchesPath(path) ?? table.allApis()[0];
        return finish(gatewayError(api?.kind ?? 'http', 'notFound'), api);
      }
      const { route, api } = match;
      readBody(request, MAX_BODY, request.headers['content-length'], guard((bodyError: Error | undefined, body?: Buffer) => {
        if (bodyError instanceof BodyTooLargeError) {
          // The body may not have been read to its end (past the discard bound): this connection carries no next request.
          response.shouldKeepAlive = false;
          return finish(gatewayError(api.kind, 'tooLarge'), api);
        }
        if (bodyError) {
          response.destroy();
          return;
        }
        const gatewayRequest: GatewayRequest = {
          method,
          path,
          rawQuery,
          rawHeaders: request.rawHeaders,
          body: body!,
          sourceIp: sourceIp(request),
          requestId,
          time: new Date(),
          domainName: hostName(request),
        };
        const matched: MatchedRoute = {
          apiId: api.id,
          stage: api.stage,
          routeKey: route.path === '$default' ? '$default' : `${route.method} ${route.path}`,
          resourcePath: route.path,
          pathParameters: match.pathParameters,
          accountId: options.identity.accountId,
          region: options.identity.region,
        };
        const fields = { function: route.functionName };
        authorize(options, gatewayRequest, matched, api, route, guard((denied: GatewayResponse | undefined, outcome?: AuthorizerOutcome) => {
          if (denied) return finish(denied, api, fields);
          // The route's payload format decides the event and response shapes; an HTTP API route may use 1.0.
          const v2 = route.payloadFormat === '2.0';
          const authorized = { ...matched, authorizer: outcome };
          const event = v2 ? httpApiEvent(gatewayRequest, authorized) : restApiEvent(gatewayRequest, authorized);
          // HTTP APIs mark their 1.0 events with the version; REST APIs send none.
          if (!v2 && api.kind === 'http') (event as { version?: string }).version = '1.0';
          invokeFunction(options, route, qualifier ?? route.qualifier, requestId, event, route.timeoutMs, guard((failure: Failure | undefined, output?: InvokeOutput) => {
            if (failure) return finish(gatewayError(api.kind, failure), api, fields);
            const mapped = output!.functionError ? undefined : (v2 ? httpApiResponse : restApiResponse)(output!.payload);
            finish(mapped ?? gatewayError(api.kind, 'integrationFailure'), api, { ...fields, functionError: output!.functionError });
          }));
        }));
      }));
    }
  });
}

type Failure = 'integrationFailure' | 'timeout' | 'throttled' | 'unauthorized' | 'forbidden';

/** Invokes `functionName` with `event`; answers `timeout` after `timeoutMs` while the invocation runs on, as API Gateway does. */
function invokeFunction(
  options: GatewayOptions,
  route: HttpRoute,
  qualifier: string | undefined,
  requestId: string,
  event: unknown,
  timeoutMs: number,
  done: (failure: Failure | undefined, output?: InvokeOutput) => void,
): void {
  const definition = options.registry.resolve(route.functionName, qualifier);
  if (!definition) {
    options.logger.log('error', `gateway route ${route.method} ${route.path}: function ${route.functionName}${qualifier ? `:${qualifier}` : ''} not found`, { requestId });
    return done('integrationFailure');
  }
  let settled = false;
  const timer = setTimeout(() => {
    settled = true;
    done('timeout');
  }, timeoutMs);
  try {
    options.invoker.invoke({
      definition,
      requestId,
      payload: JSON.stringify(event),
      event,
      invokedFunctionArn: functionArn(options.identity, definition.name, qualifier),
      tail: false,
    }, (output) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done(undefined, output);
    });
  } catch (error) {
    clearTimeout(timer);
    settled = true;
    done(error instanceof AwsError && error.type === 'TooManyRequestsException' ? 'throttled' : 'integrationFailure');
  }
}

/** Runs the route's Lambda authorizer, if any: calls back with the response to send instead (401/403/500), or with its context. */
function authorize(
  options: GatewayOptions,
  request: GatewayRequest,
  route: MatchedRoute,
  api: ApiDefinition,
  httpRoute: HttpRoute,
  done: (denied: GatewayResponse | undefined, outcome?: AuthorizerOutcome) => void,
): void {
  const name = httpRoute.authorizer ?? api.defaultAuthorizer;
  if (name === undefined || name === 'NONE') return done(undefined);
  const definition: AuthorizerDefinition | undefined = api.authorizers[name];
  if (!definition) return done(gatewayError(api.kind, 'integrationFailure'));
  if (!identitySourcesPresent(request, definition)) return done(gatewayError(api.kind, 'unauthorized'));
  const arn = routeArn(options.identity, api, request.method, request.path);
  const event = api.kind === 'http' ? httpApiAuthorizerEvent(request, route, definition) : restApiAuthorizerEvent(request, route, definition);
  const authorizerRoute: HttpRoute = { ...httpRoute, functionName: definition.functionName };
  invokeFunction(options, authorizerRoute, undefined, request.requestId, event, httpRoute.timeoutMs, (failure, output) => {
    if (failure) return done(gatewayError(api.kind, 'authorizerFailure'));
    // An authorizer that throws `Error('Unauthorized')` asks for a 401, as API Gateway honours it.
    if (output!.functionError) return done(gatewayError(api.kind, /"errorMessage":"Unauthorized"/.test(output!.payload) ? 'unauthorized' : 'authorizerFailure'));
    const decision = authorizerDecision(output!.payload, definition, arn, api.kind);
    if (decision.effect === 'allow') return done(undefined, decision.outcome);
    done(gatewayError(api.kind, decision.effect === 'error' ? 'authorizerFailure' : decision.explicit ? 'forbidden' : 'forbiddenImplicit'));
  });
}

/** False for the statuses whose responses never have a body: 1xx, 204 and 304. */
function hasBody(statusCode: number): boolean {
  return statusCode >= 200 && statusCode !== 204 && statusCode !== 304;
}

function sourceIp(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function hostName(request: IncomingMessage): string {
  const host = request.headers.host ?? 'localhost';
  const colon = host.lastIndexOf(':');
  return colon > 0 && !host.endsWith(']') ? host.slice(0, colon) : host;
}
