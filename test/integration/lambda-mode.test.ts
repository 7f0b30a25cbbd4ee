/**
 * Lambda mode and serverfull's Node.js runtime client, against a Runtime API stand-in:
 * `serverfull lambda` as a child process, `startLambda()` in this process, and the
 * process-isolation entry `process-runtime.js` spawned as the server spawns it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConfigError, startLambda, type LambdaHandler } from '../../src/index.js';
import { freePort, runCli, type CliProcess } from '../helpers/cli-process.js';
import { FIXTURES, REPO_ROOT } from '../helpers/fixture-server.js';
import { DEADLINE_MS, startRuntimeApiStandIn, type RuntimeApiStandIn } from '../helpers/runtime-api-stand-in.js';
import { waitUntil } from '../helpers/wait-until.js';

const ROOT = join(FIXTURES, 'lambda-mode');
const MANIFEST = join(ROOT, 'serverfull.json');
const PROCESS_RUNTIME = join(REPO_ROOT, 'dist/src/runtime-client/process-runtime.js');
/** A console line as the AWS Node runtime prints it: time, request id, level, message. */
const consoleLine = (requestId: string, level: string, text: string) => new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${requestId}\\t${level}\\t${text}$`, 'm');

/** Waits until a child has printed `text`: its output arrives on its own pipe, in no fixed order with the HTTP calls. */
function printed(child: CliProcess, text: string): Promise<void> {
  return waitUntil(() => child.stdout().includes(text), `the child prints ${JSON.stringify(text)}`, { detail: () => child.stdout() });
}

async function stopChild(cli: CliProcess): Promise<void> {
  if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
  await cli.exited;
}

describe('serverfull lambda (CLI) against the Runtime API', () => {
  let api: RuntimeApiStandIn;
  let cli: CliProcess | undefined;
  beforeEach(async () => {
    api = await startRuntimeApiStandIn();
  });
  afterEach(async () => {
    if (cli) await stopChild(cli);
    cli = undefined;
    await api.close();
  });
  const lambda = (name: string, env: NodeJS.ProcessEnv = {}, args: string[] = []) =>
    (cli = runCli(['lambda', '--function', name, '--config', MANIFEST, ...args], { AWS_LAMBDA_RUNTIME_API: api.address, ...env }));

  it('answers invocations in a row, keeping module state, on one connection to the Runtime API', async () => {
    lambda('hello');
    const first = await api.invoke({ name: 'Ada' });
    const second = await api.invoke({ name: 'Grace' });
    assert.equal(first.kind, 'response');
    assert.equal(first.json.greeting, 'hello Ada');
    assert.equal(first.json.requestId, first.requestId);
    assert.equal(second.json.greeting, 'hello Grace');
    assert.equal(second.json.invocations, 2, 'the module is loaded once');
    assert.equal(first.json.functionName, 'hello');
    assert.equal(first.json.memoryLimitInMB, '256');
    assert.equal(first.json.invokedFunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:stand-in');
    assert.ok(first.json.remaining > 0 && first.json.remaining <= DEADLINE_MS, String(first.json.remaining));
    assert.deepEqual(api.calls.slice(0, 4), ['GET invocation/next', `POST invocation/${first.requestId}/response`, 'GET invocation/next', `POST invocation/${second.requestId}/response`]);
  });

  it('prints console lines with the request id and level, and raw writes as they are', async () => {
    lambda('hello');
    const { requestId } = await api.invoke({ name: 'Ada' });
    await printed(cli!, 'raw line');
    assert.match(cli!.stdout(), consoleLine(requestId, 'INFO', 'hello Ada'));
    assert.match(cli!.stdout(), consoleLine(requestId, 'WARN', 'careful'));
    assert.match(cli!.stdout(), /^raw line$/m);
  });

  it('passes trace id, client context and Cognito identity to the handler', async () => {
    lambda('hello');
    const traced = await api.invoke({}, {
      traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
      clientContext: JSON.stringify({ custom: { tenant: 'acme' } }),
      cognitoIdentity: JSON.stringify({ cognitoIdentityId: 'us-east-1:abc', cognitoIdentityPoolId: 'us-east-1:pool' }),
    });
    assert.equal(traced.json.traceId, 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1');
    assert.deepEqual(traced.json.clientContext, { custom: { tenant: 'acme' } });
    assert.deepEqual(traced.json.identity, { cognitoIdentityId: 'us-east-1:abc', cognitoIdentityPoolId: 'us-east-1:pool' });
    const plain = await api.invoke({});
    assert.equal(plain.json.traceId, null, 'the trace id of the previous invocation is gone');
    assert.equal(plain.json.clientContext, null);
    assert.equal(plain.json.identity, null);
  });

  it("keeps the environment AWS gave the process and adds the manifest's variables only where unset", async () => {
    lambda('hello', { GREETING: 'from AWS', AWS_LAMBDA_FUNCTION_NAME: 'hello-prod', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512' });
    const { json } = await api.invoke({});
    assert.equal(json.greetingVariable, 'from AWS');
    assert.equal(json.colourVariable, 'teal');
    assert.equal(json.functionName, 'hello-prod');
    assert.equal(json.memoryLimitInMB, '512');
  });

  it('posts a handler error with its type header, and goes on', async () => {
    lambda('fail');
    const failed = await api.invoke({});
    assert.equal(failed.kind, 'error');
    assert.equal(failed.errorType, 'TeapotError');
    assert.equal(failed.json.errorType, 'TeapotError');
    assert.equal(failed.json.errorMessage, 'I am a teapot');
    assert.equal(failed.json.trace[0], 'TeapotError: I am a teapot');
    assert.equal((await api.invoke({})).kind, 'error', 'the environment serves the next invocation');
  });

  it('waits for the event loop after a callback unless callbackWaitsForEmptyEventLoop is false', async () => {
    lambda('waits');
    assert.deepEqual((await api.invoke({ wait: true })).json, { timerFired: true });
    assert.deepEqual((await api.invoke({ wait: false })).json, { timerFired: false });
  });

  it('reports an init error to /init/error and exits 1', async () => {
    lambda('missing');
    const initError = await api.initError();
    assert.equal(initError.errorType, 'Runtime.HandlerNotFound');
    assert.deepEqual(initError.json, { errorType: 'Runtime.HandlerNotFound', errorMessage: 'hello.missing is undefined or not exported' });
    assert.equal(await cli!.exited, 1);
    assert.match(cli!.stderr(), /init failed: Runtime\.HandlerNotFound/);
    assert.ok(!api.calls.includes('GET invocation/next'), 'no invocation is taken after a failed init');
  });

  it('posts an uncaught exception for the open invocation, then exits 129', async () => {
    lambda('crash');
    const crashed = await api.invoke({});
    assert.equal(crashed.kind, 'error');
    assert.equal(crashed.errorType, 'Error');
    assert.equal(crashed.json.errorMessage, 'escaped the handler');
    assert.equal(await cli!.exited, 129);
    assert.match(cli!.stdout(), consoleLine(crashed.requestId, 'ERROR', 'Uncaught Exception \\t\\{"errorType":"Error","errorMessage":"escaped the handler","stack":\\[.*\\]\\}'));
  });

  it('posts an unhandled rejection as Runtime.UnhandledPromiseRejection, then exits 128', async () => {
    lambda('reject');
    const rejected = await api.invoke({});
    assert.equal(rejected.errorType, 'Runtime.UnhandledPromiseRejection');
    assert.equal(rejected.json.errorMessage, 'Error: nobody caught this');
    assert.equal(await cli!.exited, 128);
  });

  it("answers a mocked function's declared example without loading its code", async () => {
    lambda('mocked');
    const mocked = await api.invoke({ anything: 1 });
    assert.equal(mocked.kind, 'response');
    assert.deepEqual(mocked.json, { mocked: true, items: [1, 2, 3] });
    assert.ok(!api.calls.includes('POST init/error'));
  });

  it('--mock and SERVERFULL_MOCK mock a function without a mock block (null)', async () => {
    lambda('plain', {}, ['--mock']);
    assert.equal((await api.invoke({})).body, 'null');
    await stopChild(cli!);
    // The next invocation must go to the new runtime, not to the killed one's request still open here.
    await waitUntil(() => api.waiting === 0, 'the stand-in sees the killed runtime\'s connection close');
    lambda('plain', { SERVERFULL_MOCK: 'true' });
    assert.equal((await api.invoke({})).body, 'null');
  });

  it('goes on after the Runtime API refuses an answer (413), and exits 1 when it answers 500', async () => {
    lambda('hello');
    api.refuseNextAnswer(413);
    await api.invoke({ name: 'too large' });
    assert.equal((await api.invoke({ name: 'Ada' })).json.greeting, 'hello Ada', 'the environment serves the next invocation');
    api.refuseNextAnswer(500);
    await api.invoke({});
    assert.equal(await cli!.exited, 1);
    assert.match(cli!.stderr(), /the Runtime API answered 413 to invocation\/[\w-]+\/response/);
    assert.match(cli!.stderr(), /serverfull: hello: the Runtime API answered 500 to invocation\/[\w-]+\/response/);
  });

  it('exits 1 with one line when the Runtime API cannot be reached', async () => {
    lambda('hello', { AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${await freePort()}` });
    assert.equal(await cli!.exited, 1);
    assert.match(cli!.stderr(), /^serverfull: hello: cannot reach the Runtime API at 127\.0\.0\.1:\d+ \(GET \/2018-06-01\/runtime\/invocation\/next\): .+\n$/);
  });

  it('a missing AWS_LAMBDA_RUNTIME_API or an unknown function is a configuration error (exit 2)', async () => {
    lambda('hello', { AWS_LAMBDA_RUNTIME_API: '' });
    assert.equal(await cli!.exited, 2);
    assert.match(cli!.stderr(), /^serverfull: lambda mode needs the Runtime API: AWS_LAMBDA_RUNTIME_API is not set .*\n$/);
    lambda('nope');
    assert.equal(await cli!.exited, 2);
    assert.match(cli!.stderr(), /^serverfull: no function "nope" is declared \(declared: hello, fail, .*\)\n$/);
  });
});

