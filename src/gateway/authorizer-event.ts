/**
 * @module gateway/authorizer-event
 * Lambda `REQUEST` authorizers: the event API Gateway sends them, the identity-source check that
 * precedes it, and how their answer (a simple response or an IAM policy) is read.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
 */
import type { APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { executeApiArn } from '../registry/arns.js';
import { isObject } from '../values.js';
import type { ApiKind, AuthorizerDefinition } from './http-api.js';
import { httpApiRequestParts, parseQuery, restApiRequestParts, setOwn, type AuthorizerOutcome, type GatewayRequest, type MatchedRoute } from './proxy-event.js';

/** What an allowing authorizer hands the integration (defined with the events that carry it). */
export type { AuthorizerOutcome } from './proxy-event.js';

/** How an authorizer's answer is taken: go on with its outcome, refuse (403), or fail (500). */
export type AuthorizerDecision =
  | { readonly effect: 'allow'; readonly outcome: AuthorizerOutcome }
  /** `explicit`: a `Deny` statement (or `isAuthorized: false`) rather than no `Allow`; REST APIs word the two 403s differently. */
  | { readonly effect: 'deny'; readonly explicit: boolean }
  | { readonly effect: 'error' };

/**
 * `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}`: the `methodArn` (REST)
 * or `routeArn` (HTTP) of a request, with the path as requested rather than the route template.
 */
export function routeArn(identity: { readonly region: string; readonly accountId: string }, api: { readonly id: string; readonly stage: string }, method: string, path: string): string {
  return executeApiArn(identity, api.id, api.stage, method, path);
}

/** The same ARN from what an event is built of. */
function requestArn(request: GatewayRequest, route: MatchedRoute): string {
  return executeApiArn(route, route.apiId, route.stage, request.method, request.path);
}

/** The value of a request header, duplicates joined with `,`; undefined when absent. */
function headerValue(rawHeaders: readonly string[], lowerName: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) {
      value = value === undefined ? rawHeaders[i + 1]! : `${value},${rawHeaders[i + 1]!}`;
    }
  }
  return value;
}

// Identity-source selection expressions: HTTP APIs' `$request.header.X`, REST APIs' `method.request.header.X`.
const HEADER_SOURCES = ['$request.header.', 'method.request.header.', 'method.request.multivalueheader.'] as const;
const QUERY_SOURCES = ['$request.querystring.', 'method.request.querystring.', 'method.request.multivaluequerystring.'] as const;
const CONTEXT_SOURCES = ['$context.', 'context.'] as const;

function suffixAfter(source: string, prefixes: readonly string[]): string | undefined {
  for (const prefix of prefixes) if (source.startsWith(prefix)) return source.slice(prefix.length);
  return undefined;
}

/** Context variables an identity source may name; others count as present but empty. */
function contextValue(name: string, request: GatewayRequest, route: MatchedRoute | undefined): string {
  switch (name) {
    case 'routeKey': return route?.routeKey ?? '';
    case 'stage': return route?.stage ?? '';
    case 'apiId': return route?.apiId ?? '';
    case 'accountId': return route?.accountId ?? '';
    case 'requestId': return request.requestId;
    case 'httpMethod': return request.method;
    case 'domainName': return request.domainName;
    case 'identity.sourceIp': return request.sourceIp;
    default: return '';
  }
}

/**
 * The value one identity source selects; undefined when the request lacks it. Stage variables are
 * never present: none are declared, so an authorizer keyed on one refuses every request, as AWS would.
 */
function identityValue(source: string, request: GatewayRequest, route: MatchedRoute | undefined): string | undefined {
  const header = suffixAfter(source, HEADER_SOURCES);
  if (header !== undefined) return headerValue(request.rawHeaders, header.toLowerCase());
  const query = suffixAfter(source, QUERY_SOURCES);
  // Query names are case-sensitive, headers not (http-api-lambda-authorizer, "Identity sources").
  if (query !== undefined) {
    const values = parseQuery(request.rawQuery);
    return values !== undefined && Object.hasOwn(values, query) ? values[query]!.join(',') : undefined;
  }
  const context = suffixAfter(source, CONTEXT_SOURCES);
  if (context !== undefined) return contextValue(context, request, route);
  return undefined;
}

/** Whether the request carries every identity source: if not, API Gateway answers 401 without calling the authorizer. */
export function identitySourcesPresent(request: GatewayRequest, definition: AuthorizerDefinition): boolean {
  for (const source of definition.identitySources) {
    // Context variables exist for every request.
    if (suffixAfter(source, CONTEXT_SOURCES) !== undefined) continue;
    const value = identityValue(source, request, undefined);
    if (value === undefined || value.length === 0) return false;
  }
  return true;
}

/** The payload format 2.0 event an HTTP API sends a Lambda authorizer: the proxy event's fields without a body, plus `type`, `routeArn` and the identity-source values. */
export function httpApiAuthorizerEvent(request: GatewayRequest, route: MatchedRoute, definition: AuthorizerDefinition): APIGatewayRequestAuthorizerEventV2 {
  const event = httpApiRequestParts(request, route) as APIGatewayRequestAuthorizerEventV2;
  event.type = 'REQUEST';
  event.routeArn = requestArn(request, route);
  event.identitySource = definition.identitySources.map((source) => identityValue(source, request, route) ?? '');
  return event;
}

/** The `REQUEST` event a REST API sends a Lambda authorizer: the proxy event's fields without a body, with `{}` for empty maps. */
export function restApiAuthorizerEvent(request: GatewayRequest, route: MatchedRoute, _definition?: AuthorizerDefinition): APIGatewayRequestAuthorizerEvent {
  const event = restApiRequestParts(request, route, 'object') as APIGatewayRequestAuthorizerEvent;
  event.type = 'REQUEST';
  event.methodArn = requestArn(request, route);
  return event;
}

