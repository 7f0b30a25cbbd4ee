/**
 * @module gateway/proxy-event
 * The events API Gateway sends a Lambda proxy integration: payload format 2.0 (HTTP APIs) and
 * 1.0 (REST APIs), built from one received request. Shapes follow AWS's documented examples:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
 * https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway.html (a captured REST event)
 */
import { isUtf8 } from 'node:buffer';
import type {
  APIGatewayEventIdentity,
  APIGatewayEventRequestContextV2,
  APIGatewayEventRequestContextWithAuthorizer,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
} from 'aws-lambda';
import { decodeUriComponentSafely } from '../values.js';

/** One HTTP request as the gateway received it. */
export interface GatewayRequest {
  /** Upper-case, as received. */
  readonly method: string;
  /**
   * The path inside the stage, percent-encoded as on the wire: without the `/{stage}` prefix a
   * named stage is addressed with, and without any base-path mapping prefix. Routes match it;
   * the HTTP API `rawPath` puts a named stage back in front, as AWS does.
   */
  readonly path: string;
  /** The text after `?`, without it; '' when there is none. */
  readonly rawQuery: string;
  /** Node's `IncomingMessage.rawHeaders`: name, value, name, value... (duplicates kept, case as sent). */
  readonly rawHeaders: readonly string[];
  /** The request's X-Ray trace header (`X-Amzn-Trace-Id` in `rawHeaders` too), for its invocations; a new trace when absent. */
  readonly traceHeader?: string;
  readonly body: Buffer;
  readonly sourceIp: string;
  /** `requestContext.requestId`, and `extendedRequestId` for REST APIs. */
  readonly requestId: string;
  readonly time: Date;
  /**
   * The host the client addressed (from `Host`): `requestContext.domainName`, whose first label is
   * `domainPrefix`. On AWS it never carries a port; whether to keep a local one is the server's call.
   */
  readonly domainName: string;
}

/** What a Lambda authorizer granted: passed on to the integration in `requestContext.authorizer`. */
export interface AuthorizerOutcome {
  /** From an IAM-policy response; simple responses have none. */
  readonly principalId?: string;
  /** As the integration will see it: REST APIs' values already stringified. */
  readonly context: Readonly<Record<string, unknown>>;
  /** Milliseconds the authorizer took: REST APIs report it as `authorizer.integrationLatency`. */
  readonly integrationLatency?: number;
}

/** The route a request matched, and what the gateway knows at that point. */
export interface MatchedRoute {
  readonly apiId: string;
  readonly stage: string;
  /** HTTP APIs: `GET /items/{id}` or `$default`. */
  readonly routeKey: string;
  /** `/items/{id}`, the REST `resource`; HTTP APIs' `$default` route has `$default`. */
  readonly resourcePath: string;
  /** Already percent-decoded. */
  readonly pathParameters?: Readonly<Record<string, string>>;
  readonly authorizer?: AuthorizerOutcome;
  readonly accountId: string;
  /** For the `arn:aws:execute-api:{region}:...` ARNs authorizers get. */
  readonly region: string;
}

/** A query string as name → values in order; undefined when it has no parameters. */
export type QueryValues = Record<string, string[]>;

/** The parts of a format 2.0 event an authorizer event shares (everything but the body). */
export type HttpApiRequestParts = Omit<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>;

