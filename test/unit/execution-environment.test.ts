/**
 * The inline and worker execution environments, driven directly (no pool, no server): init
 * once then warm invocations, module state, the function's own environment, function errors,
 * a failed init, an exit, disposal, and a timeout as the invoker enforces it on a real one.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/log.js';
import type { FunctionDefinition, IsolationKind } from '../../src/registry/function-definition.js';
import { EnvironmentFactory } from '../../src/runtime/environment-factory.js';
import type { ExecutionEnvironment, FunctionLogLevel, InvocationOutcome } from '../../src/runtime/execution-environment.js';
import { InlineEnvironment } from '../../src/runtime/inline-environment.js';
import { Invoker } from '../../src/runtime/invoker.js';
import { subscribeLifecycle } from '../../src/runtime/lifecycle-events.js';
import { WorkerEnvironment } from '../../src/runtime/worker-environment.js';
import { watchWorkers, type WorkerWatch } from '../helpers/environment-watch.js';
import { FIXTURES } from '../helpers/fixture-server.js';
import { waitUntil } from '../helpers/wait-until.js';

function definition(name: string, handler: string, isolation: IsolationKind, extra: Partial<FunctionDefinition> = {}): FunctionDefinition {
  return {
    name, version: '$LATEST', runtime: 'nodejs22.x', handler, root: FIXTURES, timeout: 30, memorySize: 128,
    environment: {}, isolation, description: '', ...extra,
  };
}

let requests = 0;
/** Timers holding the event loop for invocations in flight: one never answered (a disposed environment's) is let go at the end. */
const holds = new Set<NodeJS.Timeout>();
after(() => holds.forEach((hold) => clearTimeout(hold)));

/** One invocation of `environment`, with the lines it logged. */
function invoke(environment: ExecutionEnvironment, event: unknown = {}): Promise<InvocationOutcome & { lines: Array<[FunctionLogLevel, string]>; json: any }> {
  const lines: Array<[FunctionLogLevel, string]> = [];
  // An idle worker does not hold the event loop; the caller of an invocation does, as the Invoker's timeout timer does.
  const hold = setTimeout(() => {}, 60_000);
  holds.add(hold);
  return new Promise((resolve) => {
    environment.invoke({
      requestId: `env-req-${++requests}`, payload: JSON.stringify(event), event, report: false,
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn', deadlineMs: Date.now() + 30_000,
    }, (level, text) => void lines.push([level, text]), (outcome) => {
      let json: unknown;
      try {
        json = JSON.parse(outcome.payload);
      } catch {
        json = undefined;
      }
      clearTimeout(hold);
      holds.delete(hold);
      resolve({ ...outcome, lines, json });
    });
  });
}

const KINDS = [
  { isolation: 'inline' as const, type: InlineEnvironment },
  { isolation: 'worker' as const, type: WorkerEnvironment },
];

