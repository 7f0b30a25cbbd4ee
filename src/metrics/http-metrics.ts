/**
 * @module metrics/http-metrics
 * The API Gateway's request count and duration by method, route and status, from the request
 * pipeline's `finished` hook. Labels are bounded whatever callers send: the route is the matched
 * route key (or `unmatched`), never the path, and a method outside HTTP's usual ones is `other`.
 */
import type { Registry } from 'prom-client';
import { HistogramCounts, registerCollectedMetric } from './collected-metric.js';
import type { FinishedHook } from '../http/request-hooks.js';

/** Seconds: API Gateway's integration timeout is 30 s (29 s for REST APIs). */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The methods kept as they are in labels; any other is counted as `other`. */
const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The route label of a request no route matched (no route key starts with a letter in lower case). */
export const UNMATCHED_ROUTE = 'unmatched';

type HttpLabels = 'method' | 'route' | 'status';

/** The counts of one method, route and status. */
class RequestCounts {
  readonly duration = new HistogramCounts(DURATION_BUCKETS);
  constructor(readonly method: string, readonly status: number, readonly labels: Readonly<Record<HttpLabels, string>>) {}
}

/**
 * A `finished` hook counting the gateway's requests into `registry`. Plain counts per label set, labelled at
 * scrape time (`collected-metric`): prom-client's `Counter.inc` and `Histogram.observe` hash their labels on every request.
 */
export function gatewayRequestMetrics(registry: Registry): FinishedHook {
  /** Route label → its label sets (a route answers with a few methods and statuses). */
  const byRoute = new Map<string, RequestCounts[]>();
  const collect = <T>(read: (counts: RequestCounts) => T[]): T[] => {
    const out: T[] = [];
    for (const list of byRoute.values()) for (const counts of list) out.push(...read(counts));
    return out;
  };
  registerCollectedMetric(registry, {
    name: 'serverfull_http_requests_total', help: 'API Gateway requests answered, by method, route key and status', type: 'counter',
    read: () => collect((counts) => [{ labels: counts.labels, value: counts.duration.count }]),
  });
  registerCollectedMetric(registry, {
    name: 'serverfull_http_request_duration_seconds', help: 'API Gateway requests from arrival to answer', type: 'histogram',
    read: () => collect((counts) => counts.duration.samples('serverfull_http_request_duration_seconds', counts.labels)),
  });
  return (outcome) => {
    const method = METHODS.has(outcome.method) ? outcome.method : 'other';
    const route = outcome.operation ?? UNMATCHED_ROUTE;
    let list = byRoute.get(route);
    if (list === undefined) byRoute.set(route, (list = []));
    let counts: RequestCounts | undefined;
    for (const candidate of list) {
      if (candidate.status === outcome.status && candidate.method === method) {
        counts = candidate;
        break;
      }
    }
    if (counts === undefined) list.push((counts = new RequestCounts(method, outcome.status, { method, route, status: String(outcome.status) })));
    counts.duration.observe(outcome.durationMs / 1000);
  };
}
