/**
 * @module gateway/proxy-response
 * A Lambda proxy integration's result read back into an HTTP response, as HTTP APIs (format 2.0)
 * and REST APIs (format 1.0) read it, and the gateway's own error responses.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html#http-api-develop-integrations-lambda.response
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-output-format
 */
import { isConnectionHeader } from './connection-headers.js';
import { isObject } from '../values.js';
import type { ApiKind } from './http-api.js';
import type { GatewayErrorKind } from '../errors.js';

/** An HTTP response to write. */
export interface GatewayResponse {
  readonly statusCode: number;
  /** In order; a name may repeat (one `set-cookie` per cookie). */
  readonly headers: readonly [string, string][];
  /** Text is sent as UTF-8: kept a string, Node writes it with the head in one chunk; a decoded base64 body is bytes. */
  readonly body: Buffer | string;
}

/** The failures the gateway answers itself rather than the function (declared with the AWS error registry). */
export type { GatewayErrorKind };

/** What `fieldsOf` found: the headers so far, or that the payload is malformed. */
type Headers = [string, string][] | undefined;

const MALFORMED = undefined;

function parse(payload: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(payload) };
  } catch {
    return undefined;
  }
}

/**
 * An integer status code in 100..599. A string of three digits is accepted too: API Gateway's
 * JSON reader coerces `"200"` (Python handlers commonly return one) — observed, not documented.
 */
function statusCodeOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 100 && value <= 599 ? value : undefined;
  if (typeof value !== 'string' || value.length !== 3) return undefined;
  let code = 0;
  for (let i = 0; i < 3; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    code = code * 10 + digit;
  }
  return code >= 100 ? code : undefined;
}

/**
 * A header value as text. Numbers and booleans are stringified (the types allow them, and AWS
 * sends them as text); null means "no such header"; objects and arrays make the response malformed.
 */
function headerText(value: unknown): string | null | typeof MALFORMED {
  switch (typeof value) {
    case 'string': return value;
    case 'number':
    case 'boolean': return String(value);
    case 'undefined': return null;
    default: return value === null ? null : MALFORMED;
  }
}

/** Appends a `{ name: value }` map's headers, but for connection headers; undefined when one is not a scalar. */
function appendHeaders(out: [string, string][], map: unknown, skip?: (name: string, value: string) => boolean): Headers {
  if (map === undefined || map === null) return out;
  if (!isObject(map)) return MALFORMED;
  for (const name in map) {
    const text = headerText(map[name]);
    if (text === MALFORMED) return MALFORMED;
    if (text !== null && !isConnectionHeader(name) && !(skip?.(name, text) ?? false)) out.push([name, text]);
  }
  return out;
}

/**
 * The body: a string, or absent/null for none. A number or boolean is taken as its text (the
 * reader coerces scalars); an object or array is malformed — a common mistake AWS answers with an error.
 */
function bodyOf(value: unknown, base64: boolean): Buffer | string | undefined {
  switch (typeof value) {
    case 'string': return base64 ? Buffer.from(value, 'base64') : value;
    case 'number':
    case 'boolean': return String(value);
    case 'undefined': return '';
    default: return value === null ? '' : MALFORMED;
  }
}

/** `isBase64Encoded`: a boolean, or absent/null for false; anything else is malformed. */
function base64Flag(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  return value === undefined || value === null ? false : MALFORMED;
}

function hasHeader(headers: readonly [string, string][], lowerName: string): boolean {
  for (const [name] of headers) if (name.length === lowerName.length && name.toLowerCase() === lowerName) return true;
  return false;
}

/** Assembles the response, adding the default content type when the function set none. */
function finish(statusCode: number, headers: [string, string][], body: Buffer | string, defaultContentType: readonly [string, string]): GatewayResponse {
  if (!hasHeader(headers, 'content-type')) headers.push([defaultContentType[0], defaultContentType[1]]);
  return { statusCode, headers, body };
}

/**
 * HTTP APIs send `text/plain; charset=utf-8` when the function names no content type (observed:
 * https://aasisodiya.github.io/nodejs/nodejs-aws/nodejs-aws-apigw).
 */
const HTTP_API_DEFAULT_CONTENT_TYPE = ['content-type', 'text/plain; charset=utf-8'] as const;

