/**
 * @module gateway/gateway-server
 * API Gateway in front of the functions, on its own port: matches the route, answers CORS
 * preflights, runs the Lambda authorizer, builds the proxy event (payload 1.0 or 2.0),
 * invokes the function through the same invoker as the Invoke API, and maps the result
 * (or the failure: 502, 504, ...) to an HTTP response as API Gateway does. Every request carries
 * an X-Ray trace header, the caller's `X-Amzn-Trace-Id` when valid, into its event's headers and
 * its invocations (the authorizer's included), as API Gateway does.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { functionArn, type ServiceIdentity } from '../registry/arns.js';
import { AwsError } from '../errors.js';
import { NO_BODY, type ApiRequest } from '../http/api-request.js';
import { RequestHooks } from '../http/request-hooks.js';
import { createPipelineServer, type PipelineApi } from '../http/request-pipeline.js';
import type { ServerLimits } from '../http/server-limits.js';
import type { Logger } from '../log.js';
import type { FunctionRegistry } from '../registry/function-definition.js';
import { INIT_LIMIT_MS } from '../registry/function-limits.js';
import type { InvokeOutput, Invoker } from '../runtime/invoker.js';
import { traceHeaderFrom, traceIdOf } from '../handler/trace-header.js';
import {
  authorizerDecision, httpApiAuthorizerEvent, identitySourcesPresent, restApiAuthorizerEvent, routeArn, type AuthorizerOutcome,
} from './authorizer-event.js';
import { preflightResponse, withCorsHeaders } from './cors.js';
import type { ApiDefinition, AuthorizerDefinition, HttpRoute } from './http-api.js';
import { httpApiEvent, restApiEvent, type GatewayRequest, type MatchedRoute } from './proxy-event.js';
import { gatewayError, httpApiResponse, restApiResponse, type GatewayResponse } from './proxy-response.js';
import { endInTurn } from '../http/response-batch.js';
import { normaliseRequestPath } from './request-path.js';
import type { RouteMatch, RouteTable } from './route-table.js';

/** API Gateway's request payload limit: 10 MB. */
const MAX_BODY = 10_485_760;

/** What the gateway needs from the server. */
export interface GatewayOptions {
  /** Read on every request: hot reload may replace it. */
  readonly table: RouteTable;
  readonly registry: FunctionRegistry;
  readonly invoker: Invoker;
  readonly identity: ServiceIdentity;
  /** First path segment → qualifier: `/v1/...` invokes the route's function at `basePaths.v1`. */
  readonly basePaths: Readonly<Record<string, string>>;
  readonly logger: Logger;
  /** The pipeline's hook points, shared with the Lambda APIs. */
  readonly hooks?: RequestHooks;
  /** Connections, head timeout, large bodies; none by default. */
  readonly limits?: ServerLimits;
}

/** What a gateway request was matched to. */
interface GatewayTarget {
  /** The API that answers, even when no route matched: its kind decides the error shapes, its CORS the headers. */
  readonly api: ApiDefinition | undefined;
  /** Undefined for a CORS preflight and for no match. */
  readonly match: RouteMatch | undefined;
  /** The path after a base path (`/v1`) was taken off. */
  readonly path: string;
  readonly qualifier: string | undefined;
}

type GatewayRequestIn = ApiRequest<GatewayTarget>;

/** An HTTP server that is the API Gateway of `options.table`. */
export function createGatewayServer(options: GatewayOptions): Server {
  return createPipelineServer(gatewayApi(options), options.hooks ?? new RequestHooks(), options.logger, options.limits);
}

