/**
 * Worker environments that hold an invocation behind the one they run (`acceptsNext`), with real worker threads: the
 * held ones run one at a time and in order, are recorded after the one before them (with their memory), and one that cannot start where it
 * is held (recalled after a wait, or its environment crashed) runs on another environment, never lost.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/log.js';
import type { FunctionDefinition } from '../../src/registry/function-definition.js';
import { EnvironmentFactory } from '../../src/runtime/environment-factory.js';
import type { ExecutionEnvironment } from '../../src/runtime/execution-environment.js';
import type { InvocationRecorder, RecordedEnd, RecordedStart, RecordingHandle } from '../../src/runtime/invocation-recorder.js';
import { Invoker, type InvokeOutput } from '../../src/runtime/invoker.js';
import { ScalingPolicy, type ScalingState } from '../../src/runtime/scaling-policy.js';
import { gate, type Gate } from '../helpers/gate.js';
import { TEST_TIME_LIMIT_MS } from '../helpers/wait-until.js';

const FUNCTIONS = join(fileURLToPath(new URL('.', import.meta.url)), '../../../test/fixtures/functions');

/** At most `cap` environments: invocations beyond wait for one, so that environments are handed waiting ones. */
class CappedScaling extends ScalingPolicy {
  cap = 1;
  constructor() {
    super('measured', { hasRoom: () => true });
  }

  override mayStart(state: ScalingState): boolean {
    return state.live < this.cap;
  }
}

/** The real environments, watched: which invocations each was given while it had one in flight, and which it recalled. */
class WatchedFactory extends EnvironmentFactory {
  readonly held: string[] = [];
  readonly recalled: string[] = [];
  onRecall = (): void => {};

  override create(definition: FunctionDefinition): ExecutionEnvironment {
    const environment = super.create(definition);
    const invoke = environment.invoke.bind(environment);
    environment.invoke = (request, ...rest) => {
      if ((environment.inFlight ?? 0) > 0) this.held.push(request.requestId);
      invoke(request, ...rest);
    };
    const recall = environment.recallNext?.bind(environment);
    environment.recallNext = (requestId) => {
      this.recalled.push(requestId);
      this.onRecall();
      recall?.(requestId);
    };
    return environment;
  }
}

/** Each recorded invocation's start and end, in order, with its log stream. */
class OrderRecorder implements InvocationRecorder {
  readonly events: Array<[string, string, string]> = [];
  begin(start: RecordedStart): RecordingHandle {
    this.events.push(['begin', start.logStreamName, start.requestId]);
    return { start };
  }

  line(): void {}

  /** Each recorded invocation's REPORT memory. */
  readonly memoryUsedMB: number[] = [];
  end(handle: RecordingHandle, end: RecordedEnd): void {
    this.events.push(['end', handle.start.logStreamName, handle.start.requestId]);
    this.memoryUsedMB.push(end.memoryUsedMB);
  }
}

interface Result {
  readonly n: number;
  readonly environmentId: string;
  readonly alone: boolean;
}

