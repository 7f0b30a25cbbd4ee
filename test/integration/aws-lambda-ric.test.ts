/**
 * AWS's own Node.js runtime interface client (aws-lambda-ric, the one in AWS's Node.js base
 * images) as a provided.al2023 custom runtime against serverfull's Runtime API, driven
 * through the AWS SDK. The client is not a dependency of serverfull (its install compiles
 * native code): `npm run install:aws-lambda-ric` puts it in test/aws-lambda-ric/. Without
 * it this suite is skipped, except in CI, where it fails.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, REPO_ROOT, decodeLog, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { SANDBOXED } from '../helpers/sandbox-host.js';

const FIXTURE = join(FIXTURES, 'aws-lambda-ric');
const RIC_PROJECT = join(REPO_ROOT, 'test/aws-lambda-ric');
const RIC = join(RIC_PROJECT, 'node_modules/aws-lambda-ric');
const NOT_INSTALLED = 'aws-lambda-ric is not installed in test/aws-lambda-ric: run `npm run install:aws-lambda-ric`';

/** Whether the pinned version of the client is installed, with its native addon built. */
function ricInstalled(): boolean {
  try {
    const pinned = JSON.parse(readFileSync(join(RIC_PROJECT, 'package.json'), 'utf8')).dependencies['aws-lambda-ric'];
    const installed = JSON.parse(readFileSync(join(RIC, 'package.json'), 'utf8')).version;
    return installed === pinned && existsSync(join(RIC, 'dist/rapid-client.node'));
  } catch {
    return false;
  }
}

const installed = ricInstalled();

// CI installs the client (.ci/run): there, a missing client fails instead of skipping the suite.
if (!installed && process.env.CI) {
  it('aws-lambda-ric is installed', () => assert.fail(NOT_INSTALLED));
}

/** The ClientContext parameter of Invoke: base64 JSON. */
const encodeClientContext = (context: unknown) => Buffer.from(JSON.stringify(context)).toString('base64');