/** REST APIs default to JSON, the media type their proxy integration assumes. */
const REST_API_DEFAULT_CONTENT_TYPE = ['Content-Type', 'application/json'] as const;

/**
 * The function's payload (JSON text) as an HTTP API (2.0) response; undefined when malformed (the gateway answers 500).
 *
 * - Valid JSON without a `statusCode` (an object without one, a string, a number, an array, null)
 *   is the documented shortcut: 200, `content-type: application/json`, and the payload itself as
 *   the body — so a returned string arrives JSON-quoted, exactly as the function serialised it.
 * - An object with `statusCode` is a structured response: `headers` map name → scalar (2.0 has no
 *   multi-value headers: several values are one comma-joined value), each `cookies` entry becomes
 *   a `set-cookie` header, `body` is base64-decoded when `isBase64Encoded`. Unknown keys are
 *   ignored, unlike REST APIs. Connection headers (`Content-Length`, `Transfer-Encoding`, ...)
 *   are dropped: the gateway frames the body itself.
 * - Text that is not JSON is malformed.
 */
export function httpApiResponse(payload: string): GatewayResponse | undefined {
  const parsed = parse(payload);
  if (parsed === undefined) return MALFORMED;
  const result = parsed.value;
  if (!isObject(result) || !Object.hasOwn(result, 'statusCode')) {
    return { statusCode: 200, headers: [['content-type', 'application/json']], body: payload };
  }
  const statusCode = statusCodeOf(result.statusCode);
  const base64 = base64Flag(result.isBase64Encoded);
  if (statusCode === undefined || base64 === undefined) return MALFORMED;
  const headers = appendHeaders([], result.headers);
  const body = bodyOf(result.body, base64);
  if (headers === MALFORMED || body === MALFORMED) return MALFORMED;
  const cookies = result.cookies;
  if (cookies !== undefined && cookies !== null) {
    if (!Array.isArray(cookies)) return MALFORMED;
    for (const cookie of cookies) {
      if (typeof cookie !== 'string') return MALFORMED;
      headers.push(['set-cookie', cookie]);
    }
  }
  return finish(statusCode, headers, body, HTTP_API_DEFAULT_CONTENT_TYPE);
}

/** The only keys a REST API accepts: anything else in the object is a "Malformed Lambda proxy response". */
const REST_RESPONSE_KEYS: ReadonlySet<string> = new Set(['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded']);

/** `multiValueHeaders`: name → array of scalars, in order, but for connection headers; undefined when malformed. */
function appendMultiValueHeaders(out: [string, string][], map: unknown): Headers {
  if (map === undefined || map === null) return out;
  if (!isObject(map)) return MALFORMED;
  for (const name in map) {
    const values = map[name];
    if (values === null || values === undefined) continue;
    if (!Array.isArray(values)) return MALFORMED;
    const dropped = isConnectionHeader(name);
    for (const value of values) {
      const text = headerText(value);
      if (text === MALFORMED) return MALFORMED;
      if (text !== null && !dropped) out.push([name, text]);
    }
  }
  return out;
}

/**
 * The same for REST APIs (1.0); undefined when malformed (the gateway answers 502).
 *
 * - The payload must be a JSON object with an integer `statusCode`, and no keys besides
 *   `statusCode`, `headers`, `multiValueHeaders`, `body` and `isBase64Encoded`.
 * - `headers` and `multiValueHeaders` are merged: both contribute, and a name/value pair present
 *   in both is sent once (AWS: "only the values from multiValueHeaders will appear"). Connection
 *   headers are dropped from both, as for HTTP APIs.
 * - `body` must be a string (or absent); an object body is malformed.
 * - `isBase64Encoded: true` bodies are decoded, as when the API lists the response's media type
 *   in `binaryMediaTypes` — the only setup in which AWS decodes them, and the one such functions are written for.
 */
