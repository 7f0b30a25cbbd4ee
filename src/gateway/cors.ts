/**
 * @module gateway/cors
 * CORS as an HTTP API applies it: the gateway answers preflight `OPTIONS` requests itself,
 * and adds the CORS headers to the function's responses (replacing any the function set).
 * REST APIs get the preflight answer only; their functions return their own headers.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CorsConfiguration } from './http-api.js';
import type { GatewayResponse } from './proxy-response.js';

const NO_BODY = Buffer.alloc(0);

/** The origin to echo in `Access-Control-Allow-Origin`, or undefined when `origin` is not allowed. */
function allowedOrigin(cors: CorsConfiguration, origin: string | undefined): string | undefined {
  if (origin === undefined) return undefined;
  if (cors.allowOrigins.includes(origin)) return origin;
  // With credentials a wildcard may not be sent: the origin itself is echoed.
  if (cors.allowOrigins.includes('*')) return cors.allowCredentials ? origin : '*';
  return undefined;
}

/** The answer to a preflight request: 204 with the allowed origin, methods and headers. */
export function preflightResponse(cors: CorsConfiguration, headers: IncomingHttpHeaders): GatewayResponse {
  const origin = allowedOrigin(cors, headers.origin);
  const requested = headers['access-control-request-method']?.toUpperCase() ?? '';
  const answer: [string, string][] = [];
  if (origin !== undefined && (cors.allowMethods.includes('*') || cors.allowMethods.includes(requested))) {
    answer.push(['access-control-allow-origin', origin]);
    answer.push(['access-control-allow-methods', cors.allowMethods.includes('*') ? requested : cors.allowMethods.join(',')]);
    const requestedHeaders = headers['access-control-request-headers'];
    const allowHeaders = cors.allowHeaders.includes('*') ? requestedHeaders : cors.allowHeaders.join(',');
    if (allowHeaders) answer.push(['access-control-allow-headers', allowHeaders]);
    if (cors.allowCredentials) answer.push(['access-control-allow-credentials', 'true']);
    if (cors.maxAge !== undefined) answer.push(['access-control-max-age', String(cors.maxAge)]);
    if (origin !== '*') answer.push(['vary', 'Origin']);
  }
  return { statusCode: 204, headers: answer, body: NO_BODY };
}

/** `headers` with the CORS headers for `origin` in place of any the function set. */
export function withCorsHeaders(headers: readonly [string, string][], cors: CorsConfiguration, origin: string | undefined): readonly [string, string][] {
  const allowed = allowedOrigin(cors, origin);
  if (allowed === undefined) return headers;
  const result = headers.filter(([name]) => !name.toLowerCase().startsWith('access-control-'));
  result.push(['access-control-allow-origin', allowed]);
  if (cors.allowCredentials) result.push(['access-control-allow-credentials', 'true']);
  if (cors.exposeHeaders.length > 0) result.push(['access-control-expose-headers', cors.exposeHeaders.join(',')]);
  if (allowed !== '*') result.push(['vary', 'Origin']);
  return result;
}