describe('AWS\'s runtime interface client (aws-lambda-ric) as a provided.al2023 runtime', { skip: installed ? false : NOT_INSTALLED }, () => {
  let fx: FixtureServer;
  /** The task root: the fixture, or sandboxed (where the runtime sees nothing outside it) a copy with the client inside, as an image ships it. */
  let root = FIXTURE;
  before(async () => {
    if (SANDBOXED) {
      root = mkdtempSync(join(tmpdir(), 'serverfull-ric-'));
      cpSync(FIXTURE, root, { recursive: true });
      cpSync(join(RIC_PROJECT, 'node_modules'), join(root, 'node_modules'), { recursive: true });
    }
    fx = await startFixtureServer({ config: join(root, 'serverfull.json') });
  });
  after(async () => {
    await fx.close();
    if (root !== FIXTURE) rmSync(root, { recursive: true, force: true });
  });

  it('runs an ES module handler with the Lambda context the client builds from the Runtime API', async () => {
    const out = await fx.invoke('ric-esm', { hello: 'ric' });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, undefined, out.text);
    const { json } = out;
    assert.deepEqual(json.event, { hello: 'ric' });
    assert.notEqual(json.pid, process.pid);
    assert.equal(json.cwd, SANDBOXED ? '/var/task' : FIXTURE);
    assert.equal(json.awsRequestId, out.$metadata.requestId);
    assert.match(json.invokedFunctionArn, /^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:ric-esm$/);
    assert.equal(json.functionName, 'ric-esm');
    assert.equal(json.functionVersion, '$LATEST');
    assert.equal(json.memoryLimitInMB, '128');
    assert.equal(json.logGroupName, '/aws/lambda/ric-esm');
    assert.match(json.logStreamName, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    assert.ok(json.remainingTimeInMillis > 0 && json.remainingTimeInMillis <= 30_000, `remaining ${json.remainingTimeInMillis} ms`);
    assert.match(json.traceId, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};/);
    assert.equal(json.clientContext, null);
  });

  it('keeps the runtime warm: the same process, with its module state', async () => {
    const first = await fx.invoke('ric-esm', {});
    const second = await fx.invoke('ric-esm', {});
    assert.equal(second.json.pid, first.json.pid);
    assert.equal(second.json.invocations, first.json.invocations + 1);
    assert.notEqual(second.json.awsRequestId, first.json.awsRequestId);
  });

  it('passes the client context to the handler', async () => {
    const clientContext = { client: { app_title: 'ric test' }, custom: { tenant: 'acme' } };
    const out = await fx.invoke('ric-esm', {}, { ClientContext: encodeClientContext(clientContext) });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.deepEqual(out.json.clientContext, clientContext);
  });

  it('runs a CommonJS handler that answers through its callback', async () => {
    const out = await fx.invoke('ric-commonjs', { n: 7 });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.deepEqual(out.json, { commonjs: true, event: { n: 7 }, awsRequestId: out.$metadata.requestId });
  });

  it('reports a thrown error as the client posts it, and the same runtime serves the next call', async () => {
    const warm = await fx.invoke('ric-throws', {});
    assert.equal(warm.FunctionError, undefined, warm.text);

    const out = await fx.invoke('ric-throws', { fail: true, input: 42 }, { LogType: 'Tail' });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.deepEqual(Object.keys(out.json).sort(), ['errorMessage', 'errorType', 'trace']);
    assert.equal(out.json.errorType, 'ValidationError');
    assert.equal(out.json.errorMessage, 'bad input: 42');
    assert.equal(out.json.trace[0], 'ValidationError: bad input: 42');
    assert.match(out.json.trace[1], /throws\.mjs:\d+:\d+/);
    const log = decodeLog(out.LogResult);
    const requestId = out.$metadata.requestId!;
    assert.match(log, new RegExp(`\\t${requestId}\\tINFO\\tabout to fail\\n`));
    assert.match(log, new RegExp(`\\t${requestId}\\tERROR\\tInvoke Error \\t\\{"errorType":"ValidationError"`));

    const next = await fx.invoke('ric-throws', {});
    assert.equal(next.FunctionError, undefined, next.text);
    assert.deepEqual(next.json, { ok: true, pid: warm.json.pid });
  });

  it('reports a module that throws at import as the init error of every call', async () => {
    for (let i = 0; i < 2; i++) {
      const out = await fx.invoke('ric-broken', { i }, { LogType: 'Tail' });
      assert.equal(out.StatusCode, 200);
      assert.equal(out.FunctionError, 'Unhandled');
      assert.equal(out.json.errorType, 'Error', out.text);
      assert.equal(out.json.errorMessage, 'broken at import');
      assert.equal(out.json.trace[0], 'Error: broken at import');
      assert.match(out.json.trace[1], /broken\.mjs:\d+:\d+/);
      const log = decodeLog(out.LogResult);
      assert.match(log, /\tERROR\tUncaught Exception \t\{"errorType":"Error","errorMessage":"broken at import"/);
      // The environment whose init failed is not reused: each call inits a runtime of its own.
      assert.match(log, /Init Duration: /);
    }
    // The other functions are not affected.
    assert.equal((await fx.invoke('ric-esm', {})).FunctionError, undefined);
  });

  it('puts the handler\'s console.log lines, with the request id, in the Tail log', async () => {
    const out = await fx.invoke('ric-esm', { n: 1 }, { LogType: 'Tail' });
    const requestId = out.$metadata.requestId!;
    const log = decodeLog(out.LogResult);
    assert.match(log, new RegExp(`^\\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z\\t${requestId}\\tINFO\\thandling \\{"n":1\\}$`, 'm'));
    assert.match(log, new RegExp(`^END RequestId: ${requestId}$`, 'm'));
    assert.match(log, new RegExp(`^REPORT RequestId: ${requestId}\\tDuration: `, 'm'));
  });
});
