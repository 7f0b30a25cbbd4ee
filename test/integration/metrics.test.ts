/**
 * `GET /metrics` of a real server: exact counts per function and version for successes, function
 * errors, timeouts and throttles; histograms with one sample per invocation and per cold start;
 * gauges of running invocations, environments and queued events; the gateway's requests by
 * method, route and status; each server its own registry; and the Lambda API's guards in front
 * (browser checks, and with `--auth sigv4` a signed request allowed `lambda:GetMetrics`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand, InvokeCommand, PublishVersionCommand, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { SignatureV4 } from '@smithy/signature-v4';
import { writeKeysFile } from '../../src/auth/keys-file.js';
import { NodeSha256 } from '../../src/auth/node-sha256.js';
import { serve, type RunningServer } from '../../src/index.js';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { gate } from '../helpers/gate.js';
import { waitUntil } from '../helpers/wait-until.js';
import { handlerZip } from '../helpers/zip-fixture.js';

const MANIFEST = join(FIXTURES, 'metrics.json');

/** One sample of the exposition text: its labels and value. */
interface Sample { readonly name: string; readonly labels: Record<string, string>; readonly value: number }

/** Parses the Prometheus text format (the subset prom-client writes). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The server's metrics, scraped once, with a lookup by name and exact labels (undefined: no such series). */
async function scrape(url: string): Promise<{ text: string; value(name: string, labels: Record<string, string>): number | undefined }> {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const samples = parseMetrics(text);
  return {
    text,
    value(name, labels) {
      const keys = Object.keys(labels);
      const found = samples.find((s) => s.name === name && Object.keys(s.labels).length === keys.length && keys.every((k) => s.labels[k] === labels[k]));
      return found?.value;
    },
  };
}

const latest = (fn: string) => ({ function: fn, version: '$LATEST' });

