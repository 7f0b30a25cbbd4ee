import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';

/**
 * Run in a process of its own, since the process metrics start once per process: watches the monitor prom-client
 * starts (it reaches it through require('perf_hooks'), the object patched here), starts one server's metrics, and
 * prints the monitors' options, the constant and the text.
 */
const WATCHING_SCRIPT = `
import { createRequire } from 'node:module';
const perfHooks = createRequire(import.meta.url)('node:perf_hooks');
const monitors = [];
const original = perfHooks.monitorEventLoopDelay;
perfHooks.monitorEventLoopDelay = (options) => (monitors.push(options ?? null), original(options));
const { EVENT_LOOP_SAMPLE_MS, ServerMetrics } = await import(${JSON.stringify(new URL('../../src/metrics/server-metrics.js', import.meta.url).href)});
const metrics = new ServerMetrics(1, { forEachPending() {}, forEachOldest() {} });
const text = await metrics.text();
metrics.close();
process.stdout.write(JSON.stringify({ monitors, sampleMs: EVENT_LOOP_SAMPLE_MS, text }));
`;

describe('server metrics', () => {
  it('sample the event loop\'s delay every 100 ms, not the 10 ms that would wake an idle server 100 times a second', () => {
    const { monitors, sampleMs, text } = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', WATCHING_SCRIPT], { encoding: 'utf8' })) as {
      monitors: unknown[]; sampleMs: number; text: string;
    };
    assert.equal(sampleMs, 100);
    assert.deepEqual(monitors, [{ resolution: 100 }]);
    // The histogram's series are still there.
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds \d/m);
  });
});
