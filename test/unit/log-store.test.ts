/** The log store on its own: batches, bounds by size and age, restarts, hostile lines. */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, it } from 'node:test';
import { compileFilterPattern } from '../../src/logs/filter-pattern.js';
import { EVENT_OVERHEAD_BYTES, LOG_STORE_FILE, LogStore, MAX_EVENT_BYTES, type EventPosition, type LogStoreOptions } from '../../src/logs/log-store.js';
import { droppedRows, openLogDatabase, prepareLogDatabase, PRUNE_CUTOFF } from '../../src/logs/log-writer.js';
import { END_LINES, START_LINE } from '../../src/logs/record-lines.js';
import type { RecordedEnd, RecordedStart } from '../../src/runtime/invocation-recorder.js';
import type { FunctionLogLevel } from '../../src/runtime/execution-environment.js';
import { waitUntil } from '../helpers/wait-until.js';

const STREAM = '2024/01/31/[$LATEST]0123456789abcdef0123456789abcdef';
const END: RecordedEnd = { durationMs: 1.5, memorySize: 128, memoryUsedMB: 10, initDurationMs: undefined, initFailed: false, status: 'success', errorType: undefined };

describe('LogStore', () => {
  const dirs: string[] = [];
  const stores: LogStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const open = (options: Partial<LogStoreOptions> & { dataDir?: string } = {}) => {
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'serverfull-logstore-'));
    if (!dirs.includes(dataDir)) dirs.push(dataDir);
    const store = new LogStore({ retentionDays: 7, maxBytesPerFunction: 1024 * 1024, ...options, dataDir });
    stores.push(store);
    return store;
  };
  let clock = Date.now;
  const invoke = (store: LogStore, requestId: string, lines: string[], extra: Partial<RecordedStart> = {}, end: Partial<RecordedEnd> = {}) => {
    const handle = store.begin({ functionName: 'fn', version: '$LATEST', requestId, traceId: undefined, logStreamName: STREAM, startTime: clock(), ...extra });
    for (const line of lines) store.line(handle, 'INFO', line, undefined);
    store.end(handle, { ...END, ...end });
  };
  const all = async (store: LogStore, functionName = 'fn', traceId?: string) => {
    await store.sync();
    return store.filterEvents({ functionName, traceId, matches: () => true, limit: 10_000, maxBytes: Infinity, maxScanned: Infinity }).events;
  };

  it('stores START, the output, END and REPORT of each invocation, and its record, in a private file', async () => {
    const store = open();
    invoke(store, 'req-1', ['hello'], { traceId: '1-5759e988-bd862e3fe1be46a994272793' }, { initDurationMs: 12.5 });
    const messages = (await all(store)).map((event) => event.message);
    assert.equal(messages.length, 4);
    assert.equal(messages[0], 'START RequestId: req-1 Version: $LATEST\n');
    assert.match(messages[1]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z\treq-1\tINFO\thello\n$/);
    assert.equal(messages[2], 'END RequestId: req-1\n');
    assert.match(messages[3]!, /^REPORT RequestId: req-1\tDuration: 1\.50 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 10 MB\tInit Duration: 12\.50 ms\t\n$/);
    assert.ok((await all(store)).every((event) => event.requestId === 'req-1' && event.traceId === '1-5759e988-bd862e3fe1be46a994272793' && event.stream === STREAM));
    const [record] = store.invocations('fn');
    assert.deepEqual({ ...record, startTime: 0 }, {
      requestId: 'req-1', functionName: 'fn', version: '$LATEST', stream: STREAM, startTime: 0, durationMs: 1.5, status: 'success',
      errorType: undefined, coldStart: true, initDurationMs: 12.5, traceId: '1-5759e988-bd862e3fe1be46a994272793',
    });
    assert.equal(statSync(join(dirs[0]!, LOG_STORE_FILE)).mode & 0o777, 0o600);
  });

  it('sends a batch once it holds 512 lines, without waiting for its timer: a long batch would stall the server while it is copied', async () => {
    const store = open({ flushIntervalMs: 3_600_000 });
    for (let i = 0; i < 600; i++) invoke(store, `req-${i}`, []);
    // Read without `sync`: only the line bound sends anything within the hour.
    await waitUntil(() => store.invocations('fn', 1000).length === 600, 'the 600 invocations are written');
  });

  it('filters on the trace id of the invocation', async () => {
    const store = open();
    invoke(store, 'traced', ['a'], { traceId: '1-aaaaaaaa-000000000000000000000001' });
    invoke(store, 'other', ['b'], { traceId: '1-aaaaaaaa-000000000000000000000002' });
    invoke(store, 'untraced', ['c']);
    assert.deepEqual([...new Set((await all(store, 'fn', '1-aaaaaaaa-000000000000000000000001')).map((event) => event.requestId))], ['traced']);
  });

  it('keeps what was written across a restart', async () => {
    const first = open();
    invoke(first, 'before-restart', ['kept']);
    await first.close();
    const again = open({ dataDir: dirs[0] });
    assert.equal((await all(again)).length, 4);
    assert.equal(again.invocations('fn')[0]!.requestId, 'before-restart');
  });

  it('drops the oldest events first past the bytes bound, with their invocation records', async () => {
    const store = open({ maxBytesPerFunction: 4000 });
    for (let i = 0; i < 30; i++) {
      invoke(store, `req-${String(i).padStart(2, '0')}`, ['x'.repeat(50)]);
      await store.sync();
    }
    const events = (await all(store));
    const stored = events.reduce((sum, event) => sum + Buffer.byteLength(event.message) + EVENT_OVERHEAD_BYTES, 0);
    assert.ok(stored <= 4000, `${stored} bytes stored`);
    assert.ok(events.some((event) => event.requestId === 'req-29'), 'the newest invocation is kept');
    assert.ok(!events.some((event) => event.requestId === 'req-00'), 'the oldest invocation is dropped');
    const kept = new Set(events.map((event) => event.requestId));
    assert.ok(store.invocations('fn').every((record) => kept.has(record.requestId)));
    assert.equal(store.groups()[0]!.storedBytes, stored);
  });

  it('drops a stream once the bound has dropped its every event, and keeps a stream with an event left at the same time', async () => {
    // Every event at the same millisecond: the bound cuts between events of one time, by id.
    const fixed = Date.now();
    clock = () => fixed;
    const store = open({ maxBytesPerFunction: 4000, now: clock });
    invoke(store, 'early', ['x'.repeat(50)], { logStreamName: 'early-stream' });
    for (let i = 0; i < 12; i++) {
      // A stream with one invocation among the others, which the bound has not reached yet.
      if (i === 8) invoke(store, 'tied', ['x'.repeat(50)], { logStreamName: 'tied-stream' });
      invoke(store, `req-${String(i).padStart(2, '0')}`, ['x'.repeat(50)]);
      await store.sync();
    }
    const streams = () => store.streamsOf('fn').map((stream) => stream.name).sort();
    assert.deepEqual(streams(), [STREAM, 'tied-stream'].sort(), 'the stream whose events all went is gone; the others stay');
    const events = await all(store);
    assert.ok(events.some((event) => event.stream === 'tied-stream'), 'tied-stream still has an event, at the cut\'s time');
    assert.ok(!events.some((event) => event.stream === 'early-stream'));
    for (let i = 12; i < 20; i++) {
      invoke(store, `req-${String(i).padStart(2, '0')}`, ['x'.repeat(50)]);
      await store.sync();
    }
    assert.deepEqual(streams(), [STREAM]);
    clock = Date.now;
  });

  it('drops events older than the retention, at open and as it goes, and a group left empty', async () => {
    const twoDaysAgo = Date.now() - 2 * 86_400_000;
    clock = () => twoDaysAgo;
    const old = open({ retentionDays: 30, now: clock });
    invoke(old, 'old', ['old line']);
    invoke(old, 'old-other', ['old line'], { functionName: 'other' });
    await old.sync();
    assert.deepEqual(old.groups().map((group) => group.functionName), ['fn', 'other']);
    await old.close();
    clock = Date.now;
    const store = open({ dataDir: dirs[0], retentionDays: 1 });
    invoke(store, 'new', ['new line'], { functionName: 'other' });
    assert.deepEqual(await all(store), []);
    assert.deepEqual((await all(store, 'other')).map((event) => event.requestId), ['new', 'new', 'new', 'new']);
    assert.deepEqual(store.groups().map((group) => group.functionName), ['other']);
  });

  it('keeps 0 bytes when told so', async () => {
    const store = open({ maxBytesPerFunction: 0 });
    invoke(store, 'gone', ['line']);
    await store.sync();
    assert.deepEqual((await all(store)), []);
  });

  it('stores a hostile line safely: cut to CloudWatch\'s event size, control characters and fake START lines kept as data', async () => {
    const store = open({ maxBytesPerFunction: 64 * 1024 * 1024 });
    const control = 'a\u0000b\u001b[2J\rc\u0007\u009b';
    const handle = store.begin({ functionName: 'fn', version: '$LATEST', requestId: 'real', traceId: undefined, logStreamName: STREAM, startTime: Date.now() });
    store.line(handle, undefined, '', 'é'.repeat(300_000) + '\n');
    store.line(handle, undefined, '', `${control}\n`);
    store.line(handle, undefined, '', 'START RequestId: forged Version: $LATEST\n');
    store.end(handle, END);
    const events = (await all(store));
    assert.equal(events.length, 6);
    assert.ok(Buffer.byteLength(events[1]!.message) <= MAX_EVENT_BYTES);
    assert.ok(events[1]!.message.startsWith('éé') && !events[1]!.message.includes('\uFFFD'));
    assert.equal(events[2]!.message, `${control}\n`);
    assert.equal(events[3]!.message, 'START RequestId: forged Version: $LATEST\n');
    assert.ok(events.every((event) => event.requestId === 'real'));
    assert.deepEqual(store.invocations('fn').map((record) => record.requestId), ['real']);
  });

  it('takes a flood of output from a function, 64 MB in 256 KB lines, with its writer thread\'s young generation capped', async () => {
    const store = open({ maxBytesPerFunction: 8 * 1024 * 1024 });
    const line = 'x'.repeat(256 * 1024);
    invoke(store, 'flood', Array.from({ length: 256 }, () => line));
    invoke(store, 'after', ['still stored']);
    const events = await all(store);
    // The writer lived through it: the flood's newest lines, within the bound, and the invocation after it.
    const after = events.filter((event) => event.requestId === 'after').map((event) => event.message);
    assert.equal(after.length, 4);
    assert.match(after[1]!, /\tINFO\tstill stored\n$/);
    assert.ok(events.some((event) => event.requestId === 'flood' && event.message.includes('xxxx')));
  });

  it('reads GetLogEvents windows of a stream forward and backward', async () => {
    const store = open();
    invoke(store, 'r1', ['one', 'two', 'three']);
    const ids = (await all(store)).map((event) => event.id);
    const tail = store.streamEvents({ functionName: 'fn', stream: STREAM, beforeId: Number.MAX_SAFE_INTEGER, limit: 2, maxBytes: Infinity });
    assert.deepEqual(tail.map((event) => event.id), ids.slice(-2));
    const head = store.streamEvents({ functionName: 'fn', stream: STREAM, afterId: 0, limit: 2, maxBytes: Infinity });
    assert.deepEqual(head.map((event) => event.id), ids.slice(0, 2));
  });

  describe('one row per invocation', () => {
    /** A store written when every line was a row (by the scenario below), and what it read back then. */
    const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/logs-store-v0', import.meta.url));
    const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as {
      events: Array<{ ingestionTime?: number }>; groups: unknown[]; streams: Array<{ lastIngestionTime?: number }>; invocations: unknown[];
    };
    /** Rows as the fixture's JSON has them (no undefined fields), their ingestion times (the clock's when written) left out. */
    const withoutIngestion = <T extends { ingestionTime?: number; lastIngestionTime?: number }>(rows: T[]) =>
      JSON.parse(JSON.stringify(rows.map((row) => ({ ...row, ingestionTime: 0, lastIngestionTime: 0 })))) as unknown;
    const S1 = '2096/10/02/[$LATEST]0123456789abcdef0123456789abcdef';
    const S2 = '2096/10/02/[1]fedcba9876543210fedcba9876543210';
    /** The fixture's invocations: warm and cold, silent, with output, an error with a forged START line, a timeout. */
    const scenario = (store: LogStore, clock: { t: number }) => {
      const invocation = (requestId: string, stream: string, version: string, lines: Array<[FunctionLogLevel, string, string | undefined]>, end: Partial<RecordedEnd>, traceId?: string) => {
        const handle = store.begin({ functionName: 'hello', version, requestId, traceId, logStreamName: stream, startTime: clock.t });
        for (const [level, text, raw] of lines) {
          clock.t += 1;
          store.line(handle, level, text, raw);
        }
        clock.t += 2;
        store.end(handle, { durationMs: 1.25, memorySize: 128, memoryUsedMB: 42, initDurationMs: undefined, initFailed: false, status: 'success', errorType: undefined, ...end });
        clock.t += 5;
      };
      invocation('11111111-1111-4111-8111-111111111111', S1, '$LATEST', [['INFO', 'hello world', undefined]], { initDurationMs: 33.5 }, '1-5759e988-bd862e3fe1be46a994272793');
      invocation('22222222-2222-4222-8222-222222222222', S1, '$LATEST', [], {});
      invocation('33333333-3333-4333-8333-333333333333', S1, '$LATEST', [['ERROR', 'boom', 'raw error line\n'], [undefined, '', 'START RequestId: forged Version: $LATEST\n']],
        { status: 'error', errorType: 'Error' });
      invocation('44444444-4444-4444-8444-444444444444', S2, '1',
        [['ERROR', 'Task timed out after 3.00 seconds', '2096-10-02T00:00:00.000Z 44444444-4444-4444-8444-444444444444 Task timed out after 3.00 seconds\n']],
        { durationMs: 3000, status: 'timeout', errorType: 'Sandbox.Timedout' });
    };
    const read = async (store: LogStore) => {
      await store.sync();
      return {
        events: store.filterEvents({ functionName: 'hello', matches: () => true, limit: 10_000, maxBytes: Infinity, maxScanned: Infinity }).events,
        groups: store.groups(), streams: store.streamsOf('hello').sort((a, b) => a.name.localeCompare(b.name)), invocations: store.invocations('hello'),
      };
    };

    it('reads back byte for byte what a store of every line as a row read: lines, ids, order, streams and stored bytes', async () => {
      const clock = { t: 4_000_000_000_000 };
      const store = open({ retentionDays: 36_500, now: () => clock.t });
      scenario(store, clock);
      const got = await read(store);
      assert.deepEqual(withoutIngestion(got.events), withoutIngestion(expected.events as typeof got.events));
      assert.deepEqual(withoutIngestion(got.streams), withoutIngestion(expected.streams as typeof got.streams));
      assert.deepEqual(got.groups.map((group) => ({ ...group, creationTime: 0 })), (expected.groups as typeof got.groups).map((group) => ({ ...group, creationTime: 0 })));
      assert.deepEqual(JSON.parse(JSON.stringify(got.invocations)), expected.invocations);
      // A GetLogEvents window and a request's own lines read the same lines.
      const stream = got.events.filter((event) => event.stream === S1);
      assert.deepEqual(store.streamEvents({ functionName: 'hello', stream: S1, afterId: 2, limit: 3, maxBytes: Infinity }), stream.slice(2, 5));
      assert.deepEqual(store.streamEvents({ functionName: 'hello', stream: S1, beforeId: stream[5]!.id, limit: 2, maxBytes: Infinity }), stream.slice(3, 5));
      assert.deepEqual(store.invocationEvents('hello', '33333333-3333-4333-8333-333333333333', 0), got.events.filter((event) => event.requestId === '33333333-3333-4333-8333-333333333333'));
      // Filter patterns match the built lines as they matched the stored ones; pages of 3 add up to the whole, in order.
      for (const pattern of ['"Init Duration"', '"REPORT RequestId"', 'START', '"Status: error"', 'RequestId -REPORT']) {
        const matches = compileFilterPattern(pattern);
        const filtered = store.filterEvents({ functionName: 'hello', matches, limit: 10_000, maxBytes: Infinity, maxScanned: Infinity }).events;
        assert.deepEqual(filtered.map((event) => event.id), (expected.events as StoredEvents).filter((event) => matches(event.message)).map((event) => event.id), pattern);
      }
      assert.deepEqual(pagedIds(store, 'hello', 3), got.events.map((event) => event.id));
    });

    it('opens a store written before: its lines read as before, once, and new invocations follow them', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'serverfull-logstore-'));
      cpSync(FIXTURE, dataDir, { recursive: true });
      rmSync(join(dataDir, 'expected.json'));
      const clock = { t: 4_000_000_001_000 };
      const store = open({ dataDir, retentionDays: 36_500, now: () => clock.t });
      assert.deepEqual(withoutIngestion((await read(store)).events), withoutIngestion(expected.events as StoredEvents));
      invoke(store, 'after-upgrade', [], { functionName: 'hello', startTime: clock.t, logStreamName: S1 });
      const events = (await read(store)).events;
      assert.deepEqual(events.slice(0, expected.events.length).map((event) => event.id), (expected.events as StoredEvents).map((event) => event.id));
      assert.deepEqual(events.slice(expected.events.length).map((event) => [event.id > 16, event.message.split(' ')[0]]), [[true, 'START'], [true, 'END'], [true, 'REPORT']]);
      const stored = events.reduce((sum, event) => sum + Buffer.byteLength(event.message) + EVENT_OVERHEAD_BYTES, 0);
      assert.equal(store.groups()[0]!.storedBytes, stored);
      await store.close();
      // Past a smaller bound, the oldest lines go, with the records of the invocations they were of.
      const bounded = open({ dataDir, retentionDays: 36_500, maxBytesPerFunction: 1200 });
      const left = (await read(bounded));
      assert.equal(left.groups[0]!.storedBytes, left.events.reduce((sum, event) => sum + Buffer.byteLength(event.message) + EVENT_OVERHEAD_BYTES, 0));
      assert.ok(left.groups[0]!.storedBytes <= 1200);
      assert.equal(left.events.at(-1)!.requestId, 'after-upgrade');
      assert.ok(!left.events.some((event) => event.requestId === '11111111-1111-4111-8111-111111111111'));
      assert.ok(!left.invocations.some((record) => record.requestId === '11111111-1111-4111-8111-111111111111'));
    });

    it('shows a running invocation\'s START before its output, and ends it in a later batch', async () => {
      const store = open();
      const handle = store.begin({ functionName: 'fn', version: '$LATEST', requestId: 'running', traceId: undefined, logStreamName: STREAM, startTime: Date.now() });
      store.line(handle, 'INFO', 'working', undefined);
      const early = await all(store);
      assert.deepEqual(early.map((event) => event.message.split(/[ \t]/)[0]), ['START', early[1]!.message.split('\t')[0]]);
      assert.deepEqual(store.invocations('fn'), []);
      store.line(handle, 'INFO', 'still working', undefined);
      store.end(handle, END);
      const events = await all(store);
      assert.deepEqual(events.slice(0, 2).map((event) => [event.id, event.message]), early.map((event) => [event.id, event.message]));
      assert.deepEqual(events.slice(3).map((event) => event.message.split(' ')[0]), ['END', 'REPORT']);
      assert.equal(store.invocations('fn').length, 1);
      assert.equal(store.groups()[0]!.storedBytes, events.reduce((sum, event) => sum + Buffer.byteLength(event.message) + EVENT_OVERHEAD_BYTES, 0));
    });

    it('keeps the END and REPORT of an invocation whose START a bound dropped while it ran', async () => {
      const store = open({ maxBytesPerFunction: 2000 });
      const handle = store.begin({ functionName: 'fn', version: '$LATEST', requestId: 'long', traceId: undefined, logStreamName: STREAM, startTime: Date.now() });
      store.line(handle, 'INFO', 'begun', undefined);
      await store.sync();
      for (let i = 0; i < 12; i++) invoke(store, `short-${i}`, ['x'.repeat(40)]);
      await store.sync();
      assert.ok(!(await all(store)).some((event) => event.requestId === 'long'), 'the running invocation\'s lines went first');
      store.end(handle, END);
      const events = await all(store);
      assert.deepEqual(events.filter((event) => event.requestId === 'long').map((event) => event.message.split(' ')[0]), ['END', 'REPORT']);
      assert.ok(store.invocations('fn').some((record) => record.requestId === 'long'));
      assert.equal(store.groups()[0]!.storedBytes, events.reduce((sum, event) => sum + Buffer.byteLength(event.message) + EVENT_OVERHEAD_BYTES, 0));
    });
  });

  describe('records kept many to a row', () => {
    const STREAMS = ['2024/01/31/[$LATEST]aaaa', '2024/01/31/[$LATEST]bbbb', '2024/01/31/[1]cccc'];
    /** Silent and talkative invocations over three streams in batches of hundreds, at times that tie, one running across batches. */
    const workload = async (store: LogStore, clock: { t: number }, count: number) => {
      const long = store.begin({ functionName: 'fn', version: '$LATEST', requestId: 'long', traceId: undefined, logStreamName: STREAMS[0]!, startTime: clock.t });
      store.line(long, 'INFO', 'long begun', undefined);
      await store.sync();
      for (let i = 0; i < count; i++) {
        if (i % 3 === 0) clock.t += 1;
        // The event loop turns: past 512 lines, a batch goes.
        if (i % 100 === 0) await new Promise(setImmediate);
        const requestId = `r-${String(i).padStart(4, '0')}`;
        const lines = i % 7 === 0 ? [`line of ${requestId}`] : [];
        // Some start before the invocations of the batch written before them.
        const startTime = i % 11 === 0 ? clock.t - 40 : clock.t;
        invoke(store, requestId, lines, { logStreamName: STREAMS[i % 3]!, startTime, traceId: i % 5 === 0 ? '1-aaaaaaaa-000000000000000000000005' : undefined },
          { status: i % 13 === 0 ? 'error' : 'success', errorType: i % 13 === 0 ? 'Error' : undefined });
        if (i === Math.floor(count / 2)) {
          store.end(long, END);
          await store.sync();
        }
      }
      await store.sync();
    };
    const before = (a: { timestamp: number; id: number }, b: { timestamp: number; id: number }) => a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.id < b.id);

    it('reads back every line of every invocation, in order, whichever way it is read', async () => {
      const clock = { t: Date.now() };
      const store = open({ now: () => clock.t, flushIntervalMs: 3_600_000 });
      const count = 1500;
      await workload(store, clock, count);
      const events = await all(store);
      assert.equal(events.length, 3 * (count + 1) + Math.ceil(count / 7) + 1);
      for (let i = 1; i < events.length; i++) assert.ok(before(events[i - 1]!, events[i]!), `events ${i - 1} and ${i} in time then id order`);
      assert.equal(new Set(events.map((event) => event.id)).size, events.length);
      // Each invocation's lines: START, its output, END, REPORT, ids in that order, REPORT right after END.
      const byRequest = groupBy(events, (event) => event.requestId!);
      for (const [requestId, lines] of byRequest) {
        const ordered = [...lines].sort((a, b) => a.id - b.id);
        const kinds = ordered.map((event) => event.message.split(/[ \t]/)[0]);
        assert.equal(kinds[0], 'START', requestId);
        assert.deepEqual(kinds.slice(-2), ['END', 'REPORT'], requestId);
        assert.equal(ordered.at(-1)!.id, ordered.at(-2)!.id + 1, requestId);
        assert.match(ordered.at(-1)!.message, requestId === 'r-0013' ? /Status: error\tError Type: Error/ : /Duration: 1\.50 ms/);
      }
      // Nearly every record is in a block, a few per stream and batch; the one that ran across batches is a row.
      const db = openLogDatabase(join(dirs.at(-1)!, LOG_STORE_FILE));
      try {
        assert.deepEqual(db.prepare('SELECT request_id FROM invocations').all().map((row) => (row as { request_id: string }).request_id), ['long']);
        const blocks = (db.prepare('SELECT count(*) AS n FROM record_blocks').get() as { n: number }).n;
        assert.ok(blocks >= 3 && blocks <= 30, `${blocks} blocks`);
      } finally {
        db.close();
      }
      // GetLogEvents: each stream in id order, forward and backward, in pages.
      for (const stream of STREAMS) {
        const expected = events.filter((event) => event.stream === stream).sort((a, b) => a.id - b.id);
        const forward: number[] = [];
        for (let afterId = 0; ;) {
          const page = store.streamEvents({ functionName: 'fn', stream, afterId, limit: 97, maxBytes: Infinity });
          if (page.length === 0) break;
          forward.push(...page.map((event) => event.id));
          afterId = page.at(-1)!.id;
        }
        assert.deepEqual(forward, expected.map((event) => event.id), stream);
        const backward: number[] = [];
        for (let beforeId = Number.MAX_SAFE_INTEGER; ;) {
          const page = store.streamEvents({ functionName: 'fn', stream, beforeId, limit: 89, maxBytes: Infinity });
          if (page.length === 0) break;
          backward.unshift(...page.map((event) => event.id));
          beforeId = page[0]!.id;
        }
        assert.deepEqual(backward, expected.map((event) => event.id), stream);
        const window = store.streamEvents({ functionName: 'fn', stream, afterId: 0, startTime: expected[100]!.timestamp, endTime: expected[200]!.timestamp, limit: 10_000, maxBytes: Infinity });
        assert.deepEqual(window, expected.filter((event) => event.timestamp >= expected[100]!.timestamp && event.timestamp <= expected[200]!.timestamp));
      }
      // FilterLogEvents in pages, by trace id, within a time window; one invocation's lines; the console's list.
      assert.deepEqual(pagedIds(store, 'fn', 101), events.map((event) => event.id));
      assert.deepEqual((await all(store, 'fn', '1-aaaaaaaa-000000000000000000000005')).map((event) => event.id),
        events.filter((event) => event.traceId === '1-aaaaaaaa-000000000000000000000005').map((event) => event.id));
      const [from, to] = [events[900]!.timestamp, events[1400]!.timestamp];
      assert.deepEqual(store.filterEvents({ functionName: 'fn', startTime: from, endTime: to, matches: () => true, limit: 10_000, maxBytes: Infinity, maxScanned: Infinity }).events,
        events.filter((event) => event.timestamp >= from && event.timestamp <= to));
      for (const requestId of ['r-0000', 'r-0700', 'r-1499', 'long']) {
        assert.deepEqual(store.invocationEvents('fn', requestId, 0), events.filter((event) => event.requestId === requestId));
      }
      const records = store.invocations('fn', 10_000);
      assert.equal(records.length, count + 1);
      for (let i = 1; i < records.length; i++) assert.ok(records[i - 1]!.startTime >= records[i]!.startTime);
      // A short list stops early: the newest, as the whole list has them (records of one millisecond in any order).
      assert.deepEqual(store.invocations('fn', 25).map((record) => record.startTime), records.slice(0, 25).map((record) => record.startTime));
      assert.equal(records.find((record) => record.requestId === 'r-0013')!.status, 'error');
      assert.equal(store.groups()[0]!.storedBytes, events.reduce((sum, event) => sum + Buffer.byteLength(event.message) + EVENT_OVERHEAD_BYTES, 0));
    });

    it('keeps hostile fields of a record as data: an error type and a trace id that look like the block\'s own text', async () => {
      const store = open();
      const errorType = 'x"],["forged",1,2],["\u0000\n';
      const traceId = '1-"]]}\u2028';
      invoke(store, 'first', [], { traceId, startTime: Date.now() - 10 });
      invoke(store, 'second', [], {}, { status: 'error', errorType });
      const events = await all(store);
      assert.deepEqual(events.map((event) => event.requestId), ['first', 'first', 'first', 'second', 'second', 'second']);
      assert.equal(events[0]!.traceId, traceId);
      assert.ok(events[5]!.message.includes(`Error Type: ${errorType}`), events[5]!.message);
      assert.deepEqual(store.invocations('fn').map((record) => [record.requestId, record.errorType]), [['second', errorType], ['first', undefined]]);
    });

    it('drops whole blocks past the bound, oldest first, and counts what is left exactly', async () => {
      const clock = { t: Date.now() };
      const store = open({ now: () => clock.t, flushIntervalMs: 3_600_000, maxBytesPerFunction: 200_000 });
      await workload(store, clock, 3000);
      const events = await all(store);
      const stored = events.reduce((sum, event) => sum + Buffer.byteLength(event.message) + EVENT_OVERHEAD_BYTES, 0);
      assert.equal(store.groups()[0]!.storedBytes, stored);
      assert.ok(stored <= 200_000, `${stored} bytes`);
      assert.ok(events.some((event) => event.requestId === 'r-2999'), 'the newest invocation is kept');
      assert.ok(!events.some((event) => event.requestId === 'r-0001'), 'the oldest are dropped');
      // A silent invocation's record is dropped whole: its three lines, or none.
      const silent = groupBy(events.filter((event) => event.requestId !== 'long' && Number(event.requestId!.slice(2)) % 7 !== 0), (event) => event.requestId!);
      for (const [requestId, lines] of silent) assert.equal(lines.length, 3, requestId);
      const listed = new Set(store.invocations('fn', 10_000).map((record) => record.requestId));
      for (const requestId of silent.keys()) assert.ok(listed.has(requestId), requestId);
    });
  });

  describe('pruning past the bound', () => {
    const planOf = (db: DatabaseSync, sql: string, params: number) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array<string | number>(params).fill(0)) as Array<{ detail: string }>).map((row) => row.detail).join('\n');

    it('walks each index from its oldest entry up to the position, not every record of the function', () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'serverfull-logstore-'));
      dirs.push(dataDir);
      const db = openLogDatabase(join(dataDir, LOG_STORE_FILE));
      try {
        prepareLogDatabase(db);
        for (const inclusive of [true, false]) {
          const { lines, records, blocks } = droppedRows(inclusive);
          const bound = inclusive ? 3 : 1;
          const blockPlan = planOf(db, `SELECT id FROM record_blocks WHERE ${blocks}`, 1 + bound);
          assert.match(blockPlan, /USING (COVERING )?INDEX record_blocks_by_last \(function_name=\? AND last_time<\?\)/, blockPlan);
          const recordPlan = planOf(db, `SELECT rowid FROM invocations WHERE ${records}`, 1 + 2 * bound);
          assert.match(recordPlan, /USING (COVERING )?INDEX invocations_by_time \(function_name=\? AND start_time<\?\)/, recordPlan);
          assert.match(recordPlan, /USING (COVERING )?INDEX invocations_ends_only \(function_name=\? AND end_time<\?\)/, recordPlan);
          const linePlan = planOf(db, `SELECT id FROM log_events WHERE ${lines}`, 1 + bound);
          assert.match(linePlan, /USING (COVERING )?INDEX log_events_by_time \(function_name=\? AND timestamp<\?\)/, linePlan);
        }
        // Where a pruning stops: four index walks merged, never a sort of every row of the function.
        const cutoff = planOf(db, PRUNE_CUTOFF, 2);
        assert.match(cutoff, /MERGE \(UNION ALL\)/, cutoff);
        for (const index of ['log_events_by_time', 'invocations_by_time', 'invocations_ends_only', 'record_blocks_by_last']) assert.match(cutoff, new RegExp(`INDEX ${index}\\b`), cutoff);
        assert.doesNotMatch(cutoff, /TEMP B-TREE/, cutoff);
      } finally {
        db.close();
      }
    });

    it('takes the same rows as "before the position in time, then id order", at equal times too', () => {
      const db = new DatabaseSync(':memory:');
      try {
        prepareLogDatabase(db);
        const insert = db.prepare(`INSERT INTO invocations (rowid, request_id, function_name, version, stream, start_time, duration_ms, status, cold_start, lines, end_id, end_time)
          VALUES (?, ?, ?, '$LATEST', 's', ?, 0, 'success', 0, ?, ?, ?)`);
        let id = 1;
        for (const name of ['fn', 'other']) {
          for (const time of [10, 20, 20, 20, 30]) {
            for (const lines of [START_LINE, START_LINE | END_LINES, END_LINES]) {
              insert.run(id, `r${id}`, name, time, lines, id + 100, time + (id % 3));
              id++;
            }
          }
        }
        const reference = (time: string, key: string, inclusive: boolean) => (inclusive ? `(${time} < ? OR (${time} = ? AND ${key} <= ?))` : `${time} < ?`);
        for (const inclusive of [true, false]) {
          const { records } = droppedRows(inclusive);
          const expected = `function_name = ? AND ((lines & ${START_LINE} AND ${reference('start_time', 'rowid', inclusive)}) OR (lines = ${END_LINES} AND ${reference('end_time', 'end_id', inclusive)}))`;
          for (const time of [5, 10, 20, 21, 22, 30, 40]) {
            for (const key of [0, 5, 8, 9, 107, 108, 200]) {
              const at = inclusive ? [time, time, key] : [time];
              const rows = (condition: string) => (db.prepare(`SELECT rowid FROM invocations WHERE ${condition} ORDER BY rowid`).all('fn', ...at, ...at) as Array<{ rowid: number }>).map((row) => row.rowid);
              assert.deepEqual(rows(records), rows(expected), `inclusive ${inclusive}, position ${time}/${key}`);
            }
          }
        }
      } finally {
        db.close();
      }
    });

    it('adds the index of END-only records to a store written before it', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'serverfull-logstore-'));
      const store = open({ dataDir });
      invoke(store, 'one', ['x']);
      await store.close();
      const file = join(dataDir, LOG_STORE_FILE);
      const db = openLogDatabase(file);
      db.exec('DROP INDEX invocations_ends_only');
      db.close();
      const reopened = open({ dataDir });
      assert.equal((await all(reopened)).length, 4);
      const check = openLogDatabase(file);
      try {
        assert.ok(check.prepare("SELECT 1 FROM sqlite_master WHERE name = 'invocations_ends_only'").get());
      } finally {
        check.close();
      }
    });
  });
});

type StoredEvents = Array<{ id: number; ingestionTime: number; message: string }>;

/** The ids of a function's events read by FilterLogEvents in pages of `limit`, each after the last's token. */
function pagedIds(store: LogStore, functionName: string, limit: number): number[] {
  const ids: number[] = [];
  let after: EventPosition | undefined;
  do {
    const page = store.filterEvents({ functionName, matches: () => true, after, limit, maxBytes: Infinity, maxScanned: Infinity });
    ids.push(...page.events.map((event) => event.id));
    after = page.next;
  } while (after !== undefined);
  return ids;
}

/** `items` by `key`, in their order (Map.groupBy, which Node.js 22's types lack). */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group === undefined) groups.set(key(item), [item]);
    else group.push(item);
  }
  return groups;
}

