/**
 * Reading stored logs from the command line: `serverfull logs` (filter, since, trace id, follow,
 * escaped control characters) and the real `aws logs tail [--follow]` against a running server.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { serve, type RunningServer } from '../../src/index.js';
import { LogStore } from '../../src/logs/log-store.js';
import { CLI } from '../helpers/cli-process.js';
import { FIXTURES } from '../helpers/fixture-server.js';
import { waitUntil } from '../helpers/wait-until.js';

const AWS = '/usr/bin/aws';
const run = promisify(execFile);
const STREAM = '2024/01/31/[$LATEST]0123456789abcdef0123456789abcdef';
const TRACE = '1-5759e988-bd862e3fe1be46a994272793';

describe('serverfull logs and aws logs tail', { timeout: 120_000, concurrency: true }, () => {
  let dir: string;
  let server: RunningServer;
  let lambda: LambdaClient;
  const children: ChildProcess[] = [];
  const invoke = async (name: string, event: unknown) =>
    (await lambda.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(event) }))).$metadata.requestId!;
  const logs = (args: string[]) => run(process.execPath, [CLI, 'logs', ...args, '--endpoint', server.url], { env: { PATH: process.env.PATH, HOME: dir } });
  const awsEnv = () => ({ PATH: process.env.PATH, HOME: dir, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_PAGER: '' });
  /** Starts a following process and returns what it has printed so far, on demand. */
  const follow = (file: string, args: string[], env: NodeJS.ProcessEnv) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk) => (out += chunk));
    child.stderr!.on('data', (chunk) => (err += chunk));
    return { output: () => out, detail: () => `stdout: ${out}\nstderr: ${err}` };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'serverfull-logs-cli-'));
    // A log written before the server starts, by an invocation with a trace id.
    const seeded = new LogStore({ dataDir: join(dir, 'data'), retentionDays: 7, maxBytesPerFunction: 1024 * 1024 });
    for (const [requestId, traceId] of [['traced-request', TRACE], ['untraced-request', undefined]] as const) {
      const handle = seeded.begin({ functionName: 'seeded', version: '$LATEST', requestId, traceId, logStreamName: STREAM, startTime: Date.now() });
      seeded.line(handle, 'INFO', `work of ${requestId}`, undefined);
      seeded.end(handle, { durationMs: 1, memorySize: 128, memoryUsedMB: 1, initDurationMs: undefined, initFailed: false, status: 'success', errorType: undefined });
    }
    await seeded.close();
    server = await serve({
      port: 0, logLevel: 'silent', env: {}, dataDir: join(dir, 'data'), root: FIXTURES,
      functions: { logs: { handler: 'functions/logs.handler', timeout: 30 }, echo: { handler: 'functions/echo.handler', timeout: 30 } },
    });
    lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    await invoke('logs', { who: 'the first call \u001b[31m' });
  });
  after(async () => {
    for (const child of children) child.kill();
    lambda.destroy();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the log as aws logs tail does: time, stream, message; control characters escaped', async () => {
    const { stdout } = await logs(['logs']);
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z \d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32} START RequestId: \S+ Version: \$LATEST$/);
    assert.match(lines.at(-1)!, / REPORT RequestId: /);
    assert.ok(stdout.includes('hello from the first call \\u001b[31m'));
    assert.ok(!stdout.includes('\u001b'), 'no raw escape reaches the terminal');
  });

  it('--filter keeps the matching lines only', async () => {
    const { stdout } = await logs(['logs', '--filter', '"a warning"']);
    const lines = stdout.trimEnd().split('\n');
    assert.ok(lines.length >= 1 && lines.every((line) => line.endsWith('\tWARN\ta warning')), stdout);
  });

  it('--since starts where it says', async () => {
    assert.equal((await logs(['logs', '--since', new Date(Date.now() + 60_000).toISOString()])).stdout, '');
    assert.match((await logs(['logs', '--since', '1h'])).stdout, /START RequestId/);
    await assert.rejects(logs(['logs', '--since', 'yesterday-ish']), { code: 2, stderr: /--since yesterday-ish: not a duration/ });
  });

  it('--trace-id keeps the lines of the invocations with that trace id', async () => {
    const { stdout } = await logs(['seeded', '--trace-id', TRACE]);
    assert.match(stdout, /work of traced-request/);
    assert.match(stdout, /START RequestId: traced-request/);
    assert.doesNotMatch(stdout, /untraced-request/);
  });

  it('says so when a function has no log', async () => {
    await assert.rejects(logs(['nothing-logged']), { code: 2, stderr: /ResourceNotFoundException: The specified log group does not exist\./ });
  });

  it('--follow prints new lines as they come', async (t) => {
    const followed = follow(process.execPath, [CLI, 'logs', 'echo', '--follow', '--endpoint', server.url], { PATH: process.env.PATH, HOME: dir });
    const requestId = await invoke('echo', { n: 1 });
    await waitUntil(() => followed.output().includes(`END RequestId: ${requestId}`), 'serverfull logs --follow prints the invocation', { signal: t.signal, detail: followed.detail });
    const later = await invoke('echo', { n: 2 });
    await waitUntil(() => followed.output().includes(`REPORT RequestId: ${later}`), 'serverfull logs --follow prints the next one', { signal: t.signal, detail: followed.detail });
    assert.equal(followed.output().split(`START RequestId: ${requestId}`).length, 2, 'each line once');
  });

  const awsSkip = existsSync(AWS) ? false : `${AWS} not installed (apt-get install awscli)`;

  it('aws logs tail prints the stored log', { skip: awsSkip }, async () => {
    const { stdout } = await run(AWS, ['logs', 'tail', '/aws/lambda/logs', '--endpoint-url', server.url, '--region', 'us-east-1'], { env: awsEnv() });
    assert.match(stdout, /\[\$LATEST\][0-9a-f]{32} START RequestId: /);
    assert.match(stdout, /\tINFO\thello from the first call/);
    assert.match(stdout, / REPORT RequestId: /);
    const filtered = await run(AWS, ['logs', 'tail', '/aws/lambda/logs', '--filter-pattern', 'warning', '--endpoint-url', server.url, '--region', 'us-east-1'], { env: awsEnv() });
    // The follow test may add its own invocation meanwhile: every line is a warning, whoever logged it.
    const lines = filtered.stdout.trimEnd().split('\n');
    assert.ok(lines.length >= 1 && lines.every((line) => line.endsWith('\tWARN\ta warning')), filtered.stdout);
  });

  it('aws logs tail --follow prints an invocation made while it follows', { skip: awsSkip }, async (t) => {
    // Python buffers a pipe's output until it exits: unbuffered, each line arrives as printed.
    const followed = follow(AWS, ['logs', 'tail', '/aws/lambda/logs', '--follow', '--endpoint-url', server.url, '--region', 'us-east-1'], { ...awsEnv(), PYTHONUNBUFFERED: '1' });
    await waitUntil(() => followed.output().includes('hello from the first call'), 'aws logs tail --follow prints the stored log', { signal: t.signal, detail: followed.detail });
    const requestId = await invoke('logs', { who: 'a followed call' });
    await waitUntil(() => followed.output().includes(`END RequestId: ${requestId}`), 'aws logs tail --follow prints the new invocation', { signal: t.signal, detail: followed.detail });
    assert.match(followed.output(), /hello from a followed call/);
  });
});