/** The parts of a format 1.0 event a REST authorizer event shares. */
export interface RestApiRequestParts {
  resource: string;
  path: string;
  httpMethod: string;
  headers: Record<string, string> | null;
  multiValueHeaders: Record<string, string[]> | null;
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
  pathParameters: Record<string, string> | null;
  stageVariables: Record<string, string> | null;
  /** Without `authorizer`: only a proxy event behind an authorizer has one. */
  requestContext: Omit<APIGatewayEventRequestContextWithAuthorizer<unknown>, 'authorizer'> & { authorizer?: unknown };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/**
 * Media types HTTP APIs hand over as UTF-8 text; every other body (a missing content type and
 * `application/x-www-form-urlencoded` included) arrives base64-encoded. AWS does not document
 * the list: it was measured against real HTTP APIs (ministackorg/ministack#766).
 */
const TEXT_MEDIA_TYPES: ReadonlySet<string> = new Set(['application/json', 'application/xml', 'application/javascript']);

/** Assigns without letting a client-chosen `__proto__` name replace the object's prototype. */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/** `12/Mar/2020:19:03:58 +0000`: the CLF time both formats carry (`time`, `requestTime`). */
export function clfTime(date: Date): string {
  return `${pad2(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:`
    + `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} +0000`;
}

/** The first label of the host name: `abc` for `abc.execute-api.us-east-1.amazonaws.com`. */
function domainPrefix(domainName: string): string {
  let end = domainName.length;
  for (let i = 0; i < domainName.length; i++) {
    const c = domainName.charCodeAt(i);
    if (c === 46 /* . */ || c === 58 /* : */) { end = i; break; }
  }
  return domainName.slice(0, end);
}

/** Query components decode `+` as a space then `%XX`, as API Gateway does (aws/aws-cdk#19827 shows `-+createdAt` arriving as `- createdAt`). */
function decodeQueryComponent(text: string): string {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  // A malformed escape is passed on as sent rather than failing the whole request.
  return decodeUriComponentSafely(spaced) ?? spaced;
}

/** Splits `rawQuery` into decoded names and their values in order; undefined when empty. */
export function parseQuery(rawQuery: string): QueryValues | undefined {
  if (rawQuery.length === 0) return undefined;
  let result: QueryValues | undefined;
  let start = 0;
  while (start <= rawQuery.length) {
    let end = rawQuery.indexOf('&', start);
    if (end === -1) end = rawQuery.length;
    if (end > start) {
      const eq = rawQuery.indexOf('=', start);
      const hasValue = eq !== -1 && eq < end;
      const name = decodeQueryComponent(rawQuery.slice(start, hasValue ? eq : end));
      if (name.length > 0) {
        const value = hasValue ? decodeQueryComponent(rawQuery.slice(eq + 1, end)) : '';
        result ??= {};
        if (Object.hasOwn(result, name)) result[name]!.push(value);
        else setOwn(result, name, [value]);
      }
    }
    start = end + 1;
  }
  return result;
}

/** The 2.0 headers (lower-case names, duplicates joined with `,`) and the cookies taken out of them. */
function httpApiHeaders(rawHeaders: readonly string[]): { headers: Record<string, string>; cookies: string[] | undefined } {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (name === 'cookie') {
      // Format 2.0 moves cookies to their own field, one entry per cookie.
      cookies ??= [];
      for (const part of value.split(';')) {
        const cookie = part.trim();
        if (cookie.length > 0) cookies.push(cookie);
      }
    } else if (Object.hasOwn(headers, name)) {
      headers[name] += `,${value}`;
    } else {
      setOwn(headers, name, value);
    }
  }
  return { headers, cookies };
}

