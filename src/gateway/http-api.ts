/**
 * @module gateway/http-api
 * What the gateway serves, however it was declared (a SAM template's `HttpApi`/`Api` events
 * or the manifest's `http` routes): APIs with their routes, CORS and authorizers.
 */

/** API Gateway's two proxy flavours: an HTTP API (payload format 2.0 by default) or a REST API (1.0). */
export type ApiKind = 'http' | 'rest';

/** The Lambda proxy integration payload format. */
export type PayloadFormat = '1.0' | '2.0';

/** CORS as `CorsConfiguration` (HTTP API) or `Cors` (REST API) declares it, normalised. */
export interface CorsConfiguration {
  /** `*` or exact origins. */
  readonly allowOrigins: readonly string[];
  /** Upper-case methods, or `*`. */
  readonly allowMethods: readonly string[];
  /** Lower-case header names, or `*`. */
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly allowCredentials: boolean;
  /** Seconds; undefined sends no `Access-Control-Max-Age`. */
  readonly maxAge?: number;
}

/** A Lambda `REQUEST` authorizer. */
export interface AuthorizerDefinition {
  readonly name: string;
  /** The function that decides. */
  readonly functionName: string;
  /** HTTP APIs: `AuthorizerPayloadFormatVersion`; REST APIs always 1.0. */
  readonly payloadFormat: PayloadFormat;
  /** HTTP API `EnableSimpleResponses`: `{ isAuthorized, context }` instead of an IAM policy. */
  readonly simpleResponses: boolean;
  /** `$request.header.Authorization`, `method.request.header.Authorization`, ...: a request missing one is refused with 401 before the function runs. */
  readonly identitySources: readonly string[];
}

/** One API: an HTTP API or a REST API, with its stage. */
export interface ApiDefinition {
  /** The template's logical id (`ServerlessHttpApi`/`ServerlessRestApi` for the implicit ones). */
  readonly id: string;
  readonly kind: ApiKind;
  /** `$default` for HTTP APIs unless named, `Prod` for SAM's implicit REST API. */
  readonly stage: string;
  readonly cors?: CorsConfiguration;
  readonly authorizers: Readonly<Record<string, AuthorizerDefinition>>;
  /** Authorizer applied to routes that name none. */
  readonly defaultAuthorizer?: string;
}

/** One route of an API, bound to a function. */
export interface HttpRoute {
  /** Upper-case method, or `ANY`. */
  readonly method: string;
  /** `/items/{id}`, `/files/{proxy+}`, or `$default` (HTTP APIs: whatever no other route matches). */
  readonly path: string;
  readonly functionName: string;
  /** Version or alias to invoke (SAM's `AutoPublishAlias`); `$LATEST` when undefined. */
  readonly qualifier?: string;
  /** The `ApiDefinition.id` this route belongs to. */
  readonly apiId: string;
  readonly payloadFormat: PayloadFormat;
  /** Authorizer name in its API; `NONE` or undefined for none (undefined also means the API's default). */
  readonly authorizer?: string;
  /** Integration timeout in milliseconds (API Gateway's default: 30 s). */
  readonly timeoutMs: number;
}

/** Everything the gateway serves. */
export interface GatewayDeclaration {
  readonly apis: readonly ApiDefinition[];
  readonly routes: readonly HttpRoute[];
}
