/**
 * @module template/sam-apis
 * SAM's `HttpApi` and `Api` (REST) events and resources, explicit or implicit, as the gateway's
 * APIs and routes. Authorization the gateway cannot enforce (JWT, Cognito, IAM, TOKEN) is never
 * dropped silently: the routes that depend on it are not served, with a warning.
 */
import type { ApiDefinition, ApiKind, AuthorizerDefinition, CorsConfiguration, GatewayDeclaration, HttpRoute, PayloadFormat } from '../gateway/http-api.js';
import { check } from '../config/config-error.js';
import { isObject } from '../values.js';
import { intrinsicName, type TemplateScope } from './intrinsics.js';
import { mergeGlobals, PropertyReader, withoutUndefined } from './properties.js';

/** The API SAM creates for `HttpApi` events without `ApiId`. */
export const IMPLICIT_HTTP_API = 'ServerlessHttpApi';
/** The API SAM creates for `Api` events without `RestApiId`. */
export const IMPLICIT_REST_API = 'ServerlessRestApi';
/** Resource type of each API kind. */
export const API_TYPES: Readonly<Record<ApiKind, string>> = { http: 'AWS::Serverless::HttpApi', rest: 'AWS::Serverless::Api' };

/** A route as a function's event declares it, before its API is known. */
export interface DeclaredRoute extends HttpRoute {
  readonly kind: ApiKind;
  /** `AWS::Serverless::Function Items: Events.Get`, for messages. */
  readonly label: string;
}

/** The function an event's route invokes. */
export interface RouteTarget {
  readonly functionName: string;
  readonly qualifier?: string;
}

