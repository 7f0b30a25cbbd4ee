/**
 * @module metrics/invocation-metrics
 * Lambda's function metrics (Invocations, Errors, Throttles, Duration, ConcurrentExecutions) and
 * serverfull's own (init durations, environments), per function and executed version, counted from
 * the lifecycle events of one server: nothing on the invocation path knows of them. A subscriber
 * only adds to plain counts; they become labelled samples when `/metrics` is read.
 */
import type { Registry } from 'prom-client';
import { subscribeLifecycle } from '../runtime/lifecycle-events.js';
import { HistogramCounts, registerCollectedMetric, type CollectedSample } from './collected-metric.js';

/** Seconds: from a millisecond handler to Lambda's 900-second limit. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
/** Seconds: from an inline import to a slow process runtime's start. */
const INIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The counts of one function version. */
class VersionCounts {
  invocations = 0;
  errors = 0;
  running = 0;
  environments = 0;
  readonly duration = new HistogramCounts(DURATION_BUCKETS);
  readonly init = new HistogramCounts(INIT_BUCKETS);
  /** Its `function` and `version` labels, built once. */
  constructor(readonly labels: Readonly<Record<'function' | 'version', string>>) {}
}

/** The invocation metrics of the server `serverId`, in `registry`, until `close()`. */
export class InvocationMetrics {
  /** Function name → version → counts. */
  private readonly versions = new Map<string, Map<string, VersionCounts>>();
  private readonly throttles = new Map<string, number>();
  private readonly unsubscribe: Array<() => void>;

  constructor(registry: Registry, serverId: number) {
    const perVersion = (name: string, help: string, type: 'counter' | 'gauge', value: (counts: VersionCounts) => number, only?: (counts: VersionCounts) => boolean) =>
      registerCollectedMetric(registry, {
        name, help, type,
        read: () => this.collect((counts) => (only && !only(counts) ? [] : [{ labels: counts.labels, value: value(counts) }])),
      });
    // A series appears once it has something to count, as prom-client's own counters do.
    perVersion('serverfull_invocations_total', 'Invocations that ran (successful or not; throttled ones did not), as Lambda\'s Invocations', 'counter', (c) => c.invocations, (c) => c.invocations > 0);
    perVersion('serverfull_errors_total', 'Invocations that ended in a function error, timeouts included, as Lambda\'s Errors', 'counter', (c) => c.errors, (c) => c.errors > 0);
    registerCollectedMetric(registry, {
      name: 'serverfull_throttles_total', help: 'Invocations refused with 429 over reserved or server-wide concurrency, as Lambda\'s Throttles', type: 'counter',
      read: () => [...this.throttles].map(([name, value]) => ({ labels: { function: name }, value })),
    });
    registerCollectedMetric(registry, {
      name: 'serverfull_duration_seconds', help: 'Handler run time of the invocations that ran, init excluded, as REPORT\'s Duration', type: 'histogram',
      read: () => this.collect((c) => (c.duration.count === 0 ? [] : c.duration.samples('serverfull_duration_seconds', c.labels))),
    });
    registerCollectedMetric(registry, {
      name: 'serverfull_init_duration_seconds', help: 'Init duration of each cold start (failed inits included)', type: 'histogram',
      read: () => this.collect((c) => (c.init.count === 0 ? [] : c.init.samples('serverfull_init_duration_seconds', c.labels))),
    });
    perVersion('serverfull_concurrent_executions', 'Invocations running now, as Lambda\'s ConcurrentExecutions', 'gauge', (c) => c.running);
    perVersion('serverfull_environments', 'Execution environments alive now, busy or idle', 'gauge', (c) => c.environments);

    this.unsubscribe = [
      subscribeLifecycle('serverfull:invocation:start', (message) => {
        if (message.serverId === serverId) this.countsOf(message.functionName, message.version).running++;
      }),
      subscribeLifecycle('serverfull:invocation:end', (message) => {
        if (message.serverId !== serverId) return;
        const counts = this.countsOf(message.functionName, message.version);
        counts.running--;
        if (message.outcome === 'throttle') {
          this.throttles.set(message.functionName, (this.throttles.get(message.functionName) ?? 0) + 1);
          return;
        }
        counts.invocations++;
        if (message.outcome !== 'success') counts.errors++;
        counts.duration.observe(message.durationMs / 1000);
      }),
      subscribeLifecycle('serverfull:coldstart', (message) => {
        if (message.serverId === serverId) this.countsOf(message.functionName, message.version).init.observe(message.initDurationMs / 1000);
      }),
      subscribeLifecycle('serverfull:environment:create', (message) => {
        if (message.serverId === serverId) this.countsOf(message.functionName, message.version).environments++;
      }),
      subscribeLifecycle('serverfull:environment:stop', (message) => {
        if (message.serverId === serverId) this.countsOf(message.functionName, message.version).environments--;
      }),
    ];
  }

  /** Stops counting: the server is closing. */
  close(): void {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
  }

  private countsOf(name: string, version: string): VersionCounts {
    let versions = this.versions.get(name);
    if (!versions) this.versions.set(name, (versions = new Map()));
    let counts = versions.get(version);
    if (!counts) versions.set(version, (counts = new VersionCounts({ function: name, version })));
    return counts;
  }

  /** The samples `read` gives for every function version counted. */
  private collect(read: (counts: VersionCounts) => CollectedSample[]): CollectedSample[] {
    const samples: CollectedSample[] = [];
    for (const versions of this.versions.values()) {
      for (const counts of versions.values()) samples.push(...read(counts));
    }
    return samples;
  }
}