/** The gateway as a `PipelineApi`: its route table, proxy integration and API Gateway's error answers. */
function gatewayApi(options: GatewayOptions): PipelineApi<GatewayTarget> {
  /** Writes a gateway answer with the API's CORS headers, the request id and the gateway's own framing. */
  const send = (request: GatewayRequestIn, response: ServerResponse, answer: GatewayResponse, withCors = true) => {
    const api = withCors ? request.target?.api : undefined;
    const cors = api?.kind === 'http' ? api.cors : undefined;
    const headers = cors ? withCorsHeaders(answer.headers, cors, request.headers.origin) : answer.headers;
    const flat: string[] = [];
    for (const [name, value] of headers) flat.push(name, value);
    flat.push('apigw-requestid', request.requestId);
    // The gateway frames the body itself (the function's framing headers were dropped); a 204 must
    // not carry a Content-Length and a 304's would describe another response (RFC 9110 §8.6).
    if (hasBody(answer.statusCode)) flat.push('content-length', String(typeof answer.body === 'string' ? Buffer.byteLength(answer.body) : answer.body.length));
    endInTurn(response.writeHead(answer.statusCode, flat), answer.body);
  };

  return {
    name: 'gateway',
    logMessage: 'gateway request',
    failureMessage: 'gateway failure',
    logsQuery: true,
    match(request) {
      // Read once: a request is routed by one table, whatever a reload does meanwhile.
      const { table } = options;
      const method = request.method ?? 'GET';
      // Once, before anything reads it: routing, base paths and the event all see the resolved path.
      const normalised = normaliseRequestPath(request.path);
      if (normalised === undefined) {
        request.target = { api: table.allApis()[0]!, match: undefined, path: request.path, qualifier: undefined };
        return new AwsError('UnknownOperationException', 'Not Found');
      }
      request.path = normalised;
      let path = normalised;
      let qualifier: string | undefined;
      const second = path.indexOf('/', 1);
      const first = second === -1 ? path.slice(1) : path.slice(1, second);
      if (first !== '' && Object.hasOwn(options.basePaths, first)) {
        qualifier = options.basePaths[first];
        path = second === -1 ? '/' : path.slice(second);
      }
      if (method === 'OPTIONS' && request.headers.origin !== undefined && request.headers['access-control-request-method'] !== undefined) {
        const api = table.matchesPath(path) ?? table.allApis().find((a) => a.kind === 'http' && a.cors);
        if (api?.cors) {
          request.target = { api, match: undefined, path, qualifier };
          request.operation = 'preflight';
          request.bodyLimit = NO_BODY;
          return undefined;
        }
      }
      const match = table.match(method, path);
      if (!match) {
        request.target = { api: table.matchesPath(path) ?? table.allApis()[0], match: undefined, path, qualifier };
        return new AwsError('UnknownOperationException', 'Not Found');
      }
      request.target = { api: match.api, match, path, qualifier };
      request.operation = match.route.path === '$default' ? '$default' : `${match.route.method} ${match.route.path}`;
      request.bodyLimit = MAX_BODY;
      return undefined;
    },
    handle(request, response, finish) {
      const target = request.target!;
      if (target.match === undefined) {
        // A preflight answer carries its own CORS headers.
        send(request, response, preflightResponse(target.api!.cors!, request.headers), false);
        return finish(request, response, undefined, PREFLIGHT);
      }
      // Nothing a request brings may take the server down: any failure is this request's 502.
      const guard = <A extends unknown[]>(step: (...args: A) => void) => (...args: A) => {
        try {
          step(...args);
        } catch (error) {
          finish(request, response, error);
        }
      };
      const { route, api } = target.match;
      const head = readHead(request.rawHeaders);
      const traceHeader = traceHeaderFrom(head.trace);
      // The caller's X-Amzn-Trace-Id is replaced, never passed on: the event carries the checked one.
      head.headers.push('X-Amzn-Trace-Id', traceHeader);
      const gatewayRequest: GatewayRequest = {
        method: request.method ?? 'GET',
        path: target.path,
        rawQuery: request.rawQuery,
        rawHeaders: head.headers,
        traceHeader,
        body: request.body,
        sourceIp: sourceIp(request),
        requestId: request.requestId,
        time: new Date(),
        domainName: hostName(head.host),
      };
      const matched: MatchedRoute = {
        apiId: api.id,
        stage: api.stage,
        routeKey: request.operation!,
        resourcePath: route.path,
        pathParameters: target.match.pathParameters,
        accountId: options.identity.accountId,
        region: options.identity.region,
      };
      const fields = { function: route.functionName, traceId: traceIdOf(traceHeader) };
      authorize(options, gatewayRequest, matched, api, route, guard((denied: GatewayResponse | undefined, outcome?: AuthorizerOutcome) => {
        if (denied) {
          send(request, response, denied);
          return finish(request, response, undefined, fields);
        }
        // The route's payload format decides the event and response shapes; an HTTP API route may use 1.0.
        const v2 = route.payloadFormat === '2.0';
        const authorized = { ...matched, authorizer: outcome };
        const event = v2 ? httpApiEvent(gatewayRequest, authorized) : restApiEvent(gatewayRequest, authorized);
        // HTTP APIs mark their 1.0 events with the version; REST APIs send none.
        if (!v2 && api.kind === 'http') (event as { version?: string }).version = '1.0';
        invokeFunction(options, route, target.qualifier ?? route.qualifier, gatewayRequest, event, route.timeoutMs, guard((failure: Failure | undefined, output?: InvokeOutput) => {
          if (request.answered) return;
          if (failure) {
            send(request, response, gatewayError(api.kind, failure));
            return finish(request, response, undefined, fields);
          }
          const mapped = output!.functionError ? undefined : (v2 ? httpApiResponse : restApiResponse)(output!.payload);
          send(request, response, mapped ?? gatewayError(api.kind, 'integrationFailure'));
          finish(request, response, undefined, { ...fields, functionError: output!.functionError });
        }));
      }));
    },
    clientAborted(request) {
      return request.target?.match ? { function: request.target.match.route.functionName } : {};
    },
    renderError(request, response, error) {
      const api = request.target?.api;
      // The body may not have been read to its end (past the discard bound): this connection carries no next request.
      if (error.status === 413) response.shouldKeepAlive = false;
      send(request, response, gatewayError(api?.kind ?? options.table.allApis()[0]?.kind ?? 'http', error.gatewayKind));
    },
  };
}

