/**
 * Lifecycle events of a real server driven over HTTP by the AWS SDK, seen by a
 * `diagnostics_channel` subscriber in the test's process: success, function error, crash,
 * timeout, throttle, cold then warm starts, failed init, idle reaping and server close.
 */
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { TooManyRequestsException } from '@aws-sdk/client-lambda';
import { lifecycleChannelNames, type InvocationEndMessage, type LifecycleMessages } from '../../src/index.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { waitUntil } from '../helpers/wait-until.js';

type Name = keyof LifecycleMessages;

/** Subscribes to every lifecycle channel with plain `diagnostics_channel`, as a user would. */
function listen() {
  const seen: Array<{ channel: Name; message: any }> = [];
  const listeners = (Object.values(lifecycleChannelNames) as Name[]).map((channel) => {
    const listener = (message: unknown) => void seen.push({ channel, message });
    diagnosticsChannel.subscribe(channel, listener);
    return [channel, listener] as const;
  });
  const of = <N extends Name>(channel: N, where: (m: LifecycleMessages[N]) => boolean = () => true): Array<LifecycleMessages[N]> =>
    seen.filter((s) => s.channel === channel && where(s.message)).map((s) => s.message);
  return {
    of,
    /** Waits for one message on `channel` that `where` accepts, and returns it. */
    async one<N extends Name>(channel: N, where: (m: LifecycleMessages[N]) => boolean, what: string): Promise<LifecycleMessages[N]> {
      await waitUntil(() => of(channel, where).length > 0, what, { detail: () => JSON.stringify(seen.slice(-10)) });
      return of(channel, where)[0]!;
    },
    stop: () => {
      for (const [channel, listener] of listeners) diagnosticsChannel.unsubscribe(channel, listener);
    },
  };
}

