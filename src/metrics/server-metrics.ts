/**
 * @module metrics/server-metrics
 * Everything one server exposes at `GET /metrics`, in a Prometheus registry of its own (never
 * prom-client's global one): two servers in one process keep their counts apart. The process
 * metrics prom-client collects are the process's, so they are collected once per process (their
 * collectors, an event loop delay monitor and a GC observer, cannot be stopped) and joined to each
 * server's at scrape time.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { FinishedHook } from '../http/request-hooks.js';
import type { AsyncInvocations } from '../runtime/async-invocations.js';
import { gatewayRequestMetrics } from './http-metrics.js';
import { InvocationMetrics } from './invocation-metrics.js';

/** The process metrics, started with the first server that exposes them. */
let processRegistry: Registry | undefined;

/**
 * How often the event loop delay histogram (`nodejs_eventloop_lag_p99_seconds` and the others) samples the loop, in ms.
 * prom-client's default, 10 ms, is a timer that wakes an idle server 100 times a second for as long as it runs; at
 * 100 ms a stall of 100 ms or more is still always seen, and a scrape every 15 s still has 150 samples.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/** The metrics of one server. */
export class ServerMetrics {
  /** This server's own metrics. */
  readonly registry = new Registry();
  /** The Content-Type of `text()`. */
  readonly contentType = this.registry.contentType;
  private readonly invocations: InvocationMetrics;

  /** Counts the invocations of the server `serverId` (`Invoker.serverId`) and reads its event queue when scraped. */
  constructor(serverId: number, events: AsyncInvocations) {
    this.invocations = new InvocationMetrics(this.registry, serverId);
    if (processRegistry === undefined) {
      processRegistry = new Registry();
      collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    }
    // Versions seen queued before: reported at 0 once drained, rather than vanishing.
    const seen = new Set<string>();
    new Gauge<'function' | 'version'>({
      name: 'serverfull_async_events_queued',
      help: 'Event (asynchronous) invocations accepted and not yet finished: waiting, retried after a throttle, or running',
      labelNames: ['function', 'version'],
      registers: [this.registry],
      collect() {
        this.reset();
        const now = new Set<string>();
        events.forEachPending((name, version, count) => {
          now.add(JSON.stringify([name, version]));
          this.set({ function: name, version }, count);
        });
        for (const key of seen) {
          if (now.has(key)) continue;
          const [name, version] = JSON.parse(key) as [string, string];
          this.set({ function: name, version }, 0);
        }
        for (const key of now) seen.add(key);
      },
    });
    new Gauge<'function'>({
      name: 'serverfull_async_event_oldest_age_seconds',
      help: 'Age of the oldest Event invocation waiting to run (not running, not waiting for a retry), per function',
      labelNames: ['function'],
      registers: [this.registry],
      collect() {
        this.reset();
        events.forEachOldest((name, age) => this.set({ function: name }, age));
      },
    });
  }

  /** The server's metrics and the process's, in the Prometheus text format. */
  text(): Promise<string> {
    return Registry.merge([processRegistry!, this.registry]).metrics();
  }

  /** A `finished` hook for the API Gateway's server: its requests by method, route and status. */
  gatewayHook(): FinishedHook {
    return gatewayRequestMetrics(this.registry);
  }

  /** Stops counting: the server is closing. */
  close(): void {
    this.invocations.close();
  }
}