/** The log fields of a preflight answered by the gateway itself. */
const PREFLIGHT = Object.freeze({ preflight: true });

type Failure = 'integrationFailure' | 'timeout' | 'throttled' | 'unauthorized' | 'forbidden';

/** Invokes `functionName` with `event`; answers `timeout` after `timeoutMs` while the invocation runs on, as API Gateway does. */
function invokeFunction(
  options: GatewayOptions,
  route: HttpRoute,
  qualifier: string | undefined,
  request: Pick<GatewayRequest, 'requestId' | 'traceHeader'>,
  event: unknown,
  timeoutMs: number,
  done: (failure: Failure | undefined, output?: InvokeOutput) => void,
): void {
  const { requestId, traceHeader } = request;
  const definition = options.registry.resolve(route.functionName, qualifier);
  if (!definition) {
    options.logger.log('error', `gateway route ${route.method} ${route.path}: function ${route.functionName}${qualifier ? `:${qualifier}` : ''} not found`, { requestId });
    return done('integrationFailure');
  }
  let settled = false;
  // A function that ends (as a function error) before the gateway's timeout even after the longest cold start needs no
  // gateway timer: its init may take INIT_LIMIT_MS before its own timeout starts.
  const timer = INIT_LIMIT_MS + definition.timeout * 1000 < timeoutMs ? undefined : setTimeout(() => {
    settled = true;
    done('timeout');
  }, timeoutMs);
  try {
    options.invoker.invoke({
      definition,
      requestId,
      // No JSON text: the invoker makes it only for environments that need it (not inline ones).
      event,
      invokedFunctionArn: functionArn(options.identity, definition.name, qualifier),
      tail: false,
      traceHeader,
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
  invokeFunction(options, authorizerRoute, undefined, request, event, httpRoute.timeoutMs, (failure, output) => {
    if (failure) return done(gatewayError(api.kind, 'authorizerFailure'));
    // An authorizer that throws `Error('Unauthorized')` asks for a 401, as API Gateway honours it.
    if (output!.functionError) return done(gatewayError(api.kind, /"errorMessage":"Unauthorized"/.test(output!.payload) ? 'unauthorized' : 'authorizerFailure'));
    const decision = authorizerDecision(output!.payload, definition, arn, api.kind);
    if (decision.effect === 'allow') return done(undefined, decision.outcome);
    done(gatewayError(api.kind, decision.effect === 'error' ? 'authorizerFailure' : decision.explicit ? 'forbidden' : 'forbiddenImplicit'));
  });
}

/** What the gateway reads of a request's head. */
interface RequestHead {
  /** The headers as sent, but for `X-Amzn-Trace-Id`. */
  readonly headers: string[];
  /** `X-Amzn-Trace-Id`, repeated ones joined as Node joins them. */
  readonly trace: string | undefined;
  /** The first `Host`, as Node keeps it. */
  readonly host: string | undefined;
}

/** One pass over `rawHeaders`: cheaper than having Node build `request.headers` for two values. */
function readHead(rawHeaders: readonly string[]): RequestHead {
  const headers: string[] = [];
  let trace: string | undefined;
  let host: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    if (name.length === 15 && name.toLowerCase() === 'x-amzn-trace-id') {
      trace = trace === undefined ? value : `${trace}, ${value}`;
      continue;
    }
    if (name.length === 4 && host === undefined && name.toLowerCase() === 'host') host = value;
    headers.push(name, value);
  }
  return { headers, trace, host };
}

/** False for the statuses whose responses never have a body: 1xx, 204 and 304. */
function hasBody(statusCode: number): boolean {
  return statusCode >= 200 && statusCode !== 204 && statusCode !== 304;
}

function sourceIp(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function hostName(header: string | undefined): string {
  const host = header ?? 'localhost';
  const colon = host.lastIndexOf(':');
  return colon > 0 && !host.endsWith(']') ? host.slice(0, colon) : host;
}