for (const isolation of ['worker', 'process'] as const) {
  describe(`lifecycle events over HTTP (${isolation})`, () => {
    let fx: FixtureServer;
    let events: ReturnType<typeof listen>;
    before(async () => {
      events = listen();
      fx = await startFixtureServer({ isolation });
    });
    after(async () => {
      await fx?.close();
      events.stop();
    });

    const endOf = (requestId: string) => events.one('serverfull:invocation:end', (m) => m.requestId === requestId, `the end of ${requestId}`);

    it('a cold start, then a warm one, each with a start and a successful end', async () => {
      const cold = await fx.invoke('echo', { n: 1 });
      const coldId = cold.$metadata.requestId!;
      const start = await events.one('serverfull:invocation:start', (m) => m.requestId === coldId, 'the cold start begins');
      assert.deepEqual(start, { serverId: fx.server.serverId, functionName: 'echo', version: '$LATEST', requestId: coldId, traceId: start.traceId });
      assert.match(start.traceId, /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
      const created = await events.one('serverfull:environment:create', (m) => m.functionName === 'echo', 'an environment for echo');
      assert.equal(created.kind, isolation);
      assert.equal(created.version, '$LATEST');
      const coldStart = await events.one('serverfull:coldstart', (m) => m.requestId === coldId, 'the cold start');
      assert.equal(coldStart.functionName, 'echo');
      assert.equal(coldStart.initSucceeded, true);
      assert.ok(coldStart.initDurationMs > 0);
      const coldEnd = await endOf(coldId);
      assert.equal(coldEnd.outcome, 'success');
      assert.equal(coldEnd.initDurationMs, coldStart.initDurationMs);
      assert.ok(coldEnd.durationMs >= 0);

      const warm = await fx.invoke('echo', { n: 2 });
      const warmId = warm.$metadata.requestId!;
      const warmEnd = await endOf(warmId);
      assert.equal(warmEnd.outcome, 'success');
      assert.equal(warmEnd.initDurationMs, undefined);
      assert.equal(events.of('serverfull:coldstart', (m) => m.requestId === warmId).length, 0, 'no cold start for a warm invocation');
      assert.equal(events.of('serverfull:environment:create', (m) => m.functionName === 'echo').length, 1, 'the warm invocation reuses the environment');
    });

    it('a function error names its error type', async () => {
      const out = await fx.invoke('faults', { fault: 'throw' });
      assert.equal(out.FunctionError, 'Unhandled');
      const end = await endOf(out.$metadata.requestId!);
      assert.deepEqual([end.outcome, end.outcome === 'functionError' && end.errorType], ['functionError', 'TeapotError']);
    });

    it('a runtime that exits ends its invocation with the exit error and its environment as a crash', async () => {
      const out = await fx.invoke('faults', { fault: 'exit', code: 3 });
      const end = await endOf(out.$metadata.requestId!);
      assert.deepEqual([end.outcome, end.outcome === 'functionError' && end.errorType], ['functionError', 'Runtime.ExitError']);
      await events.one('serverfull:environment:stop', (m) => m.functionName === 'faults' && m.reason === 'crash', 'the crashed environment stops');
    });

    it('a timeout ends the invocation as timeout and stops its environment', async () => {
      const out = await fx.invoke('hangs');
      assert.equal(out.FunctionError, 'Unhandled');
      const end = await endOf(out.$metadata.requestId!);
      assert.equal(end.outcome, 'timeout');
      const created = await events.one('serverfull:environment:create', (m) => m.functionName === 'hangs', 'an environment for hangs');
      const stopped = await events.one('serverfull:environment:stop', (m) => m.functionName === 'hangs', 'the timed-out environment stops');
      assert.deepEqual(stopped, { serverId: fx.server.serverId, functionName: 'hangs', version: '$LATEST', environmentId: created.environmentId, kind: isolation, reason: 'timeout' });
    });

    it('a throttle (reserved concurrency 0) ends with its reason and creates no environment', async () => {
      await assert.rejects(fx.invoke('blocked'), TooManyRequestsException);
      const end = await events.one('serverfull:invocation:end', (m) => m.functionName === 'blocked', 'the throttled end');
      assert.equal(end.outcome, 'throttle');
      assert.equal(end.outcome === 'throttle' && end.reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
      assert.equal(events.of('serverfull:invocation:start', (m) => m.requestId === end.requestId).length, 1, 'a throttle has its start too');
      assert.equal(events.of('serverfull:environment:create', (m) => m.functionName === 'blocked').length, 0);
    });

    it('a failed init is a cold start that did not succeed, and its environment stops as initFailed', async () => {
      const out = await fx.invoke('import-error');
      const requestId = out.$metadata.requestId!;
      const coldStart = await events.one('serverfull:coldstart', (m) => m.requestId === requestId, 'the failed cold start');
      assert.equal(coldStart.initSucceeded, false);
      const end = await endOf(requestId);
      assert.equal(end.outcome, 'functionError');
      await events.one('serverfull:environment:stop', (m) => m.functionName === 'import-error' && m.reason === 'initFailed', 'the environment stops');
    });

    it('every invocation that started has ended, once', () => {
      const started = events.of('serverfull:invocation:start').map((m) => m.requestId).sort();
      const ended = events.of('serverfull:invocation:end').map((m: InvocationEndMessage) => m.requestId).sort();
      assert.deepEqual(ended, started);
    });

    it('closing the server stops every environment still running, as close', async () => {
      const running = events.of('serverfull:environment:create')
        .filter((c) => !events.of('serverfull:environment:stop').some((s) => s.environmentId === c.environmentId));
      assert.ok(running.some((c) => c.functionName === 'echo'));
      await fx.close();
      for (const environment of running) {
        const stopped = await events.one('serverfull:environment:stop', (m) => m.environmentId === environment.environmentId, `environment ${environment.environmentId} stops`);
        assert.equal(stopped.reason, 'close');
        assert.equal(stopped.kind, isolation);
      }
    });
  });
}

describe('lifecycle events: idle environments', () => {
  it('an environment idle past idleTimeout stops as idle', async () => {
    const events = listen();
    const fx = await startFixtureServer({ isolation: 'worker', idleTimeout: 1 });
    try {
      const out = await fx.invoke('counter');
      await endOfRequest(events, out.$metadata.requestId!);
      const created = await events.one('serverfull:environment:create', (m) => m.functionName === 'counter', 'an environment for counter');
      const stopped = await events.one('serverfull:environment:stop', (m) => m.environmentId === created.environmentId, 'the idle environment is reaped');
      assert.equal(stopped.reason, 'idle');
    } finally {
      await fx.close();
      events.stop();
    }
  });
});

function endOfRequest(events: ReturnType<typeof listen>, requestId: string) {
  return events.one('serverfull:invocation:end', (m) => m.requestId === requestId, `the end of ${requestId}`);
}
