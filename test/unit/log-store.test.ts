/** The log store on its own: batches, bounds by size and age, restarts, hostile lines. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { EVENT_OVERHEAD_BYTES, LOG_STORE_FILE, LogStore, MAX_EVENT_BYTES, type LogStoreOptions } from '../../src/logs/log-store.js';
import type { RecordedEnd, RecordedStart } from '../../src/runtime/invocation-recorder.js';

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

  it('reads GetLogEvents windows of a stream forward and backward', async () => {
    const store = open();
    invoke(store, 'r1', ['one', 'two', 'three']);
    const ids = (await all(store)).map((event) => event.id);
    const tail = store.streamEvents({ functionName: 'fn', stream: STREAM, beforeId: Number.MAX_SAFE_INTEGER, limit: 2, maxBytes: Infinity });
    assert.deepEqual(tail.map((event) => event.id), ids.slice(-2));
    const head = store.streamEvents({ functionName: 'fn', stream: STREAM, afterId: 0, limit: 2, maxBytes: Infinity });
    assert.deepEqual(head.map((event) => event.id), ids.slice(0, 2));
  });
});