/** An API resource of the template, with its raw (unresolved, not yet merged with Globals) properties. */
export interface ApiResource {
  readonly id: string;
  readonly kind: ApiKind;
  readonly properties: unknown;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'];
/** API Gateway's integration timeout limits: 30 s for HTTP APIs, 29 s for REST APIs. */
const MAX_TIMEOUT_MS: Readonly<Record<ApiKind, number>> = { http: 30_000, rest: 29_000 };
const IDENTITY_PREFIXES: Readonly<Record<ApiKind, Readonly<Record<string, string>>>> = {
  http: { Headers: '$request.header.', QueryStrings: '$request.querystring.', Context: '$context.', StageVariables: '$stageVariables.' },
  rest: { Headers: 'method.request.header.', QueryStrings: 'method.request.querystring.', Context: 'context.', StageVariables: 'stageVariables.' },
};
const ALLOW_ALL: CorsConfiguration = { allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: ['*'], exposeHeaders: [], allowCredentials: false };

/** The routes of a function's `HttpApi` and `Api` events; other event types are warned about. */
export function readEvents(scope: TemplateScope, label: string, events: unknown, target: RouteTarget): DeclaredRoute[] {
  if (events === undefined) return [];
  const routes: DeclaredRoute[] = [];
  for (const [id, event] of Object.entries(check.object(events, `${scope.source}: ${label}: Events`))) {
    if (!isObject(event) || typeof event.Type !== 'string') throw scope.error(label, `Events.${id} must be a map with a Type`);
    const properties = new PropertyReader(scope, label, check.object(event.Properties ?? {}, `${scope.source}: ${label}: Events.${id}.Properties`), `Events.${id}.`);
    if (event.Type === 'HttpApi') routes.push(readRoute(properties, 'http', target, `${label}: Events.${id}`));
    else if (event.Type === 'Api') routes.push(readRoute(properties, 'rest', target, `${label}: Events.${id}`));
    // Subscriptions: read with the function (`sam-template`).
    else if (event.Type === 'SNS') continue;
    else scope.warn(label, `event ${id} of type ${event.Type} not supported, ignored`);
  }
  return routes;
}

function readRoute(event: PropertyReader, kind: ApiKind, target: RouteTarget, label: string): DeclaredRoute {
  const apiKey = kind === 'http' ? 'ApiId' : 'RestApiId';
  event.ignoreUnknown(['Path', 'Method', apiKey, 'TimeoutInMillis', 'Auth', ...(kind === 'http' ? ['PayloadFormatVersion'] : [])]);
  const auth = event.nested('Auth');
  auth?.ignoreUnknown(['Authorizer']);
  let path = event.string('Path');
  let method = event.string('Method')?.toUpperCase();
  // An HTTP API event with neither is the `$default` route.
  if (kind === 'http' && path === undefined && method === undefined) [path, method] = ['$default', 'ANY'];
  if (path === undefined || !(path.startsWith('/') || (kind === 'http' && path === '$default'))) throw event.error('Path', `must be a path starting with "/" (got ${JSON.stringify(path)})`);
  if (method === undefined || !METHODS.includes(method)) throw event.error('Method', `must be one of ${METHODS.join(', ')} (got ${JSON.stringify(method)})`);
  return withoutUndefined({
    kind,
    label,
    method,
    path,
    functionName: target.functionName,
    qualifier: target.qualifier,
    apiId: apiReference(event, apiKey) ?? (kind === 'http' ? IMPLICIT_HTTP_API : IMPLICIT_REST_API),
    payloadFormat: kind === 'http' ? payloadFormat(event, 'PayloadFormatVersion') ?? '2.0' : '1.0',
    authorizer: auth?.string('Authorizer'),
    timeoutMs: event.integer('TimeoutInMillis', 50, MAX_TIMEOUT_MS[kind]) ?? MAX_TIMEOUT_MS[kind],
  });
}

/** `!Ref MyApi` read as the logical id itself, so a wrong one fails rather than being dropped as an unknown `Ref`. */
function apiReference(event: PropertyReader, key: string): string | undefined {
  const raw = event.raw(key);
  return isObject(raw) && intrinsicName(raw) === 'Ref' && typeof raw.Ref === 'string' ? raw.Ref : event.string(key);
}

/** An API as read, with the authorizer names its routes may not use. */
interface ReadApi {
  readonly definition: ApiDefinition;
  /** Authorizers declared but not supported, and `AWS_IAM`: routes using them are not served. */
  readonly unsupported: ReadonlySet<string>;
  /** `Auth.DefaultAuthorizer` as written, supported or not. */
  readonly declaredDefault?: string;
}

/**
 * The gateway: the template's APIs (with their `Globals`), the implicit ones its events use,
 * and the routes, each checked against its API.
 */
export function buildGateway(
  scope: TemplateScope,
  resources: readonly ApiResource[],
  globals: Readonly<Record<ApiKind, unknown>>,
  declared: readonly DeclaredRoute[],
  functionNames: ReadonlySet<string>,
): GatewayDeclaration {
  const apis = new Map<string, ReadApi>();
  for (const { id, kind, properties } of resources) {
    apis.set(id, readApi(scope, id, kind, mergeGlobals(globals[kind], properties ?? {}), functionNames));
  }
  for (const [id, kind] of [[IMPLICIT_HTTP_API, 'http'], [IMPLICIT_REST_API, 'rest']] as const) {
    if (!apis.has(id) && declared.some((route) => route.apiId === id)) apis.set(id, readApi(scope, id, kind, globals[kind] ?? {}, functionNames));
  }
  const routes: HttpRoute[] = [];
  const seen = new Set<string>();
  for (const { kind, label, ...route } of declared) {
    const api = apis.get(route.apiId);
    if (api?.definition.kind !== kind) {
      throw scope.error(label, `${kind === 'http' ? 'ApiId' : 'RestApiId'} "${route.apiId}" is not an ${API_TYPES[kind]} of this template`);
    }
    const authorizer = route.authorizer ?? api.declaredDefault;
    if (authorizer !== undefined && authorizer !== 'NONE' && !Object.hasOwn(api.definition.authorizers, authorizer)) {
      if (!api.unsupported.has(authorizer)) throw scope.error(label, `Auth.Authorizer "${authorizer}" is not an authorizer of ${route.apiId}`);
      scope.warn(label, `authorizer ${authorizer} not supported, route ${route.method} ${route.path} not served`);
      continue;
    }
    const key = `${route.apiId} ${route.method} ${route.path}`;
    if (seen.has(key)) throw scope.error(label, `route ${route.method} ${route.path} of ${route.apiId} is declared twice`);
    seen.add(key);
    routes.push(route);
  }
  return { apis: [...apis.values()].map((api) => api.definition), routes };
}

function readApi(scope: TemplateScope, id: string, kind: ApiKind, properties: unknown, functionNames: ReadonlySet<string>): ReadApi {
  const label = `${API_TYPES[kind]} ${id}`;
  const api = new PropertyReader(scope, label, check.object(properties, `${scope.source}: ${label}: Properties`));
  api.ignoreUnknown(['StageName', kind === 'http' ? 'CorsConfiguration' : 'Cors', 'Auth']);
  let stage = api.string('StageName');
  if (stage === undefined && kind === 'rest' && id !== IMPLICIT_REST_API) throw api.error('StageName', 'is required');
  stage ??= kind === 'http' ? '$default' : 'Prod';
  const auth = api.nested('Auth');
  auth?.ignoreUnknown(['Authorizers', 'DefaultAuthorizer']);
  const authorizers: Record<string, AuthorizerDefinition> = {};
  const unsupported = new Set(['AWS_IAM']);
  const declared = auth?.nested('Authorizers');
  for (const name of declared?.keys() ?? []) {
    const authorizer = readAuthorizer(declared!.nested(name)!, name, kind, functionNames);
    if (authorizer) authorizers[name] = authorizer;
    else unsupported.add(name);
  }
  const declaredDefault = auth?.string('DefaultAuthorizer');
  if (declaredDefault !== undefined && !Object.hasOwn(authorizers, declaredDefault) && !unsupported.has(declaredDefault)) {
    throw auth!.error('DefaultAuthorizer', `"${declaredDefault}" is not in Auth.Authorizers`);
  }
  const definition: ApiDefinition = withoutUndefined({
    id,
    kind,
    stage,
    cors: kind === 'http' ? httpCors(api) : restCors(api),
    authorizers,
    defaultAuthorizer: declaredDefault !== undefined && Object.hasOwn(authorizers, declaredDefault) ? declaredDefault : undefined,
  });
  return withoutUndefined({ definition, unsupported, declaredDefault });
}

function readAuthorizer(authorizer: PropertyReader, name: string, kind: ApiKind, functionNames: ReadonlySet<string>): AuthorizerDefinition | undefined {
  const unsupported = (what: string) => {
    authorizer.scope.warn(authorizer.label, `Auth.Authorizers.${name}: ${what} not supported, routes using it are not served`);
    return undefined;
  };
  if (authorizer.has('JwtConfiguration')) return unsupported('JWT authorizer');
  if (authorizer.has('UserPoolArn')) return unsupported('Cognito authorizer');
  // REST API Lambda authorizers are TOKEN unless said otherwise; a TOKEN event has no place in AuthorizerDefinition.
  const payloadType = authorizer.string('FunctionPayloadType') ?? (kind === 'rest' ? 'TOKEN' : 'REQUEST');
  if (payloadType !== 'REQUEST') return unsupported(`${payloadType} authorizer`);
  authorizer.ignoreUnknown(['FunctionArn', 'Identity', 'FunctionPayloadType', ...(kind === 'http' ? ['AuthorizerPayloadFormatVersion', 'EnableSimpleResponses'] : [])]);
  const arn = authorizer.string('FunctionArn');
  if (arn === undefined) throw authorizer.error('FunctionArn', 'is required');
  const functionName = /^arn:[\w-]+:lambda:[^:]*:[^:]*:function:([^:]+)(:[^:]+)?$/.exec(arn)?.[1] ?? arn;
  if (!functionNames.has(functionName)) return unsupported(`FunctionArn ${arn} (not a function this template serves)`);
  const identity = authorizer.nested('Identity');
  identity?.ignoreUnknown(Object.keys(IDENTITY_PREFIXES[kind]));
  const identitySources = Object.entries(IDENTITY_PREFIXES[kind]).flatMap(([key, prefix]) => (identity?.strings(key) ?? []).map((item) => prefix + item));
  return {
    name,
    functionName,
    payloadFormat: kind === 'http' ? payloadFormat(authorizer, 'AuthorizerPayloadFormatVersion') ?? '2.0' : '1.0',
    simpleResponses: kind === 'http' ? authorizer.boolean('EnableSimpleResponses') ?? false : false,
    identitySources,
  };
}

/** `"2.0"`, or `2.0` as YAML reads it unquoted (the number 2). */
function payloadFormat(properties: PropertyReader, key: string): PayloadFormat | undefined {
  const value = properties.value(key);
  if (value === undefined) return undefined;
  const version = typeof value === 'number' ? value.toFixed(1) : value;
  return check.oneOf(version, `${properties.scope.source}: ${properties.label}: ${properties.path(key)}`, ['1.0', '2.0'] as const);
}

function httpCors(api: PropertyReader): CorsConfiguration | undefined {
  const value = api.value('CorsConfiguration');
  if (value === undefined || value === false) return undefined;
  if (value === true) return ALLOW_ALL;
  const cors = api.nested('CorsConfiguration')!;
  cors.ignoreUnknown(['AllowOrigins', 'AllowMethods', 'AllowHeaders', 'ExposeHeaders', 'AllowCredentials', 'MaxAge']);
  return corsConfiguration(
    cors.strings('AllowOrigins') ?? [], cors.strings('AllowMethods') ?? [], cors.strings('AllowHeaders') ?? [],
    cors.strings('ExposeHeaders') ?? [], cors.boolean('AllowCredentials'), cors.integer('MaxAge', -1, 86_400),
  );
}

/** REST `Cors`: a quoted origin (`"'*'"`), or a map of quoted, comma-separated values. */
function restCors(api: PropertyReader): CorsConfiguration | undefined {
  const value = api.value('Cors');
  if (value === undefined) return undefined;
  if (typeof value === 'string') return corsConfiguration(quotedList(value), ['*'], [], [], false, undefined);
  const cors = api.nested('Cors')!;
  cors.ignoreUnknown(['AllowOrigin', 'AllowMethods', 'AllowHeaders', 'AllowCredentials', 'MaxAge']);
  const origin = cors.string('AllowOrigin');
  if (origin === undefined) throw cors.error('AllowOrigin', 'is required');
  const maxAge = cors.string('MaxAge');
  return corsConfiguration(
    quotedList(origin), quotedList(cors.string('AllowMethods') ?? "'*'"), quotedList(cors.string('AllowHeaders') ?? ''), [],
    cors.boolean('AllowCredentials'), maxAge === undefined ? undefined : check.integer(Number(unquote(maxAge)), `${cors.scope.source}: ${cors.label}: ${cors.path('MaxAge')}`, -1, 86_400),
  );
}

function corsConfiguration(
  origins: string[], methods: string[], headers: string[], exposeHeaders: string[], credentials: boolean | undefined, maxAge: number | undefined,
): CorsConfiguration {
  return withoutUndefined({
    allowOrigins: origins,
    allowMethods: methods.map((method) => method.toUpperCase()),
    allowHeaders: headers.map((header) => header.toLowerCase()),
    exposeHeaders,
    allowCredentials: credentials ?? false,
    maxAge,
  });
}

/** REST CORS values are header values quoted for API Gateway's mapping templates: `"'GET,POST'"`. */
function unquote(value: string): string {
  return /^'.*'$/s.test(value) ? value.slice(1, -1) : value;
}

function quotedList(value: string): string[] {
  return unquote(value).split(',').map((item) => item.trim()).filter((item) => item !== '');
}