/** A HTTP API body: text for text media types holding valid UTF-8, base64 for anything else. */
function httpApiBody(body: Buffer, contentType: string | undefined): { body: string; isBase64Encoded: boolean } {
  if (contentType !== undefined) {
    const semi = contentType.indexOf(';');
    const mediaType = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
    // Text that is not valid UTF-8 could not survive a JSON string: base64 keeps every byte.
    if ((mediaType.startsWith('text/') || TEXT_MEDIA_TYPES.has(mediaType)) && isUtf8(body)) {
      return { body: body.toString('utf8'), isBase64Encoded: false };
    }
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

/** Joins each parameter's values with `,`: format 2.0 has no multi-value fields. */
function joinedQuery(query: QueryValues): Record<string, string> {
  const joined: Record<string, string> = {};
  for (const name in query) setOwn(joined, name, query[name]!.join(','));
  return joined;
}

function hasKeys(record: Readonly<Record<string, unknown>> | undefined): record is Readonly<Record<string, unknown>> {
  if (record === undefined) return false;
  for (const _ in record) return true;
  return false;
}

/** The `requestContext` of a format 2.0 event (no authorizer). */
function httpApiRequestContext(request: GatewayRequest, route: MatchedRoute, rawPath: string, userAgent: string): APIGatewayEventRequestContextV2 {
  return {
    accountId: route.accountId,
    apiId: route.apiId,
    domainName: request.domainName,
    domainPrefix: domainPrefix(request.domainName),
    http: { method: request.method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: request.sourceIp, userAgent },
    requestId: request.requestId,
    routeKey: route.routeKey,
    stage: route.stage,
    time: clfTime(request.time),
    timeEpoch: request.time.getTime(),
  };
}

/**
 * The fields a format 2.0 proxy event and a 2.0 authorizer event share. Optional fields are left
 * out when empty, as AWS leaves them out; `stageVariables` is always absent (none are declared).
 */
export function httpApiRequestParts(request: GatewayRequest, route: MatchedRoute): HttpApiRequestParts {
  const { headers, cookies } = httpApiHeaders(request.rawHeaders);
  // A named stage is part of the URL the client called, and AWS keeps it in rawPath.
  const rawPath = route.stage === '$default' ? request.path : `/${route.stage}${request.path}`;
  const parts: HttpApiRequestParts = {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath,
    rawQueryString: request.rawQuery,
    headers,
    requestContext: httpApiRequestContext(request, route, rawPath, headers['user-agent'] ?? ''),
  };
  if (cookies !== undefined) parts.cookies = cookies;
  const query = parseQuery(request.rawQuery);
  if (query !== undefined) parts.queryStringParameters = joinedQuery(query);
  if (hasKeys(route.pathParameters)) parts.pathParameters = { ...route.pathParameters };
  return parts;
}

/** The payload format 2.0 event an HTTP API sends its Lambda integration. */
export function httpApiEvent(request: GatewayRequest, route: MatchedRoute): APIGatewayProxyEventV2 {
  const event = httpApiRequestParts(request, route) as APIGatewayProxyEventV2;
  event.isBase64Encoded = false;
  if (route.authorizer !== undefined) {
    // Lambda authorizers' context reaches the integration under `authorizer.lambda`.
    (event.requestContext as APIGatewayEventRequestContextV2 & { authorizer?: unknown }).authorizer = { lambda: { ...route.authorizer.context } };
  }
  if (request.body.length > 0) {
    const { body, isBase64Encoded } = httpApiBody(request.body, event.headers['content-type']);
    event.body = body;
    event.isBase64Encoded = isBase64Encoded;
  }
  return event;
}

/** 1.0 headers: `headers` keeps each name's last value, `multiValueHeaders` all of them; names as sent. */
function restApiHeaders(rawHeaders: readonly string[]): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]>; userAgent: string | null } {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  let userAgent: string | null = null;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    setOwn(headers, name, value);
    if (Object.hasOwn(multiValueHeaders, name)) multiValueHeaders[name]!.push(value);
    else setOwn(multiValueHeaders, name, [value]);
    if (name.length === 10 && name.toLowerCase() === 'user-agent') userAgent = value;
  }
  return { headers, multiValueHeaders, userAgent };
}

const resourceIds = new Map<string, string>();

/**
 * A stand-in for the id API Gateway gives each REST resource (`2gxmpl`): six base-36 characters,
 * the same for every request to one resource so that handlers may key on it.
 */
function resourceId(apiId: string, resourcePath: string): string {
  const key = `${apiId} ${resourcePath}`;
  let id = resourceIds.get(key);
  if (id === undefined) {
    let hash = 0x811c9dc5; // FNV-1a: stable across runs, unlike anything random.
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    id = (hash >>> 0).toString(36).padStart(6, '0').slice(-6);
    resourceIds.set(key, id);
  }
  return id;
}

