/**
 * @module metrics/invocation-metrics
 * Lambda's function metrics (Invocations, Errors, Throttles, Duration, ConcurrentExecutions) and
 * serverfull's own (init durations, environments), per function and executed version, counted from
 * the lifecycle events of one server: nothing on the invocation path knows of them.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  subscribeLifecycle, type ColdStartMessage, type EnvironmentCreateMessage, type EnvironmentStopMessage,
  type InvocationEndMessage, type InvocationStartMessage,
} from '../runtime/lifecycle-events.js';

/** Seconds: from a millisecond handler to Lambda's 900-second limit. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
/** Seconds: from an inline import to a slow process runtime's start. */
const INIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type VersionLabels = 'function' | 'version';

/** The invocation metrics of the server `serverId`, in `registry`, until `close()`. */
export class InvocationMetrics {
  private readonly unsubscribe: Array<() => void>;

  constructor(registry: Registry, serverId: number) {
    const registers = [registry];
    const invocations = new Counter<VersionLabels>({
      name: 'serverfull_invocations_total', help: 'Invocations that ran (successful or not; throttled ones are not), as Lambda\'s Invocations', labelNames: ['function', 'version'], registers,
    });
    const errors = new Counter<VersionLabels>({
      name: 'serverfull_errors_total', help: 'Invocations that ended in a function error, timeouts included, as Lambda\'s Errors', labelNames: ['function', 'version'], registers,
    });
    const throttles = new Counter<'function'>({
      name: 'serverfull_throttles_total', help: 'Invocations refused with 429 over reserved or server-wide concurrency, as Lambda\'s Throttles', labelNames: ['function'], registers,
    });
    const duration = new Histogram<VersionLabels>({
      name: 'serverfull_duration_seconds', help: 'Handler run time of the invocations that ran, init excluded, as REPORT\'s Duration', labelNames: ['function', 'version'], buckets: DURATION_BUCKETS, registers,
    });
    const initDuration = new Histogram<VersionLabels>({
      name: 'serverfull_init_duration_seconds', help: 'Init duration of each cold start (failed inits included)', labelNames: ['function', 'version'], buckets: INIT_BUCKETS, registers,
    });
    const concurrent = new Gauge<VersionLabels>({
      name: 'serverfull_concurrent_executions', help: 'Invocations running now, as Lambda\'s ConcurrentExecutions', labelNames: ['function', 'version'], registers,
    });
    const environments = new Gauge<VersionLabels>({
      name: 'serverfull_environments', help: 'Execution environments alive now, busy or idle', labelNames: ['function', 'version'], registers,
    });

    const ours = (message: { serverId: number }) => message.serverId === serverId;
    this.unsubscribe = [
      subscribeLifecycle('serverfull:invocation:start', (message: InvocationStartMessage) => {
        if (ours(message)) concurrent.inc({ function: message.functionName, version: message.version });
      }),
      subscribeLifecycle('serverfull:invocation:end', (message: InvocationEndMessage) => {
        if (!ours(message)) return;
        const labels = { function: message.functionName, version: message.version };
        concurrent.dec(labels);
        if (message.outcome === 'throttle') {
          throttles.inc({ function: message.functionName });
          return;
        }
        invocations.inc(labels);
        if (message.outcome !== 'success') errors.inc(labels);
        duration.observe(labels, message.durationMs / 1000);
      }),
      subscribeLifecycle('serverfull:coldstart', (message: ColdStartMessage) => {
        if (ours(message)) initDuration.observe({ function: message.functionName, version: message.version }, message.initDurationMs / 1000);
      }),
      subscribeLifecycle('serverfull:environment:create', (message: EnvironmentCreateMessage) => {
        if (ours(message)) environments.inc({ function: message.functionName, version: message.version });
      }),
      subscribeLifecycle('serverfull:environment:stop', (message: EnvironmentStopMessage) => {
        if (ours(message)) environments.dec({ function: message.functionName, version: message.version });
      }),
    ];
  }

  /** Stops counting: the server is closing. */
  close(): void {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
  }
}