describe('held invocations in worker environments', () => {
  let scaling: CappedScaling;
  let factory: WatchedFactory;
  let recorder: OrderRecorder;
  let invoker: Invoker;
  let opened: Gate | undefined;
  let requests = 0;
  const definition: FunctionDefinition = {
    name: 'held', version: '$LATEST', runtime: 'nodejs22.x', handler: 'held.handler', root: FUNCTIONS, timeout: 30, memorySize: 128,
    environment: {}, isolation: 'worker', description: '',
  };
  const invoke = (event: object): { requestId: string; output: Promise<InvokeOutput> } => {
    const requestId = `held-${++requests}`;
    const payload = JSON.stringify(event);
    const output = invoker.invokeAsync({
      definition, requestId, payload, event, invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:held', tail: false,
    });
    return { requestId, output };
  };
  const result = async (output: Promise<InvokeOutput>): Promise<Result> => {
    const { payload, functionError } = await output;
    assert.equal(functionError, undefined, payload);
    return JSON.parse(payload) as Result;
  };

  beforeEach(() => {
    scaling = new CappedScaling();
    factory = new WatchedFactory('us-east-1');
    recorder = new OrderRecorder();
    invoker = new Invoker({ region: 'us-east-1', concurrency: 100, idleTimeout: 300, logger: createLogger({ level: 'silent' }), environments: factory, recorder, scaling });
  });
  afterEach(async () => {
    opened?.open();
    await invoker.close();
    opened?.remove();
    opened = undefined;
  });

  it('runs the invocations an environment holds one at a time, in order, each recorded after the one before', async () => {
    const warm = await result(invoke({ n: 0 }).output);
    const finished: number[] = [];
    const calls = Array.from({ length: 20 }, (_, i) => invoke({ n: i + 1 }));
    const results = await Promise.all(calls.map(async ({ output }) => {
      const got = await result(output);
      finished.push(got.n);
      return got;
    }));
    assert.ok(factory.held.length > 0, 'an environment was handed invocations while it ran one');
    assert.deepEqual(results.map((r) => r.n), calls.map((_, i) => i + 1));
    assert.ok(results.every((r) => r.alone), 'never two at once in the environment');
    assert.ok(results.every((r) => r.environmentId === warm.environmentId), 'all in the one environment');
    assert.deepEqual(finished, [...finished].sort((a, b) => a - b), 'in the order they came');
    // Per log stream, START and END lines alternate, each invocation's own: a held one starts after the one before ends.
    const open = new Map<string, string>();
    for (const [event, stream, requestId] of recorder.events) {
      if (event === 'begin') {
        assert.equal(open.get(stream), undefined, `${requestId} begins while ${open.get(stream)} runs`);
        open.set(stream, requestId);
      } else {
        assert.equal(open.get(stream), requestId);
        open.delete(stream);
      }
    }
    assert.equal(recorder.events.length, 42);
    assert.ok(recorder.memoryUsedMB.every((mb) => mb > 0), `every REPORT has the memory used: ${recorder.memoryUsedMB.join(' ')}`);
  });

  // Without a recall, the held invocation would wait for the gate: the time limit fails the test rather than hang it.
  it('recalls a held invocation that waits, and runs it on an environment free before the one it was held behind', { timeout: TEST_TIME_LIMIT_MS }, async () => {
    const warm = await result(invoke({ n: 0 }).output);
    opened = gate();
    // The first ends at once; the environment then runs the gated one, with the third held behind it.
    const first = invoke({ n: 1 });
    const gated = invoke({ n: 2, gate: opened.dir });
    const behind = invoke({ n: 3 });
    // Once recalled, a second environment may start for it.
    factory.onRecall = () => {
      scaling.cap = 2;
    };
    let gatedDone = false;
    void gated.output.then(() => {
      gatedDone = true;
    });
    assert.equal((await result(first.output)).environmentId, warm.environmentId);
    const elsewhere = await result(behind.output);
    assert.deepEqual(factory.held, [behind.requestId], 'it was held behind the gated one');
    assert.deepEqual(factory.recalled, [behind.requestId]);
    assert.notEqual(elsewhere.environmentId, warm.environmentId, 'run on another environment');
    assert.equal(gatedDone, false, 'while the one it was held behind still runs');
    opened.open();
    assert.equal((await result(gated.output)).environmentId, warm.environmentId);
  });

  it('runs a held invocation on another environment when the one it was held in crashes first', { timeout: TEST_TIME_LIMIT_MS }, async () => {
    const warm = await result(invoke({ n: 0 }).output);
    const first = invoke({ n: 1 });
    const crashing = invoke({ crash: true });
    const behind = invoke({ n: 3 });
    await result(first.output);
    const crashed = await crashing.output;
    assert.equal(crashed.functionError, 'Error');
    assert.match(crashed.payload, /crashed on purpose/);
    const elsewhere = await result(behind.output);
    assert.deepEqual(factory.held, [behind.requestId], 'it was held behind the crashing one');
    assert.equal(elsewhere.n, 3);
    assert.notEqual(elsewhere.environmentId, warm.environmentId, 'in a new environment');
  });
});