for (const { isolation, type } of KINDS) {
  describe(`${isolation} execution environment`, () => {
    let factory: EnvironmentFactory;
    let workers: WorkerWatch;
    const made: ExecutionEnvironment[] = [];
    const create = (def: FunctionDefinition) => {
      const environment = factory.create(def);
      made.push(environment);
      return environment;
    };
    before(() => {
      workers = watchWorkers();
      factory = new EnvironmentFactory('us-east-1');
    });
    after(async () => {
      await Promise.all(made.map((environment) => environment.dispose()));
      await factory.close();
      workers.stop();
    });

    it(`is what the factory makes for ${isolation} isolation`, () => {
      assert.ok(create(definition('echo', 'functions/echo.handler', isolation)) instanceof type);
    });

    it('initialises once: the first invocation reports its init, later ones reuse the module state', async () => {
      const environment = create(definition(`counter-${isolation}`, 'functions/counter.handler', isolation));
      const first = await invoke(environment);
      assert.equal(first.functionError, undefined);
      assert.equal(first.reusable, true);
      assert.equal(typeof first.initDurationMs, 'number', 'a cold start reports its init');
      assert.equal(first.json.count, 1);
      const second = await invoke(environment);
      assert.equal(second.initDurationMs, undefined, 'a warm invocation has no init');
      assert.equal(second.json.count, 2, 'module state is kept between invocations');
      assert.equal(second.json.loadedAt, first.json.loadedAt, 'the module is not loaded again');
      assert.equal(environment.alive, true);
    });

    it('runs the handler with the request, its context and the function’s own environment variables', async () => {
      const environment = create(definition('echo', 'functions/echo.handler', isolation, { environment: { SECRET: `${isolation}-secret` }, memorySize: 256 }));
      const out = await invoke(environment, { hello: isolation });
      assert.deepEqual(out.json.event, { hello: isolation });
      assert.match(out.json.requestId, /^env-req-/);
      assert.equal(out.json.memoryLimitInMB, '256');
      assert.equal(out.json.env.SECRET, `${isolation}-secret`);
      assert.equal(out.json.env.AWS_LAMBDA_FUNCTION_NAME, 'echo');
      assert.equal(out.json.env._HANDLER, 'functions/echo.handler');
      assert.equal(process.env.SECRET, undefined, 'the server’s own environment is untouched');
    });

    it('answers a thrown error as a function error, logs it, and stays reusable', async () => {
      const environment = create(definition('faults', 'functions/faults.handler', isolation));
      const out = await invoke(environment, { fault: 'throw' });
      assert.equal(out.functionError, 'TeapotError');
      assert.equal(out.json.errorMessage, "I'm a teapot");
      assert.equal(out.reusable, true);
      assert.equal(out.failure, undefined, 'the runtime reported it, not the platform');
      assert.ok(out.lines.some(([level, text]) => level === 'ERROR' && text.includes("I'm a teapot")), 'the runtime logs the error');
      assert.deepEqual((await invoke(environment, {})).json, { fine: true }, 'the environment serves again');
    });

    it('reports a failed init as such: not reusable, and the error logged', async () => {
      const environment = create(definition(`import-error-${isolation}`, 'functions/import-error.handler', isolation));
      const out = await invoke(environment);
      assert.equal(out.failure, 'init');
      assert.equal(out.reusable, false);
      assert.match(out.json.errorMessage, /cannot initialise: missing configuration/);
      assert.ok(out.lines.some(([level, text]) => level === 'ERROR' && text.includes('cannot initialise')));
    });

    it('turns process.exit into Runtime.ExitError and is not reused', async () => {
      const environment = create(definition('faults', 'functions/faults.handler', isolation));
      const out = await invoke(environment, { fault: 'exit', code: 3 });
      assert.equal(out.functionError, 'Runtime.ExitError');
      assert.match(out.json.errorMessage, /exit status 3$/);
      assert.equal(out.reusable, false);
      assert.equal(out.failure, 'runtime');
      if (isolation === 'worker') {
        await waitUntil(() => !environment.alive, 'the worker environment sees its thread end');
        assert.equal(process.exitCode ?? 0, 0, 'the exit ended the thread, not this process');
      }
    });

    it('is dead once disposed', async () => {
      const environment = create(definition('echo', 'functions/echo.handler', isolation));
      await invoke(environment);
      await environment.dispose();
      assert.equal(environment.alive, false);
    });
  });
}

describe('worker execution environment: threads', () => {
  let factory: EnvironmentFactory;
  let workers: WorkerWatch;
  before(() => {
    workers = watchWorkers();
    factory = new EnvironmentFactory('us-east-1');
  });
  after(async () => {
    await factory.close();
    workers.stop();
  });

  it('keeps each environment’s module state to itself', async () => {
    const def = definition('counter', 'functions/counter.handler', 'worker');
    const a = factory.create(def);
    const b = factory.create(def);
    try {
      assert.equal((await invoke(a)).json.count, 1);
      assert.equal((await invoke(a)).json.count, 2);
      assert.equal((await invoke(b)).json.count, 1, 'a second environment has its own module instance');
    } finally {
      await Promise.all([a.dispose(), b.dispose()]);
    }
  });

  it('an invocation sent after the init has ended keeps the deadline it was sent with', async () => {
    // A spare thread starts the init when bound, before the first event is sent: the init, done by then, adds nothing.
    const environment = factory.create(definition('slow-init', 'functions/slow-init.handler', 'worker'));
    try {
      await waitUntil(() => environment.ready === true, 'the 1.5 s init ends');
      const out = await invoke(environment);
      assert.equal(typeof out.initDurationMs, 'number', 'still the cold start');
      assert.ok(out.json.remaining <= 30_000, `remaining time ${out.json.remaining} within the 30 s sent`);
    } finally {
      await environment.dispose();
    }
  });

  it('stops its thread on dispose, even mid-invocation', async () => {
    const environment = factory.create(definition('hangs', 'functions/hangs.handler', 'worker'));
    // The thread is the environment's own (a spare it was bound to, or a new one).
    const { threadId } = (environment as unknown as { worker: { threadId: number } }).worker;
    let settled = false;
    void invoke(environment).then(() => (settled = true));
    assert.equal(workers.ended(threadId), false);
    await environment.dispose();
    assert.equal(environment.alive, false);
    await waitUntil(() => workers.ended(threadId), `the disposed environment’s thread ${threadId} ends`);
    assert.equal(settled, false, 'a disposed environment answers nothing: the invoker has already answered');
  });
});

