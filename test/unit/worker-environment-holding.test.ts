/**
 * A worker environment's bookkeeping of the invocation it holds behind the one it runs, against a stand-in `Worker`
 * whose messages the test sends: when the held one starts, when it is given back unstarted (`NOT_STARTED`), and when
 * a stop cuts it short after the thread had started it.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { beforeEach, describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { NOT_STARTED, type InvocationOutcome, type InvocationRequest } from '../../src/runtime/execution-environment.js';
import { WorkerEnvironment } from '../../src/runtime/worker-environment.js';
import type { ResultMessage, ThreadMessage } from '../../src/runtime/worker-protocol.js';

/** Stands in for a thread: keeps what is posted to it, and exits when terminated, after `lastWords` if any. */
class StandInWorker extends EventEmitter {
  readonly posted: Array<{ type: string; requestId?: string }> = [];
  lastWords: ThreadMessage | undefined;
  postMessage(message: { type: string; requestId?: string }): void {
    this.posted.push(message);
  }

  unref(): void {}

  async terminate(): Promise<number> {
    // As Node.js does: what the thread posted before it ended is delivered, then `exit`.
    if (this.lastWords !== undefined) this.emit('message', this.lastWords);
    this.emit('exit', 1);
    return 1;
  }

  say(message: ThreadMessage): void {
    this.emit('message', message);
  }
}

/** What happened to one invocation. */
interface Seen {
  readonly request: InvocationRequest;
  outcome?: InvocationOutcome;
  startedAfterWait: boolean;
}

const result = (fatal = false): ResultMessage => ({ type: 'result', payload: '"ok"', durationMs: 1, memoryUsedMB: 10, fatal });

describe('worker environment: held invocations', () => {
  let worker: StandInWorker;
  let environment: WorkerEnvironment;
  let order: string[];
  let requests = 0;
  const invoke = (): Seen => {
    const request = { requestId: `r${++requests}`, payload: '{}', event: {}, invokedFunctionArn: 'arn', deadlineMs: Date.now() + 3000, traceHeader: 't', report: false } as InvocationRequest;
    const seen: Seen = { request, startedAfterWait: false };
    environment.invoke(request, () => {}, (outcome) => {
      seen.outcome = outcome;
      order.push(`done ${request.requestId}`);
    }, () => {
      seen.startedAfterWait = true;
      order.push(`started ${request.requestId}`);
    });
    return seen;
  };

  beforeEach(() => {
    order = [];
    worker = new StandInWorker();
    const identity = { functionName: 'f', functionVersion: '$LATEST', memorySize: 128, logGroupName: '/aws/lambda/f', logStreamName: 's' };
    environment = new WorkerEnvironment(worker as unknown as Worker, { root: '/', handler: 'index.handler', identity, env: {}, timeoutMs: 3000 }, identity);
    worker.say({ type: 'initialized' });
  });

  it('takes one invocation behind the one it runs, starts it with the first one’s result, after that one’s end', () => {
    assert.equal(environment.acceptsNext(), false, 'nothing runs: nothing to hold behind');
    const first = invoke();
    assert.equal(environment.acceptsNext(), true);
    const held = invoke();
    assert.equal(environment.inFlight, 2);
    assert.equal(environment.acceptsNext(), false, 'one held at most');
    assert.deepEqual(worker.posted.filter((m) => m.type === 'invoke').map((m) => m.requestId), [first.request.requestId, held.request.requestId], 'both sent at once');
    worker.say(result());
    assert.deepEqual(order, [`done ${first.request.requestId}`, `started ${held.request.requestId}`]);
    assert.equal(environment.inFlight, 1);
    worker.say(result());
    assert.equal(held.outcome?.payload, '"ok"');
    assert.equal(environment.inFlight, 0);
  });

  it('gives a recalled invocation back unstarted, then holds none for a while', () => {
    invoke();
    const held = invoke();
    environment.recallNext('another');
    assert.equal(worker.posted.filter((m) => m.type === 'recall').length, 0, 'only the one it holds');
    // The thread runs the function's code, which can post to the host: a "recalled" for what is not held changes nothing.
    worker.say({ type: 'recalled', requestId: 'not-held' });
    assert.equal(environment.inFlight, 2);
    assert.equal(held.outcome, undefined);
    environment.recallNext(held.request.requestId);
    assert.deepEqual(worker.posted.at(-1), { type: 'recall', requestId: held.request.requestId });
    worker.say({ type: 'recalled', requestId: held.request.requestId });
    assert.equal(held.outcome, NOT_STARTED);
    assert.equal(environment.inFlight, 1);
    assert.equal(environment.acceptsNext(), false, 'a recall: the next invocations run unheld');
  });

  it('gives the held invocation back when the one before it ends the thread (a fatal result)', () => {
    const first = invoke();
    const held = invoke();
    worker.say({ ...result(true), functionError: 'Error', uncaught: true });
    assert.equal(first.outcome?.reusable, false);
    assert.equal(held.outcome, NOT_STARTED);
    assert.equal(held.startedAfterWait, false);
  });

  it('gives the held invocation back when the environment is stopped before the thread started it', async () => {
    invoke();
    const held = invoke();
    await environment.dispose();
    assert.equal(held.outcome, NOT_STARTED);
  });

  it('fails the held invocation, never gives it back, when the thread had started it as it was stopped', async () => {
    invoke();
    const held = invoke();
    // The first timed out just as it ended: its result is still on its way when the invoker stops the environment.
    worker.lastWords = result();
    await environment.dispose();
    assert.equal(held.startedAfterWait, true, 'it started');
    assert.notEqual(held.outcome, NOT_STARTED, 'not run a second time elsewhere');
    assert.equal(held.outcome?.functionError, 'Runtime.ExitError');
    assert.equal(held.outcome?.reusable, false);
  });
});
