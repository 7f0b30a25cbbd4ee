import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvocationHistory, SERIES_MINUTES } from '../../src/console/invocation-history.js';
import { invocationEndChannel, invocationStartChannel, type InvocationEndMessage } from '../../src/runtime/lifecycle-events.js';

const SERVER = 9001;

/** Publishes one invocation's start and end, as the invoker does. */
function invocation(requestId: string, end: Partial<InvocationEndMessage> = {}, functionName = 'fn', serverId = SERVER, traceId = `1-00000000-${requestId.padStart(24, '0')}`): void {
  invocationStartChannel.publish({ serverId, functionName, version: '$LATEST', requestId, traceId });
  invocationEndChannel.publish({ serverId, functionName, version: '$LATEST', requestId, traceId, outcome: 'success', durationMs: 10, ...end } as InvocationEndMessage);
}

describe('InvocationHistory', () => {
  it('lists invocations newest first, by function or trace, with outcome and cold start', () => {
    let now = 1_000_000_000_000;
    const history = new InvocationHistory(SERVER, () => now);
    try {
      invocation('1', { initDurationMs: 50 });
      now += 1000;
      invocation('2', { outcome: 'functionError', errorType: 'Boom' } as Partial<InvocationEndMessage>, 'other');
      invocation('3', {}, 'fn', SERVER + 1);
      const all = history.list();
      assert.deepEqual(all.map((r) => r.requestId), ['2', '1']);
      assert.equal(all[1]!.coldStart, true);
      assert.equal(all[1]!.startedAt, 1_000_000_000_000 - 10 - 50, 'the end time less the run and the init');
      assert.equal(all[0]!.errorType, 'Boom');
      assert.deepEqual(history.list({ functionName: 'fn' }).map((r) => r.requestId), ['1']);
      assert.deepEqual(history.list({ traceId: all[0]!.traceId }).map((r) => r.requestId), ['2']);
    } finally {
      history.close();
    }
  });

  it('keeps a bounded number of invocations', () => {
    const history = new InvocationHistory(SERVER);
    try {
      for (let i = 0; i < 1500; i++) invocation(String(i));
      const all = history.list();
      assert.equal(all.length, 1000);
      assert.equal(all[0]!.requestId, '1499');
      assert.equal(all.at(-1)!.requestId, '500');
    } finally {
      history.close();
    }
  });

  it('counts per minute over the last hour: invocations, errors, throttles, cold starts, p50 and p99', () => {
    let now = 60_000 * 1_000_000 + 5000;
    const history = new InvocationHistory(SERVER, () => now);
    try {
      for (let i = 1; i <= 100; i++) invocation(`a${i}`, { durationMs: i, ...(i === 1 ? { initDurationMs: 5 } : {}) });
      invocation('t', { outcome: 'throttle', reason: 'ConcurrentInvocationLimitExceeded', durationMs: 0 } as Partial<InvocationEndMessage>);
      invocation('e', { outcome: 'timeout', durationMs: 3000 } as Partial<InvocationEndMessage>);
      const minutes = history.minutes('fn');
      assert.equal(minutes.length, SERIES_MINUTES);
      const last = minutes.at(-1)!;
      assert.equal(last.time, 60_000 * 1_000_000);
      assert.deepEqual({ ...last, time: 0 }, { time: 0, invocations: 101, errors: 1, throttles: 1, coldStarts: 1, p50: 51, p99: 100 });
      assert.equal(minutes[0]!.p50, null);
      now += 60_000 * SERIES_MINUTES;
      assert.ok(history.minutes('fn').every((m) => m.invocations === 0));
      assert.ok(history.minutes('unknown').every((m) => m.invocations === 0 && m.p99 === null));
    } finally {
      history.close();
    }
  });

  it('stops recording once closed', () => {
    const history = new InvocationHistory(SERVER);
    history.close();
    invocation('late');
    assert.deepEqual(history.list(), []);
  });
});