/** A map with nothing in it, as the event kind spells one: a fresh `{}` each, so handlers may fill one safely. */
function emptyMap<T>(emptyAs: 'null' | 'object'): Record<string, T> | null {
  return emptyAs === 'null' ? null : {};
}

/**
 * The fields a format 1.0 proxy event and a REST `REQUEST` authorizer event share. `emptyAs`:
 * proxy events carry `null` for empty maps, authorizer events `{}` (see `@types/aws-lambda`).
 */
export function restApiRequestParts(request: GatewayRequest, route: MatchedRoute, emptyAs: 'null' | 'object'): RestApiRequestParts {
  const { headers, multiValueHeaders, userAgent } = restApiHeaders(request.rawHeaders);
  const hasHeaders = request.rawHeaders.length > 0;
  const query = parseQuery(request.rawQuery);
  let single: Record<string, string> | undefined;
  if (query !== undefined) {
    single = {};
    // The last value wins, as in AWS's example (`multivalueName=you&multivalueName=me` → `me`).
    for (const name in query) setOwn(single, name, query[name]![query[name]!.length - 1]!);
  }
  const identity = {
    cognitoIdentityPoolId: null,
    accountId: null,
    cognitoIdentityId: null,
    caller: null,
    sourceIp: request.sourceIp,
    principalOrgId: null,
    accessKey: null,
    cognitoAuthenticationType: null,
    cognitoAuthenticationProvider: null,
    userArn: null,
    userAgent,
    user: null,
  };
  return {
    resource: route.resourcePath,
    path: request.path,
    httpMethod: request.method,
    headers: hasHeaders ? headers : emptyMap(emptyAs),
    multiValueHeaders: hasHeaders ? multiValueHeaders : emptyMap(emptyAs),
    queryStringParameters: single ?? emptyMap(emptyAs),
    multiValueQueryStringParameters: query ?? emptyMap(emptyAs),
    pathParameters: hasKeys(route.pathParameters) ? { ...route.pathParameters } : emptyMap(emptyAs),
    stageVariables: emptyMap(emptyAs),
    requestContext: {
      resourceId: resourceId(route.apiId, route.resourcePath),
      resourcePath: route.resourcePath,
      httpMethod: request.method,
      extendedRequestId: request.requestId,
      requestTime: clfTime(request.time),
      path: `/${route.stage}${request.path}`,
      accountId: route.accountId,
      protocol: 'HTTP/1.1',
      stage: route.stage,
      domainPrefix: domainPrefix(request.domainName),
      requestTimeEpoch: request.time.getTime(),
      requestId: request.requestId,
      // AWS sends these identity fields only (apiKey/apiKeyId appear with API keys, clientCert with mTLS).
      identity: identity as unknown as APIGatewayEventIdentity,
      domainName: request.domainName,
      apiId: route.apiId,
    },
  };
}

/** The payload format 1.0 event a REST API sends its Lambda proxy integration. */
export function restApiEvent(request: GatewayRequest, route: MatchedRoute): APIGatewayProxyEvent {
  const parts = restApiRequestParts(request, route, 'null');
  // Without an authorizer AWS sends no `authorizer` key at all.
  if (route.authorizer !== undefined) {
    parts.requestContext.authorizer = {
      principalId: route.authorizer.principalId,
      integrationLatency: route.authorizer.integrationLatency ?? 0,
      ...route.authorizer.context,
    };
  }
  const event = parts as APIGatewayProxyEvent;
  // Without `binaryMediaTypes` a REST API hands every body over as UTF-8 text.
  event.body = request.body.length > 0 ? request.body.toString('utf8') : null;
  event.isBase64Encoded = false;
  return event;
}
