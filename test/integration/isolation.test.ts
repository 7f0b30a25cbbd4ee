/**
 * Execution environments: environment variables per function, warm state, one
 * invocation per environment, concurrency limits (429), in every isolation mode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TooManyRequestsException } from '@aws-sdk/client-lambda';
import { processExists, runtimeProcesses, watchWorkers } from '../helpers/environment-watch.js';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { gate } from '../helpers/gate.js';
import { waitUntil } from '../helpers/wait-until.js';
import { SANDBOXED } from '../helpers/sandbox-host.js';
import { SCHED_BATCH, schedulingPolicyOf } from '../helpers/scheduling-policy.js';
import { batchScheduleThread, startBatchScheduling } from '../../src/runtime/batch-scheduling.js';
import { spawn } from 'node:child_process';
import { setImmediate } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';

/** Process environments run both sandboxed (the default where the host allows it) and not. */
const withUnsandboxed = <T extends string>(isolations: readonly T[]) => [
  ...isolations.map((isolation) => ({ isolation, sandbox: 'auto' as const })),
  ...(SANDBOXED && isolations.includes('process' as T) ? [{ isolation: 'process' as T, sandbox: 'off' as const }] : []),
];

/** Gates (test/helpers/gate.ts) are folders of the test's, which a sandboxed function cannot see: those tests run unsandboxed. */
function gateSkip(isolation: string, sandbox: string): string | false {
  return isolation === 'process' && sandbox !== 'off' && SANDBOXED ? 'a sandboxed function cannot see the test\'s gate folder' : false;
}

