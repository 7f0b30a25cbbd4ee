/**
 * @module gateway/manifest-gateway
 * The gateway as `serverfull.json` declares it: each function's `http` routes, and the
 * top-level `http` object (API kind, stage, CORS, base-path mappings, routes to any
 * function, deployed ones included).
 */
import { check, ConfigError } from '../config/config-error.js';
import { FUNCTION_NAME } from '../config/manifest.js';
import type { ApiDefinition, ApiKind, CorsConfiguration, GatewayDeclaration, HttpRoute } from './http-api.js';

/** The manifest's API: its id in routes and logs. */
export const MANIFEST_API_ID = 'serverfull';

/** API Gateway's default integration timeout. */
export const DEFAULT_INTEGRATION_TIMEOUT_MS = 30_000;

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'];
const PATH = /^(\$default|(\/[^/\s]*)+)$/;

/** What the manifest declares for the gateway. */
export interface ManifestGateway {
  readonly declaration: GatewayDeclaration;
  /** First path segment → qualifier (`"v1": "live"`). */
  readonly basePaths: Readonly<Record<string, string>>;
}

/** Reads the top-level `http` object and the functions' `http` arrays. */
export function readManifestGateway(top: unknown, functions: Record<string, unknown>, source: string): ManifestGateway {
  const where = `${source}: "http"`;
  const config = top === undefined ? {} : check.object(top, where);
  check.knownKeys(config, where, ['kind', 'stage', 'cors', 'basePaths', 'routes', 'timeout']);
  const kind: ApiKind = config.kind === undefined ? 'http' : check.oneOf(config.kind, `${where}.kind`, ['http', 'rest'] as const);
  const timeoutMs = config.timeout === undefined ? DEFAULT_INTEGRATION_TIMEOUT_MS : check.integer(config.timeout, `${where}.timeout`, 1, 900) * 1000;
  const api: ApiDefinition = {
    id: MANIFEST_API_ID,
    kind,
    stage: config.stage === undefined ? (kind === 'http' ? '$default' : 'Prod') : check.string(config.stage, `${where}.stage`, /^[\w$-]+$/, 'a stage name'),
    cors: readCors(config.cors, `${where}.cors`),
    authorizers: {},
  };
  const routes: HttpRoute[] = [];
  const route = (raw: unknown, at: string, functionName: string): HttpRoute => {
    const entry = check.object(raw, at);
    const method = String(check.string(entry.method ?? 'ANY', `${at}.method`)).toUpperCase();
    check.oneOf(method, `${at}.method`, METHODS);
    return {
      method,
      path: check.string(entry.path, `${at}.path`, PATH, 'a path such as "/items/{id}" or "$default"'),
      functionName,
      apiId: api.id,
      payloadFormat: kind === 'http' ? '2.0' : '1.0',
      timeoutMs,
    };
  };
  for (const [name, fn] of Object.entries(functions)) {
    const declared = typeof fn === 'object' && fn !== null ? (fn as Record<string, unknown>).http : undefined;
    if (declared === undefined) continue;
    if (!Array.isArray(declared)) throw new ConfigError(`${source}: function "${name}": field "http" must be an array of { "method", "path" }`);
    declared.forEach((entry, i) => {
      check.knownKeys(check.object(entry, `${source}: function "${name}": http[${i}]`), `${source}: function "${name}": http[${i}]`, ['method', 'path']);
      routes.push(route(entry, `${source}: function "${name}": http[${i}]`, name));
    });
  }
  if (config.routes !== undefined) {
    if (!Array.isArray(config.routes)) throw new ConfigError(`${where}.routes must be an array of { "method", "path", "function" }`);
    config.routes.forEach((entry, i) => {
      const at = `${where}.routes[${i}]`;
      check.knownKeys(check.object(entry, at), at, ['method', 'path', 'function']);
      routes.push(route(entry, at, check.string((entry as Record<string, unknown>).function, `${at}.function`, FUNCTION_NAME, 'a function name')));
    });
  }
  const basePaths: Record<string, string> = {};
  if (config.basePaths !== undefined) {
    for (const [path, qualifier] of Object.entries(check.object(config.basePaths, `${where}.basePaths`))) {
      if (!/^[\w.-]+$/.test(path)) throw new ConfigError(`${where}.basePaths: "${path}" must be one path segment (letters, digits, "-", "_", ".")`);
      basePaths[path] = check.string(qualifier, `${where}.basePaths.${path}`, /^(\$LATEST|[a-zA-Z0-9-_]+)$/, 'a version or alias');
    }
  }
  return { declaration: { apis: routes.length > 0 ? [api] : [], routes }, basePaths };
}

/** `true`: everything allowed; or an object in the HTTP API's `CorsConfiguration` form (camelCase). */
function readCors(raw: unknown, where: string): CorsConfiguration | undefined {
  if (raw === undefined || raw === false) return undefined;
  if (raw === true) return { allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: ['*'], exposeHeaders: [], allowCredentials: false };
  const cors = check.object(raw, where);
  check.knownKeys(cors, where, ['allowOrigins', 'allowMethods', 'allowHeaders', 'exposeHeaders', 'allowCredentials', 'maxAge']);
  const list = (key: string, fallback: string[]) => {
    const value = cors[key];
    if (value === undefined) return fallback;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new ConfigError(`${where}.${key} must be an array of strings`);
    return value as string[];
  };
  return {
    allowOrigins: list('allowOrigins', ['*']),
    allowMethods: list('allowMethods', ['*']).map((m) => m.toUpperCase()),
    allowHeaders: list('allowHeaders', ['*']).map((h) => h.toLowerCase()),
    exposeHeaders: list('exposeHeaders', []),
    allowCredentials: cors.allowCredentials === undefined ? false : cors.allowCredentials === true,
    maxAge: cors.maxAge === undefined ? undefined : check.integer(cors.maxAge, `${where}.maxAge`, 0, 86_400),
  };
}
