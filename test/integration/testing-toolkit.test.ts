/** `serverfull/testing`: the example suite passes in process and against a running server; the clients and startTestServer. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GetFunctionCommand } from '@aws-sdk/client-lambda';
import { httpClient, lambdaClient, startTestServer } from '../../src/testing/index.js';
import { FIXTURE_MANIFEST, REPO_ROOT } from '../helpers/fixture-server.js';
import { listeningUrl, runCli } from '../helpers/cli-process.js';
import { waitUntil } from '../helpers/wait-until.js';

const EXAMPLE_SUITE = join(REPO_ROOT, 'examples/testing/hello.test.mjs');

/** Runs the example test files with `env` (asynchronously: a server in this process may have to answer them); returns the runner's output. */
async function runExampleSuite(env: NodeJS.ProcessEnv): Promise<string> {
  const result = await promisify(execFile)(process.execPath, ['--test', '--test-reporter=tap', EXAMPLE_SUITE], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    timeout: 60_000,
  }).catch((error: { stdout?: string; stderr?: string }) => assert.fail(`example suite failed:\n${error.stdout}\n${error.stderr}`));
  assert.match(result.stdout, /# pass 3/);
  assert.match(result.stdout, /# fail 0/);
  return result.stdout;
}

describe('the example suite, two ways', () => {
  it('passes in process (SERVERFULL_TARGET unset)', async () => {
    await runExampleSuite({});
  });

  it('passes against a running server (SERVERFULL_TARGET and SERVERFULL_HTTP_TARGET)', async () => {
    const cli = runCli(['start', '--config', join(REPO_ROOT, 'examples/serverfull.json'), '--port', '0', '--http-port', '0', '--log-format', 'json']);
    try {
      const [url, httpUrl] = [await listeningUrl(cli), await listeningUrl(cli, 'API Gateway')];
      await runExampleSuite({ SERVERFULL_TARGET: url, SERVERFULL_HTTP_TARGET: httpUrl });
      // The invocations reached the remote server, not a server inside the test process. Its log comes through a
      // pipe, in no fixed order with the example suite's end: wait for the lines (a wrong target never logs them).
      const lines = () => cli.stdout().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
      await waitUntil(() => lines().some((l) => l.msg === 'request' && l.function === 'hello'), 'the server logs an invocation of hello', { detail: () => cli.stdout() });
      await waitUntil(() => lines().some((l) => l.msg === 'gateway request' && l.function === 'hello'), 'the server logs a gateway request to hello', { detail: () => cli.stdout() });
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });
});

describe('serverfull/testing clients', () => {
  it('lambdaClient runs a function in process with the server semantics: errors, timeouts, client context, logs', async () => {
    const echo = lambdaClient('echo', { config: FIXTURE_MANIFEST });
    const faults = lambdaClient('faults', { config: FIXTURE_MANIFEST });
    try {
      const result = await echo.invoke({ n: 1 }, { tail: true, clientContext: { custom: { a: 1 } } });
      assert.equal(result.functionError, undefined);
      assert.deepEqual((result.payload as { event: unknown }).event, { n: 1 });
      assert.match(result.requestId, /^[0-9a-f-]{36}$/);
      assert.equal(result.executedVersion, '$LATEST');
      assert.match(result.logs!, /REPORT RequestId: /);
      const failed = await faults.invoke({ fault: 'throw' });
      assert.equal(failed.functionError, 'Unhandled');
      assert.equal((failed.payload as { errorType: string }).errorType, 'TeapotError');
    } finally {
      await Promise.all([echo.close(), faults.close()]);
    }
  });

  it('lambdaClient runs mocks in process too', async () => {
    const mocked = lambdaClient('order', { config: join(REPO_ROOT, 'test/fixtures/mock/serverfull.json') });
    const everything = lambdaClient('echo', { config: FIXTURE_MANIFEST, serve: { mock: true } });
    try {
      assert.deepEqual((await mocked.invoke({})).payload, { orderId: 7, status: 'shipped', items: [{ sku: 'TEA-0001', qty: 2 }] });
      assert.equal((await everything.invoke({ n: 1 })).payload, null, '--mock answers the empty value instead of running echo');
    } finally {
      await Promise.all([mocked.close(), everything.close()]);
    }
  });

  it('startTestServer gives a real server on free ports and an SDK client; httpClient reaches its gateway', async () => {
    await using test = await startTestServer({ config: join(REPO_ROOT, 'examples/serverfull.json') });
    const fn = await test.lambda.send(new GetFunctionCommand({ FunctionName: 'hello' }));
    assert.equal(fn.Configuration?.FunctionName, 'hello');
    assert.ok(test.httpUrl);
    const api = httpClient({ target: test.httpUrl });
    const response = await api.request('GET', '/hello?name=Lin');
    assert.deepEqual(response.json(), { message: 'Hello, Lin!' });
    const remote = lambdaClient('hello', { target: test.url });
    assert.deepEqual((await remote.invoke({ name: 'Lin' })).payload, { message: 'Hello, Lin!' });
    await remote.close();
  });
});
