/**
 * One X-Ray trace id follows a request across functions: taken from a valid `X-Amzn-Trace-Id` on
 * Invoke or on a gateway request (an invalid one is replaced, never reflected), seen by the function
 * as `_X_AMZN_TRACE_ID` for that invocation only, handed to runtimes as `Lambda-Runtime-Trace-Id`,
 * carried on by the SDK from function to function, and on every server log line of the invocation.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/index.js';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { gate } from '../helpers/gate.js';

const TRACE = /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]$/;
const SENT = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';

/** Invokes `name` over plain HTTP with `headers` (the SDK outside a function sends no trace header). */
async function invokeRaw(url: string, name: string, event: unknown, headers: Record<string, string> = {}): Promise<any> {
  const response = await fetch(`${url}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: JSON.stringify(event), headers });
  assert.equal(response.status, 200);
  return response.json();
}

interface LogEntry { msg: string; requestId?: string; traceId?: string; function?: string }

describe('traces: inline isolation', () => {
  let fx: FixtureServer;
  const entries: LogEntry[] = [];
  before(async () => {
    fx = await startFixtureServer({
      config: join(FIXTURES, 'traces.json'),
      isolation: 'inline',
      logger: createLogger({ level: 'info', format: 'json', write: (line) => void entries.push(JSON.parse(line)) }),
    });
  });
  after(() => fx.close());

  it('gives every invocation a new trace when the caller sends none', async () => {
    const first = await invokeRaw(fx.server.url, 'b', {});
    const second = await invokeRaw(fx.server.url, 'b', {});
    assert.match(first.trace, TRACE);
    assert.match(second.trace, TRACE);
    assert.notEqual(first.trace, second.trace);
    assert.match(first.trace, /Sampled=0$/);
  });

  it("keeps a valid X-Amzn-Trace-Id from the caller", async () => {
    const out = await invokeRaw(fx.server.url, 'b', {}, { 'X-Amzn-Trace-Id': SENT });
    assert.equal(out.trace, SENT);
  });

  it('keeps the root of a header without a parent, and drops what it does not know', async () => {
    const out = await invokeRaw(fx.server.url, 'b', {}, { 'X-Amzn-Trace-Id': 'Root=1-5759E988-BD862E3FE1BE46A994272793;Lineage=a:1;Evil=x' });
    assert.match(out.trace, /^Root=1-5759e988-bd862e3fe1be46a994272793;Parent=[0-9a-f]{16};Sampled=0$/);
  });

  for (const [what, header] of [
    ['a malformed root', 'Root=1-zzzz-not-hex;Parent=53995c3f42cd8ad8'],
    ['no root at all', 'Parent=53995c3f42cd8ad8;Sampled=1'],
    ['an injection attempt', 'Root=1-5759e988-bd862e3fe1be46a994272793x;Sampled=1<script>'],
    ['a huge header', `Root=1-5759e988-bd862e3fe1be46a994272793;${'x'.repeat(5000)}`],
  ] as const) {
    it(`replaces an invalid header (${what}) with a new trace, never reflecting it`, async () => {
      const out = await invokeRaw(fx.server.url, 'b', {}, { 'X-Amzn-Trace-Id': header });
      assert.match(out.trace, TRACE);
      assert.ok(!out.trace.includes('5759e988') || what === 'a huge header', out.trace);
      assert.ok(!JSON.stringify(out).includes('script'));
    });
  }

  it('gives two concurrent inline invocations of one function each its own _X_AMZN_TRACE_ID', async () => {
    const held = gate();
    try {
      const first = 'Root=1-5759e988-111111111111111111111111;Parent=1111111111111111;Sampled=0';
      const second = 'Root=1-5759e988-222222222222222222222222;Parent=2222222222222222;Sampled=0';
      const one = invokeRaw(fx.server.url, 'c', { gate: held.dir }, { 'X-Amzn-Trace-Id': first });
      const two = invokeRaw(fx.server.url, 'c', { gate: held.dir }, { 'X-Amzn-Trace-Id': second });
      // Both are inside the handler at once before either reads its trace again.
      await held.arrived(2);
      held.open();
      const [a, b] = await Promise.all([one, two]);
      assert.deepEqual([a.trace, a.afterGate], [first, first]);
      assert.deepEqual([b.trace, b.afterGate], [second, second]);
    } finally {
      held.remove();
    }
  });

  it('does not leave the trace in the server process outside an invocation', () => {
    assert.equal(process.env._X_AMZN_TRACE_ID, undefined);
  });

  it('follows one trace id from a gateway request through a -> b -> c, with the SDK carrying it', async () => {
    entries.length = 0;
    const response = await fetch(`${fx.server.httpUrl}/chain`, { method: 'POST', body: JSON.stringify({ next: ['b', 'c'] }), headers: { 'X-Amzn-Trace-Id': SENT } });
    assert.equal(response.status, 200);
    const out = await response.json() as any;
    assert.equal(out.eventHeader, SENT, 'the gateway event carries the header');
    assert.equal(out.trace, SENT);
    assert.equal(out.inner.trace, SENT);
    assert.equal(out.inner.inner.trace, SENT);
    assert.equal(out.inner.inner.inner, undefined);
    // Every function's log line names its own request and the one trace.
    const seen = entries.filter((entry) => entry.msg.startsWith('trace seen'));
    assert.deepEqual(seen.map((entry) => entry.function).sort(), ['a', 'b', 'c']);
    for (const entry of seen) {
      assert.equal(entry.traceId, '1-5759e988-bd862e3fe1be46a994272793');
      assert.match(entry.requestId ?? '', /^[0-9a-f-]{36}$/);
    }
    assert.equal(new Set(seen.map((entry) => entry.requestId)).size, 3);
    // And so do the request lines of the gateway and of the two nested Invoke calls.
    const requests = entries.filter((entry) => entry.msg === 'request' || entry.msg === 'gateway request');
    assert.equal(requests.length, 3);
    for (const entry of requests) assert.equal(entry.traceId, '1-5759e988-bd862e3fe1be46a994272793');
  });

  it('starts a trace for a gateway request without one, and puts it in the event', async () => {
    const response = await fetch(`${fx.server.httpUrl}/chain`, { method: 'POST', body: '{}', headers: { 'X-Amzn-Trace-Id': 'Root=bogus' } });
    const out = await response.json() as any;
    assert.match(out.trace, TRACE);
    assert.equal(out.eventHeader, out.trace);
  });
});

for (const isolation of ['worker', 'process'] as const) {
  describe(`traces: ${isolation} isolation`, () => {
    let fx: FixtureServer;
    before(async () => {
      fx = await startFixtureServer({ config: join(FIXTURES, 'traces.json'), isolation });
    });
    after(() => fx.close());

    it('sets _X_AMZN_TRACE_ID per invocation, and the SDK carries it through a -> b -> c', async () => {
      const out = await invokeRaw(fx.server.url, 'a', { next: ['b', 'c'] }, { 'X-Amzn-Trace-Id': SENT });
      assert.deepEqual([out.trace, out.inner.trace, out.inner.inner.trace], [SENT, SENT, SENT]);
      const again = await invokeRaw(fx.server.url, 'a', {});
      assert.match(again.trace, TRACE);
      assert.notEqual(again.trace, SENT, 'a warm environment gets the new invocation\'s trace');
    });
  });
}

describe('traces: a custom runtime (process isolation)', () => {
  let fx: FixtureServer;
  before(async () => {
    fx = await startFixtureServer({
      config: undefined,
      root: join(FIXTURES, 'trace-runtime'),
      functions: { shell: { runtime: 'provided.al2023', handler: 'unused.handler', timeout: 30 } },
    });
  });
  after(() => fx.close());

  it('hands the trace to the runtime in the Lambda-Runtime-Trace-Id header of /next', async () => {
    const out = await invokeRaw(fx.server.url, 'shell', {}, { 'X-Amzn-Trace-Id': SENT });
    assert.equal(out.trace, SENT);
    const fresh = await invokeRaw(fx.server.url, 'shell', {});
    assert.match(fresh.trace, TRACE);
  });
});
