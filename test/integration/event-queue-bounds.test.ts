/**
 * The bounds of the Event (asynchronous) invocation queue, through @aws-sdk/client-lambda over
 * real HTTP: past the event count or the payload bytes, Event invocations are throttled with 429
 * TooManyRequestsException; an event that waited past the maximum event age is dropped, with a
 * log line that holds none of its content.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TooManyRequestsException } from '@aws-sdk/client-lambda';
import type { LogFields, Logger } from '../../src/log.js';
import { startFixtureServer } from '../helpers/fixture-server.js';
import { gate } from '../helpers/gate.js';
import { waitUntil } from '../helpers/wait-until.js';

/** A logger that keeps its lines, to wait for one. */
function recordingLogger(): Logger & { lines: { msg: string; fields: LogFields }[] } {
  const lines: { msg: string; fields: LogFields }[] = [];
  return { lines, enabled: () => true, log: (_level, msg, fields = {}) => void lines.push({ msg, fields }) };
}

function eventFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'serverfull-event-')), 'event.json');
}

describe('Event queue bounds', () => {
  it('throttles Event invocations past the queue\'s event count, and accepts them again once it drains', async () => {
    const fx = await startFixtureServer({ eventQueueLimit: 2 });
    const held = gate();
    try {
      for (let i = 0; i < 2; i++) {
        const out = await fx.invoke('record', { file: eventFile(), value: i, gate: held.dir }, { InvocationType: 'Event' });
        assert.equal(out.StatusCode, 202);
      }
      await held.arrived(2);
      await assert.rejects(
        fx.invoke('record', { file: eventFile(), value: 3 }, { InvocationType: 'Event' }),
        (error: Error & { $metadata: { httpStatusCode?: number } }) => {
          assert.ok(error instanceof TooManyRequestsException, `${error.name}: ${error.message}`);
          assert.equal(error.$metadata.httpStatusCode, 429);
          assert.equal(error.message, 'Rate Exceeded.');
          return true;
        },
      );
      // Synchronous invocations are not queued: the queue's bound does not apply to them.
      const sync = await fx.invoke('echo', { hello: 'sync' });
      assert.equal(sync.StatusCode, 200);
      held.open();
      await waitUntil(() => fx.server.inFlight === 0, 'the queued events finish');
      const file = eventFile();
      const again = await fx.invoke('record', { file, value: 'after' }, { InvocationType: 'Event' });
      assert.equal(again.StatusCode, 202);
      await waitUntil(() => existsSync(file), 'the event accepted after the queue drained runs');
    } finally {
      held.open();
      await fx.close();
      held.remove();
    }
  });

  it('throttles Event invocations past the queue\'s payload bytes', async () => {
    const fx = await startFixtureServer({ eventQueueBytes: 1000 });
    const held = gate();
    try {
      const big = { file: eventFile(), value: 'x'.repeat(600), gate: held.dir };
      assert.equal((await fx.invoke('record', big, { InvocationType: 'Event' })).StatusCode, 202);
      await held.arrived(1);
      await assert.rejects(
        fx.invoke('record', { file: eventFile(), value: 'y'.repeat(600) }, { InvocationType: 'Event' }),
        (error: Error) => error instanceof TooManyRequestsException,
      );
      // A smaller event still fits next to the first.
      const small = eventFile();
      assert.equal((await fx.invoke('record', { file: small, value: 'small' }, { InvocationType: 'Event' })).StatusCode, 202);
      await waitUntil(() => existsSync(small), 'the small event runs');
    } finally {
      held.open();
      await fx.close();
      held.remove();
    }
  });

  it('drops an event older than the maximum event age, logging who and when but not the event', async () => {
    const logger = recordingLogger();
    // One execution for the whole server: the second event waits, throttled, behind the first.
    const fx = await startFixtureServer({ concurrency: 1, maxEventAge: 1, logger });
    const held = gate();
    try {
      assert.equal((await fx.invoke('record', { file: eventFile(), value: 'first', gate: held.dir }, { InvocationType: 'Event' })).StatusCode, 202);
      await held.arrived(1);
      const late = eventFile();
      const out = await fx.invoke('record', { file: late, value: 'a-secret-payload-value' }, { InvocationType: 'Event' });
      assert.equal(out.StatusCode, 202);
      await waitUntil(() => logger.lines.some((line) => /older than the maximum event age/.test(line.msg)), 'the waiting event is dropped');
      const dropped = logger.lines.find((line) => /older than the maximum event age/.test(line.msg))!;
      assert.equal(dropped.fields.function, 'record');
      assert.equal(dropped.fields.requestId, out.$metadata.requestId);
      assert.equal(dropped.fields.maxEventAge, 1);
      assert.ok(!logger.lines.some((line) => JSON.stringify(line).includes('a-secret-payload-value')), 'no log line holds the event');
      held.open();
      await waitUntil(() => fx.server.inFlight === 0, 'the first event finishes');
      assert.equal(existsSync(late), false, 'the dropped event never ran');
    } finally {
      held.open();
      await fx.close();
      held.remove();
    }
  });
});