export function restApiResponse(payload: string): GatewayResponse | undefined {
  const parsed = parse(payload);
  if (parsed === undefined || !isObject(parsed.value)) return MALFORMED;
  const result = parsed.value;
  for (const key in result) if (!REST_RESPONSE_KEYS.has(key)) return MALFORMED;
  const statusCode = statusCodeOf(result.statusCode);
  const base64 = base64Flag(result.isBase64Encoded);
  if (statusCode === undefined || base64 === undefined) return MALFORMED;
  const headers = appendMultiValueHeaders([], result.multiValueHeaders);
  if (headers === MALFORMED) return MALFORMED;
  const multiCount = headers.length;
  // Only a pair already sent from multiValueHeaders is skipped; names compare as HTTP does.
  const duplicate = multiCount === 0 ? undefined : (name: string, value: string): boolean => {
    const lower = name.toLowerCase();
    for (let i = 0; i < multiCount; i++) if (headers[i]![1] === value && headers[i]![0].toLowerCase() === lower) return true;
    return false;
  };
  const body = bodyOf(result.body, base64);
  if (appendHeaders(headers, result.headers, duplicate) === MALFORMED || body === MALFORMED) return MALFORMED;
  return finish(statusCode, headers, body, REST_API_DEFAULT_CONTENT_TYPE);
}

function errorResponse(statusCode: number, body: string, errorType?: string): GatewayResponse {
  const headers: [string, string][] = [['content-type', 'application/json']];
  // REST APIs name the failure in `x-amzn-ErrorType`; clients and SDKs read it.
  if (errorType !== undefined) headers.push(['x-amzn-ErrorType', errorType]);
  return Object.freeze({ statusCode, headers, body });
}

/**
 * The gateway's own answers, byte for byte as AWS words them. HTTP APIs: a function error or
 * malformed result is `{"message":"Internal Server Error"}` (http-api-troubleshooting-lambda) with
 * the 502 Lambda's guide gives for API Gateway (services-apigateway-errors), and a function past the
 * integration timeout a 504, as the issue asks (HTTP APIs are reported to answer 503 there). REST APIs: the default gateway
 * responses (supported-gateway-response-types), with their quirks kept: the spaces after the colon
 * in the 502 and 504 bodies, the capital `Message` of an authorizer's deny, and an unknown route
 * answered 403 "Missing Authentication Token" rather than 404.
 */
const ERRORS: Readonly<Record<ApiKind, Readonly<Record<GatewayErrorKind, GatewayResponse>>>> = {
  http: {
    notFound: errorResponse(404, '{"message":"Not Found"}'),
    integrationFailure: errorResponse(502, '{"message":"Internal Server Error"}'),
    timeout: errorResponse(504, '{"message":"Service Unavailable"}'),
    unauthorized: errorResponse(401, '{"message":"Unauthorized"}'),
    forbidden: errorResponse(403, '{"message":"Forbidden"}'),
    forbiddenImplicit: errorResponse(403, '{"message":"Forbidden"}'),
    throttled: errorResponse(429, '{"message":"Too Many Requests"}'),
    tooLarge: errorResponse(413, '{"message":"Request Entity Too Large"}'),
    authorizerFailure: errorResponse(500, '{"message":"Internal Server Error"}'),
  },
  rest: {
    notFound: errorResponse(403, '{"message":"Missing Authentication Token"}', 'MissingAuthenticationTokenException'),
    integrationFailure: errorResponse(502, '{"message": "Internal server error"}', 'InternalServerErrorException'),
    timeout: errorResponse(504, '{"message": "Endpoint request timed out"}'),
    unauthorized: errorResponse(401, '{"message":"Unauthorized"}', 'UnauthorizedException'),
    forbidden: errorResponse(403, '{"Message":"User is not authorized to access this resource with an explicit deny"}', 'AccessDeniedException'),
    forbiddenImplicit: errorResponse(403, '{"Message":"User is not authorized to access this resource"}', 'AccessDeniedException'),
    throttled: errorResponse(429, '{"message":"Too Many Requests"}', 'TooManyRequestsException'),
    tooLarge: errorResponse(413, '{"message":"Request Too Long"}', 'RequestTooLargeException'),
    authorizerFailure: errorResponse(500, '{"message": null}', 'AuthorizerConfigurationException'),
  },
};

/** The response API Gateway itself sends for `error` on an API of `kind` (shared: do not modify). */
export function gatewayError(kind: ApiKind, error: GatewayErrorKind): GatewayResponse {
  return ERRORS[kind][error];
}