describe('GET /metrics', () => {
  let fx: FixtureServer;
  before(async () => {
    fx = await startFixtureServer({ config: MANIFEST, isolation: 'worker' });
  });
  after(() => fx.close());

  it('counts N successful invocations as N, with N duration samples and one init for one cold start', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await fx.invoke('echo', { i })).FunctionError, undefined);
    const metrics = await scrape(fx.server.url);
    assert.equal(metrics.value('serverfull_invocations_total', latest('echo')), 5);
    assert.equal(metrics.value('serverfull_errors_total', latest('echo')), undefined, 'no error series for a function without errors');
    assert.equal(metrics.value('serverfull_duration_seconds_count', latest('echo')), 5);
    assert.ok(metrics.value('serverfull_duration_seconds_sum', latest('echo'))! > 0);
    assert.equal(metrics.value('serverfull_duration_seconds_bucket', { le: '+Inf', ...latest('echo') }), 5);
    assert.equal(metrics.value('serverfull_init_duration_seconds_count', latest('echo')), 1);
    assert.equal(metrics.value('serverfull_environments', latest('echo')), 1);
    assert.equal(metrics.value('serverfull_concurrent_executions', latest('echo')), 0);
  });

  it('counts function errors and timeouts as errors, and as invocations', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await fx.invoke('faults', { fault: 'throw' })).FunctionError, 'Unhandled');
    assert.equal((await fx.invoke('hangs')).FunctionError, 'Unhandled');
    const metrics = await scrape(fx.server.url);
    assert.equal(metrics.value('serverfull_invocations_total', latest('faults')), 3);
    assert.equal(metrics.value('serverfull_errors_total', latest('faults')), 3);
    assert.equal(metrics.value('serverfull_invocations_total', latest('hangs')), 1);
    assert.equal(metrics.value('serverfull_errors_total', latest('hangs')), 1);
    assert.equal(metrics.value('serverfull_duration_seconds_count', latest('hangs')), 1);
    // The timed-out environment was stopped.
    assert.equal(metrics.value('serverfull_environments', latest('hangs')), 0);
  });

  it('counts throttles by function only, and not as invocations', async () => {
    for (let i = 0; i < 4; i++) await assert.rejects(fx.invoke('blocked'), TooManyRequestsException);
    const metrics = await scrape(fx.server.url);
    assert.equal(metrics.value('serverfull_throttles_total', { function: 'blocked' }), 4);
    assert.equal(metrics.value('serverfull_invocations_total', latest('blocked')), undefined);
    assert.equal(metrics.value('serverfull_duration_seconds_count', latest('blocked')), undefined);
    assert.equal(metrics.value('serverfull_concurrent_executions', latest('blocked')), 0);
  });

  it('labels by the executed version', async () => {
    await fx.lambda.send(new CreateFunctionCommand({
      FunctionName: 'deployed', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: 'arn:aws:iam::000000000000:role/test',
      Code: { ZipFile: await handlerZip('one') }, Timeout: 30,
    }));
    const { Version: version } = await fx.lambda.send(new PublishVersionCommand({ FunctionName: 'deployed' }));
    await fx.invoke('deployed', {}, { Qualifier: version });
    await fx.invoke('deployed', {}, { Qualifier: version });
    await fx.invoke('deployed', {});
    const metrics = await scrape(fx.server.url);
    assert.equal(metrics.value('serverfull_invocations_total', { function: 'deployed', version: version! }), 2);
    assert.equal(metrics.value('serverfull_invocations_total', latest('deployed')), 1, 'the $LATEST count is its own');
  });

  it('gauges running invocations and environments while they run, and one init sample per cold start', async () => {
    const held = gate();
    try {
      const running = [fx.invoke('held', { gate: held.dir }), fx.invoke('held', { gate: held.dir })];
      await held.arrived(2);
      const during = await scrape(fx.server.url);
      assert.equal(during.value('serverfull_concurrent_executions', latest('held')), 2);
      assert.equal(during.value('serverfull_environments', latest('held')), 2);
      held.open();
      await Promise.all(running);
      await fx.invoke('held', {});
      const afterwards = await scrape(fx.server.url);
      assert.equal(afterwards.value('serverfull_concurrent_executions', latest('held')), 0);
      assert.equal(afterwards.value('serverfull_invocations_total', latest('held')), 3);
      assert.equal(afterwards.value('serverfull_init_duration_seconds_count', latest('held')), 2, 'two cold starts, then a warm one');
    } finally {
      held.remove();
    }
  });

  it('gauges queued events until they have run', async () => {
    const held = gate();
    try {
      for (let i = 0; i < 3; i++) {
        const out = await fx.lambda.send(new InvokeCommand({ FunctionName: 'held', InvocationType: 'Event', Payload: JSON.stringify({ gate: held.dir }) }));
        assert.equal(out.StatusCode, 202);
      }
      await held.arrived(3);
      assert.equal((await scrape(fx.server.url)).value('serverfull_async_events_queued', latest('held')), 3);
      held.open();
      await waitUntil(async () => (await scrape(fx.server.url)).value('serverfull_async_events_queued', latest('held')) === 0, 'the queued events are done');
    } finally {
      held.remove();
    }
  });

  it('counts the gateway\'s requests by method, route key and status, never by raw path', async () => {
    const http = fx.server.httpUrl!;
    for (const id of ['1', '2', '3']) assert.equal((await fetch(`${http}/items/${id}`)).status, 200);
    assert.equal((await fetch(`${http}/blocked`)).status, 429);
    assert.equal((await fetch(`${http}/nowhere/${'x'.repeat(50)}`)).status, 404);
    assert.equal((await fetch(`${http}/items/1`, { method: 'PURGE' })).status, 404);
    const metrics = await scrape(fx.server.url);
    assert.equal(metrics.value('serverfull_http_requests_total', { method: 'GET', route: 'GET /items/{id}', status: '200' }), 3);
    assert.equal(metrics.value('serverfull_http_request_duration_seconds_count', { method: 'GET', route: 'GET /items/{id}', status: '200' }), 3);
    assert.equal(metrics.value('serverfull_http_requests_total', { method: 'GET', route: 'GET /blocked', status: '429' }), 1);
    assert.equal(metrics.value('serverfull_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }), 1);
    assert.equal(metrics.value('serverfull_http_requests_total', { method: 'other', route: 'unmatched', status: '404' }), 1);
    assert.ok(!metrics.text.includes('xxxxx'), 'no raw path in a label');
  });

  it('includes the process metrics prom-client collects', async () => {
    const metrics = await scrape(fx.server.url);
    assert.ok(metrics.value('process_cpu_user_seconds_total', {})! >= 0);
    assert.match(metrics.text, /^nodejs_heap_size_used_bytes \d/m);
  });

  it('keeps each server\'s counts apart in one process', async () => {
    const before = (await scrape(fx.server.url)).value('serverfull_invocations_total', latest('echo'));
    const other = await startFixtureServer({ config: MANIFEST, isolation: 'inline' });
    try {
      await other.invoke('echo', {});
      assert.equal((await scrape(other.server.url)).value('serverfull_invocations_total', latest('echo')), 1);
      assert.equal((await scrape(fx.server.url)).value('serverfull_invocations_total', latest('echo')), before);
    } finally {
      await other.close();
    }
  });

  it('refuses a request from a web page, as every Lambda API request', async () => {
    for (const headers of [{ 'Sec-Fetch-Site': 'cross-site' }, { Origin: 'https://evil.example' }] as Record<string, string>[]) {
      const response = await fetch(`${fx.server.url}/metrics`, { headers });
      assert.equal(response.status, 403);
      assert.equal(response.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    }
  });
});

describe('GET /metrics with --auth sigv4', () => {
  const ADMIN = { accessKeyId: 'AKIAADMIN00000000001', secretAccessKey: 'admin-secret-0000000000000000000000000' };
  const INVOKER = { accessKeyId: 'AKIAINVOKER000000001', secretAccessKey: 'invoker-secret-000000000000000000000000' };
  let dir: string;
  let server: RunningServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'serverfull-metrics-auth-'));
    writeKeysFile(join(dir, 'keys.json'), {
      users: {
        admin: { accessKeys: [ADMIN], policy: { Statement: [{ Effect: 'Allow', Action: 'lambda:*', Resource: '*' }] } },
        invoker: { accessKeys: [INVOKER], policy: { Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: '*' }] } },
      },
    });
    server = await serve({
      auth: 'sigv4', port: 0, logLevel: 'silent', dataDir: join(dir, 'data'), env: {}, root: FIXTURES, isolation: 'inline', keys: join(dir, 'keys.json'),
      functions: { echo: { handler: 'functions/echo.handler', timeout: 30 } },
    });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signedScrape(credentials: { accessKeyId: string; secretAccessKey: string }): Promise<Response> {
    const { host, hostname, port, protocol } = new URL(server.url);
    const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'lambda', sha256: NodeSha256 });
    const signed = await signer.sign({ method: 'GET', protocol, hostname, port: Number(port), path: '/metrics', query: {}, headers: { host } });
    return fetch(`${server.url}/metrics`, { headers: signed.headers });
  }

  it('refuses an unsigned request', async () => {
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
  });

  it('answers a signed request allowed lambda:GetMetrics', async () => {
    const response = await signedScrape(ADMIN);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /^# TYPE serverfull_invocations_total counter$/m);
  });

  it('refuses a signed request whose policy does not allow lambda:GetMetrics', async () => {
    const response = await signedScrape(INVOKER);
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    assert.match(await response.text(), /lambda:GetMetrics/);
  });
});
