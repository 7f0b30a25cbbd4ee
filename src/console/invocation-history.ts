/**
 * @module console/invocation-history
 * What the web console shows of recent invocations, kept in memory from one server's lifecycle
 * events (the same events `/metrics` counts): the last invocations in a ring buffer, and per
 * function one-minute buckets over the last hour. Both are bounded, whatever the traffic.
 */
import { subscribeLifecycle, type InvocationEndMessage } from '../runtime/lifecycle-events.js';
import { IdColumn } from './id-column.js';

/** One finished invocation, as the console lists it. */
export interface InvocationRecord {
  readonly functionName: string;
  readonly version: string;
  readonly requestId: string;
  readonly traceId: string;
  /** Epoch milliseconds at its start. */
  readonly startedAt: number;
  readonly durationMs: number;
  readonly outcome: InvocationEndMessage['outcome'];
  /** The function error type, for `functionError`. */
  readonly errorType?: string;
  readonly coldStart: boolean;
  readonly initDurationMs?: number;
}

/** One minute of one function. */
export interface MinutePoint {
  /** The minute's start, epoch milliseconds. */
  readonly time: number;
  readonly invocations: number;
  readonly errors: number;
  readonly throttles: number;
  readonly coldStarts: number;
  /** Milliseconds; null when nothing ran in the minute. */
  readonly p50: number | null;
  readonly p99: number | null;
}

/** A kept invocation but for its ids, which the history keeps as bytes (`IdColumn`). */
type KeptRecord = Omit<InvocationRecord, 'requestId' | 'traceId'>;

const MINUTE_MS = 60_000;
/** Minutes a series covers. */
export const SERIES_MINUTES = 60;
/** Invocations the ring buffer keeps. */
const MAX_RECORDS = 1000;
/** A request id as serverfull makes them, a UUID; others longer are kept as strings. */
const REQUEST_ID_WIDTH = 36;
/** An X-Ray trace id, `1-` then 8 and 24 hex digits. */
const TRACE_ID_WIDTH = 35;
/** Durations kept per minute for its percentiles; beyond that, one in N replaces a kept one. */
const MAX_MINUTE_SAMPLES = 2000;
/** Functions with series: a deploy loop creating names without end cannot grow memory without end. */
const MAX_FUNCTIONS = 1000;

class MinuteBucket {
  invocations = 0;
  errors = 0;
  throttles = 0;
  coldStarts = 0;
  readonly durations: number[] = [];
  constructor(readonly minute: number) {}

  addDuration(ms: number): void {
    if (this.durations.length < MAX_MINUTE_SAMPLES) this.durations.push(ms);
    else {
      // Reservoir sampling keeps a uniform sample of the minute's durations.
      const slot = Math.floor(Math.random() * this.invocations);
      if (slot < MAX_MINUTE_SAMPLES) this.durations[slot] = ms;
    }
  }
}

/** The recent invocations and per-minute series of server `serverId`, until `close()`. */
export class InvocationHistory {
  /** The kept invocations but for their ids, which are in the columns below, at the same index. */
  private readonly records: KeptRecord[] = [];
  private readonly requestIds = new IdColumn(MAX_RECORDS, REQUEST_ID_WIDTH);
  private readonly traceIds = new IdColumn(MAX_RECORDS, TRACE_ID_WIDTH);
  private next = 0;
  /** Function name → buckets by minute number, at most `SERIES_MINUTES` of them. */
  private readonly series = new Map<string, Map<number, MinuteBucket>>();
  private readonly unsubscribe: () => void;

  // Only the end is subscribed to: it carries the trace id, and the start time is its own less the run and init times.
  constructor(serverId: number, private readonly now: () => number = Date.now) {
    this.unsubscribe = subscribeLifecycle('serverfull:invocation:end', (message) => {
      if (message.serverId === serverId) this.ended(message);
    });
  }

