/**
 * @module metrics/collected-metric
 * A metric whose samples are read at scrape time from counts kept elsewhere, registered in a
 * prom-client `Registry` next to prom-client's own metrics and written by it (names, escaping).
 *
 * Why not prom-client's `Counter` and `Histogram` for invocations: each of their updates validates
 * and hashes its labels (0.3 to 0.6 µs, measured), four of them per invocation, on the hot path.
 * Counts kept in plain fields per function version cost a few nanoseconds; the work of labelling
 * them moves to the scrape.
 */
import type { Metric, Registry } from 'prom-client';

/** One sample: `metricName` when it differs from the metric's (`_bucket`, `_sum`, `_count`). */
export interface CollectedSample {
  readonly metricName?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Cumulative bucket counts, sum and count of observations, as a histogram reports them. */
export class HistogramCounts {
  /** Observations per bucket, not cumulative; the last one is past every bound (`+Inf`). */
  private readonly perBucket: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.perBucket = new Array<number>(bounds.length + 1).fill(0);
  }

  /** Adds one observation. */
  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.perBucket[i]!++;
    this.sum += value;
    this.count++;
  }

  /** The samples of this histogram under `name` with `labels`: cumulative buckets (`le`), `_sum`, `_count`. */
  samples(name: string, labels: Readonly<Record<string, string>>): CollectedSample[] {
    const out: CollectedSample[] = [];
    let cumulative = 0;
    for (let i = 0; i <= this.bounds.length; i++) {
      cumulative += this.perBucket[i]!;
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: i < this.bounds.length ? String(this.bounds[i]) : '+Inf' }, value: cumulative });
    }
    out.push({ metricName: `${name}_sum`, labels, value: this.sum }, { metricName: `${name}_count`, labels, value: this.count });
    return out;
  }
}

/** What a collected metric is. */
export interface CollectedMetricOptions {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** Its samples now. */
  readonly read: () => CollectedSample[];
}

/**
 * Registers a metric read by `options.read` in `registry`. It keeps prom-client's metric protocol
 * (`name`, `help`, `type`, `aggregator`, `get()`), which is all the registry uses; its TypeScript
 * type names prom-client's own classes only, hence the cast.
 */
export function registerCollectedMetric(registry: Registry, options: CollectedMetricOptions): void {
  const { name, help, type, read } = options;
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    collect: undefined,
    get: async () => ({ name, help, type, aggregator: 'sum' as const, values: read() }),
    reset: () => undefined,
  };
  registry.registerMetric(metric as unknown as Metric);
}