for (const { isolation, sandbox } of withUnsandboxed(['worker', 'inline', 'process'] as const)) {
  const noGate = gateSkip(isolation, sandbox);
  describe(`execution environments (${isolation}${sandbox === 'off' ? ', unsandboxed' : ''})`, () => {
    let fx: FixtureServer;
    before(async () => {
      process.env.SERVER_ONLY = 'the server process sees this';
      fx = await startFixtureServer({ isolation, sandbox });
    });
    after(async () => {
      delete process.env.SERVER_ONLY;
      await fx.close();
    });

    it('sets the Lambda environment variables', async () => {
      const { env, memoryLimitInMB, functionVersion, logGroupName, logStreamName } = (await fx.invoke('echo')).json;
      assert.equal(env.AWS_LAMBDA_FUNCTION_NAME, 'echo');
      assert.equal(env.AWS_LAMBDA_FUNCTION_VERSION, '$LATEST');
      assert.equal(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '256');
      assert.equal(env.AWS_REGION, 'us-east-1');
      assert.equal(env._HANDLER, 'functions/echo.handler');
      // A sandbox shows the function's code at /var/task, as AWS does.
      assert.equal(env.LAMBDA_TASK_ROOT, isolation === 'process' && sandbox !== 'off' && SANDBOXED ? '/var/task' : FIXTURES);
      assert.equal(memoryLimitInMB, '256');
      assert.equal(functionVersion, '$LATEST');
      assert.equal(logGroupName, '/aws/lambda/echo');
      assert.match(logStreamName, /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
    });

    it("a function sees its own environment, not another function's nor the server's", async () => {
      const echo = (await fx.invoke('echo')).json.env;
      const other = (await fx.invoke('other')).json.env;
      assert.equal(echo.SECRET, 'echo-secret');
      assert.equal(echo.OTHER_SECRET, undefined);
      assert.equal(other.OTHER_SECRET, 'other-secret');
      assert.equal(other.SECRET, undefined);
      assert.equal(echo.SERVER_ONLY, undefined);
      assert.equal(process.env.SERVER_ONLY, 'the server process sees this', 'the server keeps its own environment');
    });

    it(isolation === 'inline' ? 'runs the function on the server\'s thread, under the normal scheduling policy'
      : 'runs the function under SCHED_BATCH, so that handing it an event does not preempt the server', async () => {
      const NORMAL = 0;
      assert.ok(await startBatchScheduling(), 'util-linux chrt is installed on the machines this suite runs on');
      // A worker thread's policy is set in the background as it starts: its first invocations may run before.
      await waitUntil(async () => (await fx.invoke('process-info')).json.schedulingPolicy === (isolation === 'inline' ? NORMAL : SCHED_BATCH), 'the function\'s scheduling policy');
      assert.equal(schedulingPolicyOf('thread-self'), NORMAL, 'the server\'s own thread keeps the normal policy');
    });

    // Inline and worker functions report their isolate's heap in use instead.
    if (isolation === 'process') it('reports the memory the runtime process held in REPORT\'s Max Memory Used', async () => {
      const held = await fx.invoke('process-info', { allocateMB: 40 });
      // The peak is read at most every 10 ms: a reading from just before the allocation may still stand for this invocation.
      await waitUntil(async () => {
        const out = await fx.invoke('process-info', {}, { LogType: 'Tail' });
        assert.equal(out.json.pid, held.json.pid, 'the warm environment that held the memory');
        return Number(/Max Memory Used: (\d+) MB/.exec(Buffer.from(out.LogResult ?? '', 'base64').toString())?.[1]) >= 40;
      }, 'REPORT\'s Max Memory Used to reach the 40 MB held');
    });

    // Built-in modules taken by ES imports load what every export needs: a runtime takes what it uses, and no more.
    if (isolation !== 'inline') it('loads none of the built-in modules its runtime does not use', async () => {
      const loaded = (await fx.invoke('builtins-loaded')).json as string[];
      assert.ok(loaded.includes(isolation === 'process' ? 'net' : 'worker_threads'), `the runtime's own modules are listed: ${loaded.join(' ')}`);
      // fs/promises (and the readline it takes) and parseArgs come with ES imports of node:fs and node:util; a process
      // runtime's memory is read from the kernel, never from node:v8.
      const unused = ['internal/fs/promises', 'internal/readline/interface', 'internal/util/parse_args/parse_args', ...(isolation === 'process' ? ['v8'] : [])];
      assert.deepEqual(unused.filter((name) => loaded.includes(name)), []);
    });

    it('initialises the module once and keeps its state across warm invocations', async () => {
      const first = (await fx.invoke('counter')).json;
      const second = (await fx.invoke('counter')).json;
      assert.equal(second.count, first.count + 1);
      assert.equal(second.loadedAt, first.loadedAt);
    });

    it('getRemainingTimeInMillis counts down from the timeout', async () => {
      // echo's timeout is 30 s; the clock started when the server took the call, inside the time this call took.
      const started = Date.now();
      const { remaining } = (await fx.invoke('echo')).json;
      const took = Date.now() - started;
      assert.ok(remaining > 30_000 - took && remaining <= 30_000, `${remaining} ms remaining after a call of ${took} ms`);
    });

    it('runs concurrent invocations in separate environments up to reservedConcurrency, then 429', { skip: noGate }, async () => {
      const held = gate();
      const slow = [fx.invoke('limited', { gate: held.dir }), fx.invoke('limited', { gate: held.dir })];
      await held.arrived(2);
      await assert.rejects(fx.invoke('limited'), (error: Error & { Reason?: string; $metadata: { httpStatusCode?: number } }) => {
        assert.ok(error instanceof TooManyRequestsException);
        assert.equal(error.$metadata.httpStatusCode, 429);
        assert.equal(error.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
        assert.equal(error.message, 'Rate Exceeded.');
        return true;
      });
      held.open();
      const results = await Promise.all(slow);
      held.remove();
      assert.ok(results.every((out) => out.StatusCode === 200));
      assert.equal((await fx.invoke('limited')).StatusCode, 200, 'capacity is back once they finish');
    });

    it('reservedConcurrency 0 throttles every call', async () => {
      await assert.rejects(fx.invoke('blocked'), TooManyRequestsException);
    });

    it('the server-wide concurrency limit throttles too', { skip: noGate }, async () => {
      const small = await startFixtureServer({ isolation, sandbox, concurrency: 1 });
      try {
        const held = gate();
        const slow = small.invoke('counter', { gate: held.dir });
        await held.arrived();
        await assert.rejects(small.invoke('echo'), (error: Error & { Reason?: string }) => {
          assert.ok(error instanceof TooManyRequestsException);
          assert.equal(error.Reason, 'ConcurrentInvocationLimitExceeded');
          return true;
        });
        held.open();
        await slow;
        held.remove();
      } finally {
        await small.close();
      }
    });
  });
}

describe('a server declaring worker functions', () => {
  it('starts a worker thread for them as it starts: the first request\'s cold start binds it', async () => {
    const started: number[] = [];
    const onWorker = (worker: Worker) => started.push(worker.threadId);
    process.on('worker', onWorker);
    let fx: FixtureServer | undefined;
    try {
      fx = await startFixtureServer({ isolation: 'worker' });
      // Node.js emits `worker` in a tick after the thread's start.
      await setImmediate();
      const before = [...started];
      const out = await fx.invoke('process-info');
      assert.ok(out.json.threadId > 0, 'a worker thread ran it');
      assert.ok(before.includes(out.json.threadId), `thread ${out.json.threadId} was started before the request (${before.join(', ')})`);
    } finally {
      process.off('worker', onWorker);
      await fx?.close();
    }
  });
});

describe('a worker function posting its host a thread\'s start message', () => {
  let fx: FixtureServer;
  before(async () => {
    fx = await startFixtureServer({ isolation: 'worker' });
  });
  after(() => fx.close());

  it('changes no thread\'s scheduling policy: only the first message of a thread, sent before any function code, is acted upon', async () => {
    const target = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    const barrier = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await fx.invoke('thread-claim', { threadId: target.pid })).json.posted, true);
      // The helper applies what it is given in order: once a later request is applied, an earlier one would have been.
      batchScheduleThread(barrier.pid!);
      await waitUntil(() => schedulingPolicyOf(barrier.pid!) === SCHED_BATCH, 'the barrier thread\'s policy');
      assert.equal(schedulingPolicyOf(target.pid!), 0);
      // The function's environment still serves.
      assert.equal((await fx.invoke('thread-claim', { threadId: process.pid })).json.posted, true);
      assert.equal(schedulingPolicyOf(process.pid), 0);
    } finally {
      target.kill();
      barrier.kill();
    }
  });
});

