/**
 * @module api/metrics-route
 * `GET /metrics`: the server's metrics in the Prometheus text format, on the Lambda API's port and
 * behind its checks (browser protection; with `--auth sigv4`, a signed request allowed
 * `lambda:GetMetrics`, serverfull's own action).
 */
import { NO_BODY } from '../http/api-request.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import type { Route } from './route.js';

/** The route of `metrics`' registry. */
export function metricsRoute(metrics: ServerMetrics): Route {
  return {
    method: 'GET',
    pattern: /^\/metrics\/?$/,
    operation: 'GetMetrics',
    bodyLimit: () => NO_BODY,
    abandoned: () => ({}),
    handle(request, response, finish) {
      metrics.text().then(
        (text) => {
          response.writeHead(200, { 'Content-Type': metrics.contentType, 'Content-Length': Buffer.byteLength(text), 'x-amzn-RequestId': request.requestId }).end(text);
          finish(request, response, undefined);
        },
        (error: unknown) => finish(request, response, error),
      );
    },
  };
}
