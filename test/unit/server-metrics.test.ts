import { strict as assert } from 'node:assert';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type { IntervalHistogram, EventLoopMonitorOptions } from 'node:perf_hooks';
import type { AsyncInvocations } from '../../src/runtime/async-invocations.js';

// prom-client reaches the monitor through require('perf_hooks'): the same object is watched here, before the first
// ServerMetrics starts the process metrics (this file runs in a process of its own).
const perfHooks = createRequire(import.meta.url)('node:perf_hooks') as typeof import('node:perf_hooks');

describe('server metrics', () => {
  it('sample the event loop\'s delay every 100 ms, not the 10 ms that would wake an idle server 100 times a second', async () => {
    const monitors: Array<EventLoopMonitorOptions | undefined> = [];
    const original = perfHooks.monitorEventLoopDelay;
    perfHooks.monitorEventLoopDelay = (options?: EventLoopMonitorOptions): IntervalHistogram => {
      monitors.push(options);
      return original(options);
    };
    try {
      const { EVENT_LOOP_SAMPLE_MS, ServerMetrics } = await import('../../src/metrics/server-metrics.js');
      const noEvents = { forEachPending: () => undefined, forEachOldest: () => undefined } as unknown as AsyncInvocations;
      const metrics = new ServerMetrics(1, noEvents);
      try {
        assert.equal(EVENT_LOOP_SAMPLE_MS, 100);
        assert.deepEqual(monitors, [{ resolution: EVENT_LOOP_SAMPLE_MS }]);
        // The histogram's series are still there.
        assert.match(await metrics.text(), /^nodejs_eventloop_lag_p99_seconds \d/m);
      } finally {
        metrics.close();
      }
    } finally {
      perfHooks.monitorEventLoopDelay = original;
    }
  });
});