for (const { isolation, sandbox } of withUnsandboxed(['worker', 'process'] as const)) describe(`${isolation} environments are separate${sandbox === 'off' ? ' (unsandboxed)' : ''}`, () => {
  it('two concurrent invocations get two environments, each with its own module state', { skip: gateSkip(isolation, sandbox) }, async () => {
    const fx = await startFixtureServer({ isolation, sandbox });
    try {
      // Both in flight at once: neither can finish before the other has arrived.
      const held = gate();
      const both = Promise.all([fx.invoke('counter', { gate: held.dir }), fx.invoke('counter', { gate: held.dir })]);
      await held.arrived(2);
      held.open();
      const [a, b] = await both;
      held.remove();
      assert.deepEqual([a.json.count, b.json.count], [1, 1]);
      const c = await fx.invoke('counter');
      assert.equal(c.json.count, 2, 'the next call reuses a warm environment');
    } finally {
      await fx.close();
    }
  });

  it('idle environments are reaped and the next call starts cold', async () => {
    const workers = watchWorkers();
    const fx = await startFixtureServer({ isolation, sandbox, idleTimeout: 1 });
    try {
      assert.equal((await fx.invoke('counter')).json.count, 1);
      assert.equal((await fx.invoke('counter')).json.count, 2);
      // Wait for the reaping itself: the environment's thread or process ends (spare threads never do).
      if (isolation === 'worker') {
        await waitUntil(() => workers.endedCount() > 0, 'the idle environment is reaped');
      } else {
        const [runtime] = runtimeProcesses('counter');
        assert.ok(runtime, 'the runtime process of counter runs');
        await waitUntil(() => !processExists(runtime), 'the idle environment is reaped');
      }
      assert.equal((await fx.invoke('counter')).json.count, 1);
    } finally {
      workers.stop();
      await fx.close();
    }
  });
});