describe('startLambda() in this process', () => {
  let api: RuntimeApiStandIn;
  beforeEach(async () => {
    api = await startRuntimeApiStandIn();
  });
  afterEach(() => api.close());

  it('serves invocations in a row, then stops and gives the console back', async () => {
    const log = console.log;
    const listeners = process.listenerCount('uncaughtException');
    let count = 0;
    const counter: LambdaHandler = async (event: { add: number }) => ({ count: (count += event.add) });
    const lambda = await startLambda({ functionName: 'counter', functions: { counter }, runtimeApi: api.address, env: {} });
    assert.equal(lambda.definition.name, 'counter');
    assert.deepEqual((await api.invoke({ add: 1 })).json, { count: 1 });
    assert.deepEqual((await api.invoke({ add: 2 })).json, { count: 3 });
    assert.deepEqual((await api.invoke({ add: 3 })).json, { count: 6 });
    await lambda.stop();
    assert.deepEqual(await lambda.ended, { reason: 'stopped', exitCode: 0 });
    assert.equal(console.log, log);
    assert.equal(process.listenerCount('uncaughtException'), listeners);
  });

  it('a callback waits for pending timers in this process too', async () => {
    const waits: LambdaHandler = (event: { wait: boolean }, context, callback) => {
      context.callbackWaitsForEmptyEventLoop = event.wait;
      const result = { timerFired: false };
      setTimeout(() => (result.timerFired = true), 50);
      callback(null, result);
    };
    const lambda = await startLambda({ functionName: 'waits', functions: { waits }, runtimeApi: api.address, env: {} });
    try {
      assert.deepEqual((await api.invoke({ wait: true })).json, { timerFired: true });
      assert.deepEqual((await api.invoke({ wait: false })).json, { timerFired: false });
    } finally {
      await lambda.stop();
    }
  });

  it('an init error ends the loop with init-failed, without ending this process', async () => {
    const lambda = await startLambda({ functionName: 'missing', config: MANIFEST, runtimeApi: api.address, env: {} });
    assert.equal((await api.initError()).errorType, 'Runtime.HandlerNotFound');
    const end = await lambda.ended;
    assert.equal(end.reason, 'init-failed');
    assert.equal(end.exitCode, 1);
  });

  it('the mock option answers without loading the code', async () => {
    const lambda = await startLambda({ functionName: 'plain', config: MANIFEST, runtimeApi: api.address, env: {}, mock: true });
    try {
      assert.equal((await api.invoke({})).body, 'null');
    } finally {
      await lambda.stop();
    }
  });

  it('refuses a missing Runtime API and an unknown function with ConfigError', async () => {
    const saved = process.env.AWS_LAMBDA_RUNTIME_API;
    delete process.env.AWS_LAMBDA_RUNTIME_API;
    try {
      await assert.rejects(startLambda({ functionName: 'hello', config: MANIFEST, env: {} }), ConfigError);
    } finally {
      if (saved !== undefined) process.env.AWS_LAMBDA_RUNTIME_API = saved;
    }
    await assert.rejects(startLambda({ functionName: 'nope', config: MANIFEST, runtimeApi: api.address, env: {} }), /no function "nope"/);
  });
});

