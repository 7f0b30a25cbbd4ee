/**
 * @module metrics/http-metrics
 * The API Gateway's request count and duration by method, route and status, from the request
 * pipeline's `finished` hook. Labels are bounded whatever callers send: the route is the matched
 * route key (or `unmatched`), never the path, and a method outside HTTP's usual ones is `other`.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { FinishedHook } from '../http/request-hooks.js';

/** Seconds: API Gateway's integration timeout is 30 s (29 s for REST APIs). */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The methods kept as they are in labels; any other is counted as `other`. */
const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The route label of a request no route matched (no route key starts with a letter in lower case). */
export const UNMATCHED_ROUTE = 'unmatched';

type HttpLabels = 'method' | 'route' | 'status';

/** A `finished` hook counting the gateway's requests into `registry`. */
export function gatewayRequestMetrics(registry: Registry): FinishedHook {
  const registers = [registry];
  const requests = new Counter<HttpLabels>({
    name: 'serverfull_http_requests_total', help: 'API Gateway requests answered, by method, route key and status', labelNames: ['method', 'route', 'status'], registers,
  });
  const duration = new Histogram<HttpLabels>({
    name: 'serverfull_http_request_duration_seconds', help: 'API Gateway requests from arrival to answer', labelNames: ['method', 'route', 'status'], buckets: DURATION_BUCKETS, registers,
  });
  return (outcome) => {
    const labels = {
      method: METHODS.has(outcome.method) ? outcome.method : 'other',
      route: outcome.operation ?? UNMATCHED_ROUTE,
      status: String(outcome.status),
    };
    requests.inc(labels);
    duration.observe(labels, outcome.durationMs / 1000);
  };
}