const ERROR: AuthorizerDecision = { effect: 'error' };
const EXPLICIT_DENY: AuthorizerDecision = { effect: 'deny', explicit: true };
const IMPLICIT_DENY: AuthorizerDecision = { effect: 'deny', explicit: false };
const EMPTY_CONTEXT: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * `context` as the integration will see it; undefined when malformed. REST APIs stringify numbers
 * and booleans and reject objects and arrays ("you cannot set a JSON object or array as a valid
 * value of any key in the context map"); HTTP APIs pass any JSON value through.
 */
function contextOf(value: unknown, kind: ApiKind): Readonly<Record<string, unknown>> | undefined {
  if (value === undefined || value === null) return EMPTY_CONTEXT;
  if (!isObject(value)) return undefined;
  if (kind === 'http') return value;
  const context: Record<string, unknown> = {};
  for (const key in value) {
    const item = value[key];
    if (typeof item === 'object' && item !== null) return undefined;
    // A REST context value is text (or null); JSON has no undefined to carry.
    setOwn(context, key, item === null ? null : String(item));
  }
  return context;
}

/**
 * Whether `text` matches an IAM pattern: `*` any run of characters (`/` included), `?` one.
 * Iterative with one backtrack point: linear for the patterns policies use, no regex to build.
 */
function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    const c = pattern.charCodeAt(p);
    if (p < pattern.length && (c === 63 /* ? */ || c === text.charCodeAt(t))) {
      p++;
      t++;
    } else if (p < pattern.length && c === 42 /* * */) {
      star = p++;
      mark = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 42) p++;
  return p === pattern.length;
}

/** Whether any of a statement's patterns (one string or an array) matches; undefined when malformed. */
function anyMatches(patterns: unknown, value: string, ignoreCase: boolean): boolean | undefined {
  const list = typeof patterns === 'string' ? [patterns] : patterns;
  if (!Array.isArray(list)) return undefined;
  let matched = false;
  for (const pattern of list) {
    if (typeof pattern !== 'string') return undefined;
    if (!matched) matched = wildcardMatch(ignoreCase ? pattern.toLowerCase() : pattern, value);
  }
  return matched;
}

/** `Action`/`NotAction` or `Resource`/`NotResource` of a statement against `value`; undefined when neither is there or malformed. */
function elementMatches(statement: Record<string, unknown>, key: 'Action' | 'Resource', value: string, ignoreCase: boolean): boolean | undefined {
  if (Object.hasOwn(statement, key)) return anyMatches(statement[key], value, ignoreCase);
  const negated = anyMatches(statement[`Not${key}`], value, ignoreCase);
  return negated === undefined ? undefined : !negated;
}

/** Actions compare case-insensitively in IAM; this is the one API Gateway checks. */
const INVOKE_ACTION = 'execute-api:invoke';

/**
 * IAM evaluation for one method: an explicit `Deny` wins, then any `Allow`, else an implicit deny.
 * Statements with a `Condition` are skipped: there is no request context to test it against.
 */
function policyDecision(policy: unknown, methodArn: string): 'allow' | AuthorizerDecision {
  if (!isObject(policy)) return ERROR;
  const statements = isObject(policy.Statement) ? [policy.Statement] : policy.Statement;
  if (!Array.isArray(statements)) return ERROR;
  let allowed = false;
  for (const statement of statements) {
    if (!isObject(statement)) return ERROR;
    const effect = statement.Effect;
    if (effect !== 'Allow' && effect !== 'Deny') return ERROR;
    const action = elementMatches(statement, 'Action', INVOKE_ACTION, true);
    const resource = elementMatches(statement, 'Resource', methodArn, false);
    if (action === undefined || resource === undefined) return ERROR;
    if (!action || !resource || statement.Condition !== undefined) continue;
    if (effect === 'Deny') return EXPLICIT_DENY;
    allowed = true;
  }
  return allowed ? 'allow' : IMPLICIT_DENY;
}

/**
 * Reads an authorizer function's result (`payload`, JSON text) for the request whose ARN is `methodArn`.
 * Simple responses (HTTP APIs with `EnableSimpleResponses`) need a boolean `isAuthorized`; otherwise
 * the result must carry a `principalId` and a `policyDocument` allowing `execute-api:Invoke` on the ARN.
 * Any other shape is an error, which API Gateway answers with a 500. `kind` decides how `context`
 * is passed on; by default format 1.0 authorizers are read as REST APIs read them.
 */
export function authorizerDecision(
  payload: string,
  definition: AuthorizerDefinition,
  methodArn: string,
  kind: ApiKind = definition.payloadFormat === '1.0' ? 'rest' : 'http',
): AuthorizerDecision {
  let result: unknown;
  try {
    result = JSON.parse(payload);
  } catch {
    return ERROR;
  }
  if (!isObject(result)) return ERROR;
  const context = contextOf(result.context, kind);
  if (context === undefined) return ERROR;
  if (definition.simpleResponses) {
    if (typeof result.isAuthorized !== 'boolean') return ERROR;
    return result.isAuthorized ? { effect: 'allow', outcome: { context } } : EXPLICIT_DENY;
  }
  const principalId = result.principalId;
  if (typeof principalId !== 'string') return ERROR;
  const decision = policyDecision(result.policyDocument, methodArn);
  return decision === 'allow' ? { effect: 'allow', outcome: { principalId, context } } : decision;
}
