/**
 * @module gateway/route-table
 * Finds the route of a request the way API Gateway does: the most specific path wins
 * (literal segments over `{param}` over `{proxy+}`), then a method route over `ANY`,
 * and an HTTP API's `$default` route takes whatever nothing else matched. Paths are routed with
 * their dot segments resolved (`/public/../admin` is `/admin`); one that cannot be made safe
 * matches nothing, not even `$default` (see `request-path.ts`).
 */
import { ConfigError } from '../config/config-error.js';
import { decodeUriComponentSafely } from '../values.js';
import type { ApiDefinition, GatewayDeclaration, HttpRoute } from './http-api.js';
import { normaliseRequestPath } from './request-path.js';

/** A matched route with its API and decoded path parameters. */
export interface RouteMatch {
  readonly route: HttpRoute;
  readonly api: ApiDefinition;
  readonly pathParameters?: Record<string, string>;
}

const LITERAL = 0;
const PARAMETER = 1;
const GREEDY = 2;

interface Segment {
  readonly kind: typeof LITERAL | typeof PARAMETER | typeof GREEDY;
  /** The literal text, or the parameter's name. */
  readonly text: string;
}

interface CompiledRoute {
  readonly route: HttpRoute;
  readonly api: ApiDefinition;
  readonly segments: readonly Segment[];
  readonly anyMethod: boolean;
}

/** The routes of every API the gateway serves, compiled once. */
export class RouteTable {
  private readonly routes: CompiledRoute[] = [];
  private readonly fallback?: CompiledRoute;
  private readonly apis: ReadonlyMap<string, ApiDefinition>;

  constructor(declaration: GatewayDeclaration) {
    this.apis = new Map(declaration.apis.map((api) => [api.id, api]));
    const seen = new Map<string, string>();
    let fallback: CompiledRoute | undefined;
    for (const route of declaration.routes) {
      const api = this.apis.get(route.apiId);
      if (!api) throw new ConfigError(`route ${route.method} ${route.path} of ${route.functionName} names an unknown API ${route.apiId}`);
      const key = `${route.method} ${route.path}`;
      const other = seen.get(key);
      if (other !== undefined) throw new ConfigError(`route ${key} is declared twice (${other} and ${route.functionName})`);
      seen.set(key, route.functionName);
      const compiled = { route, api, segments: compile(route.path), anyMethod: route.method === 'ANY' };
      if (route.path === '$default') fallback = compiled;
      else this.routes.push(compiled);
    }
    this.fallback = fallback;
  }

  /** Whether any route is declared. */
  get empty(): boolean {
    return this.routes.length === 0 && this.fallback === undefined;
  }

  /** The APIs by id. */
  api(id: string): ApiDefinition | undefined {
    return this.apis.get(id);
  }

  /** Every API declared. */
  allApis(): ApiDefinition[] {
    return [...this.apis.values()];
  }

  /** The best route for `method` and the raw (percent-encoded) `path`, or undefined. */
  match(method: string, rawPath: string): RouteMatch | undefined {
    const path = normaliseRequestPath(rawPath);
    if (path === undefined) return undefined;
    const parts = path.split('/').slice(1);
    let best: CompiledRoute | undefined;
    let bestScore: number[] | undefined;
    for (const candidate of this.routes) {
      if (!candidate.anyMethod && candidate.route.method !== method) continue;
      const score = matchScore(candidate, parts);
      if (score && (!bestScore || better(score, bestScore))) {
        best = candidate;
        bestScore = score;
      }
    }
    if (best) return { route: best.route, api: best.api, pathParameters: parameters(best.segments, parts) };
    if (this.fallback) return { route: this.fallback.route, api: this.fallback.api };
    return undefined;
  }

  /** Whether some route would take `path` with some method: preflight and 405-like checks. */
  matchesPath(rawPath: string): ApiDefinition | undefined {
    const path = normaliseRequestPath(rawPath);
    if (path === undefined) return undefined;
    const parts = path.split('/').slice(1);
    for (const candidate of this.routes) if (matchScore(candidate, parts)) return candidate.api;
    return this.fallback?.api;
  }
}

function compile(path: string): Segment[] {
  if (path === '$default') return [];
  return path.split('/').slice(1).map((part): Segment => {
    if (part.startsWith('{') && part.endsWith('+}')) return { kind: GREEDY, text: part.slice(1, -2) };
    if (part.startsWith('{') && part.endsWith('}')) return { kind: PARAMETER, text: part.slice(1, -1) };
    return { kind: LITERAL, text: part };
  });
}

/** The segment kinds used, most significant first, then whether the method was `ANY`; undefined when the route does not match. */
function matchScore(candidate: CompiledRoute, parts: readonly string[]): number[] | undefined {
  const { segments } = candidate;
  const score: number[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.kind === GREEDY) {
      // A greedy parameter takes one segment or more.
      if (parts.length <= i || (parts.length === i + 1 && parts[i] === '')) return undefined;
      score.push(GREEDY);
      return [...score, candidate.anyMethod ? 1 : 0];
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (segment.kind === LITERAL ? part !== segment.text : part === '') return undefined;
    score.push(segment.kind);
  }
  if (parts.length !== segments.length) return undefined;
  score.push(candidate.anyMethod ? 1 : 0);
  return score;
}

/** Lower is more specific, segment by segment from the left. */
function better(a: number[], b: number[]): boolean {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return a.length > b.length;
}

function parameters(segments: readonly Segment[], parts: readonly string[]): Record<string, string> | undefined {
  let result: Record<string, string> | undefined;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.kind === LITERAL) continue;
    result ??= {};
    const raw = segment.kind === GREEDY ? parts.slice(i).join('/') : parts[i]!;
    result[segment.text] = decode(raw);
  }
  return result;
}

function decode(value: string): string {
  return decodeUriComponentSafely(value) ?? value;
}