  /** Stops recording: the server is closing. */
  close(): void {
    this.unsubscribe();
  }

  /** The recorded invocations, newest first, optionally of one function or one trace. */
  list(filter: { functionName?: string; traceId?: string } = {}): InvocationRecord[] {
    const out: InvocationRecord[] = [];
    for (let i = 1; i <= this.records.length; i++) {
      const slot = (this.next - i + MAX_RECORDS) % MAX_RECORDS;
      const record = this.records[slot];
      if (record === undefined) continue;
      if (filter.functionName !== undefined && record.functionName !== filter.functionName) continue;
      const traceId = this.traceIds.get(slot);
      if (filter.traceId !== undefined && traceId !== filter.traceId) continue;
      out.push({ ...record, requestId: this.requestIds.get(slot), traceId });
    }
    return out;
  }

  /** The recorded invocation of `requestId`, while it is among the kept ones. */
  find(requestId: string): InvocationRecord | undefined {
    for (let slot = 0; slot < this.records.length; slot++) {
      const record = this.records[slot];
      if (record !== undefined && this.requestIds.get(slot) === requestId) return { ...record, requestId, traceId: this.traceIds.get(slot) };
    }
    return undefined;
  }

  /** The function's last `SERIES_MINUTES` minutes, oldest first, the current minute last. */
  minutes(functionName: string): MinutePoint[] {
    const buckets = this.series.get(functionName);
    const current = Math.floor(this.now() / MINUTE_MS);
    const points: MinutePoint[] = [];
    for (let minute = current - SERIES_MINUTES + 1; minute <= current; minute++) {
      const bucket = buckets?.get(minute);
      const sorted = bucket ? [...bucket.durations].sort((a, b) => a - b) : [];
      points.push({
        time: minute * MINUTE_MS,
        invocations: bucket?.invocations ?? 0,
        errors: bucket?.errors ?? 0,
        throttles: bucket?.throttles ?? 0,
        coldStarts: bucket?.coldStarts ?? 0,
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
      });
    }
    return points;
  }

  private ended(message: InvocationEndMessage): void {
    const now = this.now();
    const bucket = this.bucketOf(message.functionName, Math.floor(now / MINUTE_MS));
    if (message.outcome === 'throttle') {
      if (bucket) bucket.throttles++;
    } else if (bucket) {
      bucket.invocations++;
      if (message.outcome !== 'success') bucket.errors++;
      if (message.initDurationMs !== undefined) bucket.coldStarts++;
      bucket.addDuration(message.durationMs);
    }
    const record: { -readonly [K in keyof KeptRecord]: KeptRecord[K] } = {
      functionName: message.functionName,
      version: message.version,
      startedAt: now - message.durationMs - (message.initDurationMs ?? 0),
      durationMs: message.durationMs,
      outcome: message.outcome,
      coldStart: message.initDurationMs !== undefined,
    };
    // Set only when present (rather than spread in): every invocation ends here.
    if (message.outcome === 'functionError') record.errorType = message.errorType;
    if (message.initDurationMs !== undefined) record.initDurationMs = message.initDurationMs;
    this.records[this.next] = record;
    this.requestIds.set(this.next, message.requestId);
    this.traceIds.set(this.next, message.traceId);
    this.next = (this.next + 1) % MAX_RECORDS;
  }

  private bucketOf(functionName: string, minute: number): MinuteBucket | undefined {
    let buckets = this.series.get(functionName);
    if (!buckets) {
      if (this.series.size >= MAX_FUNCTIONS) return undefined;
      this.series.set(functionName, (buckets = new Map()));
    }
    let bucket = buckets.get(minute);
    if (!bucket) {
      buckets.set(minute, (bucket = new MinuteBucket(minute)));
      for (const old of buckets.keys()) if (old <= minute - SERIES_MINUTES) buckets.delete(old);
    }
    return bucket;
  }
}

/** The nearest-rank percentile of sorted values; null for none. */
function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}
