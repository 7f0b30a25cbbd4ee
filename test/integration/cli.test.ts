/**
 * The `serverfull` binary: start with a manifest and settings from flags and the
 * environment, JSON logs, `invoke`, graceful SIGTERM, and start-up errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { FIXTURE_MANIFEST, REPO_ROOT, lambdaClient, tempDataDir } from '../helpers/fixture-server.js';
import { CLI, freePort, listeningUrl, runCli, waitHealthy, type CliProcess } from '../helpers/cli-process.js';
import { gate } from '../helpers/gate.js';
import { waitUntil } from '../helpers/wait-until.js';
import { InvokeCommand } from '@aws-sdk/client-lambda';

describe('serverfull start', () => {
  let cli: CliProcess;
  let url: string;
  before(async () => {
    // The port comes from the environment, the region from a flag: both layers apply. Port 0 (any free port, not the
    // default 8080) leaves no gap between choosing a port and taking it, in which a test running alongside could take it.
    cli = runCli(['start', '--config', FIXTURE_MANIFEST, '--region', 'eu-central-1', '--log-format', 'json'], { SERVERFULL_PORT: '0' });
    url = await listeningUrl(cli);
    assert.notEqual(new URL(url).port, '8080', 'the port from the environment applies');
    await waitHealthy(url, cli);
  });
  after(async () => {
    if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await cli.exited;
  });

  it('serves the manifest with settings from flags and the environment', async () => {
    const lambda = lambdaClient(url);
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: '{"via":"sdk"}' }));
    lambda.destroy();
    const json = JSON.parse(Buffer.from(out.Payload!).toString());
    assert.equal(json.env.AWS_REGION, 'eu-central-1');
    assert.equal(json.invokedFunctionArn, 'arn:aws:lambda:eu-central-1:000000000000:function:echo');
  });

  it('writes one JSON line per request and per function log line', async () => {
    const response = await fetch(`${url}/2015-03-31/functions/logs/invocations`, { method: 'POST', body: '{"who":"cli-test"}' });
    const requestId = response.headers.get('x-amzn-requestid');
    await response.text();
    // The output comes through a pipe, in no fixed order with the HTTP response: wait for the request's line.
    const logged = () => cli.stdout().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    await waitUntil(() => logged().some((line) => line.msg === 'request' && line.requestId === requestId), 'the request is logged', { detail: () => cli.stdout() });
    const lines = logged();
    const functionLine = lines.find((line) => line.msg === 'hello from cli-test');
    assert.deepEqual(
      { level: functionLine.level, function: functionLine.function, requestId: functionLine.requestId },
      { level: 'info', function: 'logs', requestId },
    );
    assert.equal(lines.find((line) => line.msg === 'a warning' && line.requestId === requestId).level, 'warn');
    const requestLine = lines.find((line) => line.msg === 'request' && line.requestId === requestId);
    assert.equal(requestLine.status, 200);
    assert.equal(requestLine.function, 'logs');
    assert.equal(typeof requestLine.durationMs, 'number');
  });

  it('serverfull invoke prints the payload, and the tail log with --tail', () => {
    const result = spawnSync(process.execPath, [CLI, 'invoke', 'logs', '--endpoint', url, '--payload', '{"who":"invoke-cli"}', '--tail'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '"logged"\n');
    assert.match(result.stderr, /INFO\thello from invoke-cli/);
    assert.match(result.stderr, /REPORT RequestId/);
  });

  it('serverfull invoke reads the payload from @file and exits 1 on a function error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-cli-'));
    writeFileSync(join(dir, 'event.json'), '{"fault":"throw"}');
    const result = spawnSync(process.execPath, [CLI, 'invoke', 'faults', '--endpoint', url, '--payload', `@${join(dir, 'event.json')}`], { encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stdout, /"errorType":"TeapotError"/);
  });

  it('serverfull invoke exits 2 on a service error', () => {
    const result = spawnSync(process.execPath, [CLI, 'invoke', 'nope', '--endpoint', url], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^serverfull invoke: ResourceNotFoundException: Function not found: arn:aws:lambda:eu-central-1:000000000000:function:nope:\$LATEST\n$/);
  });

  it('serverfull invoke exits 2 with a clear message when no server answers', async () => {
    const result = spawnSync(process.execPath, [CLI, 'invoke', 'echo', '--endpoint', `http://127.0.0.1:${await freePort()}`], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^serverfull invoke: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): is the server running\?/);
  });

  it('SIGTERM finishes the invocation in flight, then exits 0', async () => {
    const held = gate();
    const inFlight = fetch(`${url}/2015-03-31/functions/counter/invocations`, { method: 'POST', body: JSON.stringify({ gate: held.dir }) });
    await held.arrived();
    cli.child.kill('SIGTERM');
    await waitUntil(() => cli.stderr().includes('SIGTERM received, finishing invocations in flight'), 'the server takes the SIGTERM', { detail: () => cli.stderr() });
    held.open();
    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { count: number }).count, 1);
    assert.equal(await cli.exited, 0);
    await assert.rejects(fetch(`${url}/healthcheck`));
    held.remove();
  });
});

describe('serverfull start --isolation inline', () => {
  it('process.exit from a timer an inline handler left behind does not stop the server', async () => {
    const cli = runCli(['start', '--config', FIXTURE_MANIFEST, '--port', '0', '--isolation', 'inline', '--log-format', 'json']);
    try {
      const url = await listeningUrl(cli);
      const invoke = async (event: unknown) => (await fetch(`${url}/2015-03-31/functions/faults/invocations`, { method: 'POST', body: JSON.stringify(event) })).json();
      assert.deepEqual(await invoke({ fault: 'exit-later' }), { exitsLater: true });
      const ignored = /process\.exit\(4\) called by inline function code outside an invocation; ignored/;
      await waitUntil(() => ignored.test(cli.stderr()), 'the timer has called process.exit', { detail: () => cli.stderr() });
      assert.deepEqual(await invoke({ fault: 'none' }), { fine: true });
      assert.equal(cli.child.exitCode, null);
      assert.match(cli.stderr(), ignored);
    } finally {
      cli.child.kill('SIGKILL');
      await cli.exited;
    }
  });
});

describe('serverfull start: errors at start', () => {
  function startWith(manifest: unknown) {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-manifest-'));
    const path = join(dir, 'serverfull.json');
    writeFileSync(path, JSON.stringify(manifest));
    // Its own data directory: a start that got further than it should would not write into the repository.
    return spawnSync(process.execPath, [CLI, 'start', '--config', path, '--port', '0'], { encoding: 'utf8', timeout: 10_000, env: { PATH: process.env.PATH, SERVERFULL_DATA_DIR: join(dir, 'data') } });
  }

  it('a missing handler file names the function and the field', () => {
    const result = startWith({ functions: { orders: { handler: 'src/orders.handler' } } });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /function "orders": field "handler": no file src\/orders/);
  });

  it('an unknown key is refused as a typo', () => {
    const result = startWith({ functions: { orders: { handler: 'x.handler', timout: 3 } } });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /function "orders": unknown field "timout"/);
  });

  it('a bad setting from the environment names the variable', () => {
    const result = spawnSync(process.execPath, [CLI, 'start', '--config', FIXTURE_MANIFEST], { encoding: 'utf8', env: { PATH: process.env.PATH, SERVERFULL_ISOLATION: 'vm', SERVERFULL_DATA_DIR: join(tempDataDir(), 'data') } });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /SERVERFULL_ISOLATION must be one of "worker", "inline"/);
  });

  it('--help describes the options', () => {
    const result = spawnSync(process.execPath, [CLI, 'start', '--help'], { encoding: 'utf8' });
    assert.equal(result.status, 0);
    assert.match(result.stdout, /--isolation KIND/);
    assert.match(result.stdout, /--deployed-isolation KIND/);
    assert.ok(existsSync(join(REPO_ROOT, 'examples/serverfull.json')));
  });
});