describe('process-runtime.js, the process-isolation entry', () => {
  let api: RuntimeApiStandIn;
  let runtime: CliProcess | undefined;
  beforeEach(async () => {
    api = await startRuntimeApiStandIn();
  });
  afterEach(async () => {
    if (runtime) await stopChild(runtime);
    runtime = undefined;
    await api.close();
  });

  /** Spawns the entry as the server does: the function's complete Lambda environment, pipes for output. */
  const spawnRuntime = (handler: string, env: NodeJS.ProcessEnv = {}): CliProcess => {
    const child = spawn(process.execPath, ['--max-old-space-size=128', PROCESS_RUNTIME], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        AWS_LAMBDA_RUNTIME_API: api.address,
        _HANDLER: handler,
        LAMBDA_TASK_ROOT: ROOT,
        AWS_LAMBDA_FUNCTION_NAME: 'hello',
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/hello',
        AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
        GREETING: 'own variable',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    return (runtime = { child, stdout: () => out, stderr: () => err, exited });
  };

  it('loads _HANDLER from LAMBDA_TASK_ROOT and answers invocations', async () => {
    spawnRuntime('functions/hello.handler');
    const answer = await api.invoke({ name: 'Ada' });
    assert.equal(answer.kind, 'response');
    assert.equal(answer.json.greeting, 'hello Ada');
    assert.equal(answer.json.memoryLimitInMB, '128');
    assert.equal(answer.json.greetingVariable, 'own variable');
    assert.equal(answer.json.colourVariable, null, 'only the environment it was given');
    assert.equal((await api.invoke({ name: 'Grace' })).json.invocations, 2);
    await printed(runtime!, 'hello Grace');
    assert.match(runtime!.stdout(), consoleLine(answer.requestId, 'INFO', 'hello Ada'));
  });

  it('posts an init error and exits 1', async () => {
    spawnRuntime('functions/hello.missing');
    assert.equal((await api.initError()).json.errorType, 'Runtime.HandlerNotFound');
    assert.equal(await runtime!.exited, 1);
  });

  it('exits 1 with one line when AWS_LAMBDA_RUNTIME_API is not set', async () => {
    spawnRuntime('functions/hello.handler', { AWS_LAMBDA_RUNTIME_API: '' });
    assert.equal(await runtime!.exited, 1);
    assert.equal(runtime!.stderr(), 'serverfull runtime: AWS_LAMBDA_RUNTIME_API is not set\n');
  });
});