describe('inline execution environment: shared module', () => {
  it('shares one module instance between the environments of a function, as one import', async () => {
    const factory = new EnvironmentFactory('us-east-1');
    const def = definition('counter', 'functions/counter.handler', 'inline');
    const a = factory.create(def);
    const b = factory.create(def);
    const first = await invoke(a);
    const second = await invoke(b);
    assert.equal(second.json.loadedAt, first.json.loadedAt, 'loaded once for the function');
    assert.equal(second.json.count, first.json.count + 1);
    await factory.close();
  });

  it('ends outside the function\'s scope: what the server does with the outcome sees its own process.env', async () => {
    const factory = new EnvironmentFactory('us-east-1');
    const environment = factory.create(definition('echo', 'functions/echo.handler', 'inline', { environment: { ONLY_IN_FUNCTION: 'yes' } }));
    const seen = await new Promise<string | undefined>((resolve) => environment.invoke({
      requestId: 'scope-req', payload: '{}', event: {}, report: false, deadlineMs: Date.now() + 30_000,
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:echo',
    }, () => undefined, () => resolve(process.env.ONLY_IN_FUNCTION)));
    assert.equal(seen, undefined);
    await factory.close();
  });
});

describe('timeout on a real environment (the invoker enforces it)', () => {
  for (const isolation of ['inline', 'worker'] as const) {
    it(`${isolation}: answers Sandbox.Timedout, stops the environment, and the next invocation gets a new one`, async () => {
      const workers = watchWorkers();
      const name = `hangs-${isolation}`;
      const created: number[] = [];
      const stopped: string[] = [];
      const unsubscribe = [
        subscribeLifecycle('serverfull:environment:create', (m) => void (m.functionName === name && created.push(m.environmentId))),
        subscribeLifecycle('serverfull:environment:stop', (m) => void (m.functionName === name && stopped.push(m.reason))),
      ];
      const dir = mkdtempSync(join(tmpdir(), 'serverfull-env-timeout-'));
      const invoker = new Invoker({ region: 'us-east-1', concurrency: 10, idleTimeout: 300, logger: createLogger({ level: 'silent' }) });
      try {
        const hangs = definition(name, 'functions/hangs.handler', isolation, { timeout: 0.3 });
        let invocations = 0;
        /** Invokes until one got as far as the handler (a cold start on a loaded machine may outlast the timeout), each timing out. */
        const invokeWith = async (marker: string) => {
          const event = { marker: join(dir, marker) };
          await waitUntil(async () => {
            invocations++;
            const out = await invoker.invokeAsync({ definition: hangs, requestId: `t-${++requests}`, payload: JSON.stringify(event), event, invokedFunctionArn: 'arn', tail: false });
            assert.equal(out.functionError, 'Sandbox.Timedout');
            assert.match(out.payload, /Task timed out after 0\.30 seconds/);
            return existsSync(event.marker);
          }, `an invocation of ${name} reaches its handler`);
          return readFileSync(event.marker, 'utf8');
        };
        const first = await invokeWith('first');
        const second = await invokeWith('second');
        assert.deepEqual(stopped, Array(invocations).fill('timeout'), 'every timed-out environment is stopped');
        assert.equal(new Set(created).size, invocations, 'every invocation after a timeout gets a new environment');
        if (isolation === 'worker') await waitUntil(() => workers.endedCount() >= invocations, 'the timed-out worker threads end');
        // A worker environment is a new thread with its own module instance; inline ones share the function's.
        if (isolation === 'worker') assert.notEqual(second, first);
        else assert.equal(second, first);
      } finally {
        for (const stop of unsubscribe) stop();
        await invoker.close();
        workers.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
