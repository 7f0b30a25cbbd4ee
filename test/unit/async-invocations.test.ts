/** The Event queue on a fake runner and a clock the test moves: maximum event age, retries, order, wake-up on a free slot. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { throttled } from '../../src/errors.js';
import type { LogFields, Logger } from '../../src/log.js';
import type { FunctionDefinition } from '../../src/registry/function-definition.js';
import { AsyncInvocations, type EventOutcomeHandler, type EventRunner, type FailureCondition, type QueuedInput } from '../../src/runtime/async-invocations.js';
import type { InvokeInput, InvokeOutput } from '../../src/runtime/invoker.js';

function definition(name: string, maximumEventAge?: number): FunctionDefinition {
  return {
    name, version: '$LATEST', runtime: 'nodejs22.x', handler: 'index.handler', root: '/nowhere', timeout: 3, memorySize: 128,
    environment: {}, isolation: 'inline', description: '', ...(maximumEventAge === undefined ? {} : { maximumEventAge }),
  };
}

function input(fn: FunctionDefinition, requestId: string): QueuedInput {
  return { definition: fn, requestId, payload: '{"secret":"s3cr3t"}', event: { secret: 's3cr3t' }, invokedFunctionArn: `arn:${fn.name}`, tail: false };
}

function recordingLogger(): Logger & { lines: { msg: string; fields: LogFields }[] } {
  const lines: { msg: string; fields: LogFields }[] = [];
  return { lines, enabled: () => true, log: (_level, msg, fields = {}) => void lines.push({ msg, fields }) };
}

/** A runner with `limit` slots; `answer` decides each attempt's output. Attempts end when the test calls `finishAll`. */
function fakeRunner(limit: number, answer: (event: InvokeInput) => InvokeOutput) {
  let freed: () => void = () => undefined;
  const running: { event: InvokeInput; done: (output: InvokeOutput) => void }[] = [];
  const started: string[] = [];
  const runner: EventRunner & { started: string[]; finishAll(): void; running: typeof running } = {
    started,
    running,
    invoke(event, done) {
      if (running.length >= limit) throw throttled('ReservedFunctionConcurrentInvocationLimitExceeded');
      started.push(event.requestId);
      running.push({ event, done });
    },
    onSlotFreed(listener) {
      freed = listener;
    },
    finishAll() {
      for (const { event, done } of running.splice(0)) {
        freed();
        done(answer(event));
      }
    },
  };
  return runner;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await setImmediate();
}

const ok: InvokeOutput = { payload: 'null', executedVersion: '$LATEST' };
const failed: InvokeOutput = { payload: '{"errorType":"Error","errorMessage":"boom"}', functionError: 'Unhandled', executedVersion: '$LATEST' };

function outcomes() {
  const seen: { requestId: string; outcome: 'success' | FailureCondition; attempts: number }[] = [];
  const handler: EventOutcomeHandler = {
    succeeded: (event) => void seen.push({ requestId: event.input.requestId, outcome: 'success', attempts: event.attempts }),
    failed: (event, condition) => void seen.push({ requestId: event.input.requestId, outcome: condition, attempts: event.attempts }),
  };
  return { seen, handler };
}

describe('AsyncInvocations', () => {
  it('drops an event past its function\'s maximum event age, and keeps one whose function has none past the server\'s shorter wait', async () => {
    let clock = 0;
    const logger = recordingLogger();
    const runner = fakeRunner(1, () => ok);
    const events = new AsyncInvocations({ runner, logger, limits: { maxEvents: 10, maxBytes: 10_000, maxEventAge: 21_600 }, now: () => clock });
    const accepted: (Error | undefined)[] = [];
    events.submit(input(definition('blocker'), 'first'), '$LATEST', (error) => accepted.push(error));
    events.submit(input(definition('blocker', 60), 'dropped'), '$LATEST', (error) => accepted.push(error));
    events.submit(input(definition('blocker'), 'kept'), '$LATEST', (error) => accepted.push(error));
    assert.deepEqual(accepted, [undefined, undefined, undefined]);
    clock += 61_000;
    runner.finishAll();
    await settle();
    runner.finishAll();
    await settle();
    assert.deepEqual(runner.started, ['first', 'kept']);
    const dropped = logger.lines.filter((line) => /older than the maximum event age/.test(line.msg));
    assert.equal(dropped.length, 1);
    const { ageSeconds, ...fields } = dropped[0]!.fields;
    assert.deepEqual(fields, { function: 'blocker', requestId: 'dropped', maxEventAge: 60 });
    assert.ok(Number(ageSeconds) > 60, `aged ${ageSeconds} s`);
    assert.ok(!JSON.stringify(logger.lines).includes('s3cr3t'), 'no event content in the log');
    assert.equal(events.pendingBytes, 0);
    assert.equal(events.pending, 0);
  });

  it('runs a throttled function\'s events in order of arrival, each as soon as a slot frees', async () => {
    let clock = 1_000_000;
    const runner = fakeRunner(2, () => ok);
    const events = new AsyncInvocations({ runner, logger: recordingLogger(), now: () => clock });
    for (let i = 0; i < 7; i++) events.submit(input(definition('f'), `e${i}`), '$LATEST', () => undefined);
    assert.deepEqual(runner.started, ['e0', 'e1']);
    clock += 5_000;
    const oldest: [string, number][] = [];
    events.forEachOldest((name, age) => oldest.push([name, age]));
    assert.deepEqual(oldest, [['f', 5]], 'the five waiting events are 5 s old');
    runner.finishAll();
    await settle();
    assert.deepEqual(runner.started, ['e0', 'e1', 'e2', 'e3']);
    while (runner.running.length > 0) {
      runner.finishAll();
      await settle();
    }
    assert.deepEqual(runner.started, ['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
    assert.equal(events.pending, 0);
  });

  it('retries a failing event twice by default, then gives it up as RetriesExhausted; MaximumRetryAttempts 0 gives one attempt', async () => {
    const runner = fakeRunner(10, () => failed);
    const { seen, handler } = outcomes();
    const events = new AsyncInvocations({
      runner, logger: recordingLogger(), retryDelay: 0, outcomes: handler,
      handling: (fn) => fn.name === 'once' ? { maximumRetryAttempts: 0 } : undefined,
    });
    events.submit(input(definition('thrice'), 'a'), '$LATEST', () => undefined);
    events.submit(input(definition('once'), 'b'), '$LATEST', () => undefined);
    while (seen.length < 2) {
      runner.finishAll();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.deepEqual(runner.started.filter((id) => id === 'a').length, 3);
    assert.deepEqual(runner.started.filter((id) => id === 'b').length, 1);
    assert.deepEqual(seen.sort((x, y) => x.requestId.localeCompare(y.requestId)), [
      { requestId: 'a', outcome: 'RetriesExhausted', attempts: 3 },
      { requestId: 'b', outcome: 'RetriesExhausted', attempts: 1 },
    ]);
  });

  it('refuses an event past the queue\'s bounds with TooManyRequestsException', () => {
    const runner = fakeRunner(0, () => ok);
    const events = new AsyncInvocations({ runner, logger: recordingLogger(), limits: { maxEvents: 1, maxBytes: 10_000, maxEventAge: 60 } });
    events.submit(input(definition('f'), 'a'), '$LATEST', () => undefined);
    assert.throws(() => events.submit(input(definition('f'), 'b'), '$LATEST', () => undefined), (error: Error & { type?: string }) => error.type === 'TooManyRequestsException');
    events.close();
  });
});

describe('AsyncInvocations: the function at run time', () => {
  it('runs an event with its function as it is when the event starts, and drops one whose function is gone', async () => {
    const runner = fakeRunner(1, () => ok);
    const functions = new Map([['f', definition('f')], ['gone', definition('gone')]]);
    const logger = recordingLogger();
    const events = new AsyncInvocations({ runner, logger, resolver: { resolve: (name) => functions.get(name) } });
    events.submit(input(functions.get('f')!, 'first'), '$LATEST', () => undefined);
    events.submit(input(functions.get('f')!, 'second'), '$LATEST', () => undefined);
    events.submit(input(functions.get('gone')!, 'dropped'), '$LATEST', () => undefined);
    const updated = { ...definition('f'), description: 'new code' };
    functions.set('f', updated);
    functions.delete('gone');
    runner.finishAll();
    await settle();
    assert.deepEqual(runner.started, ['first', 'second']);
    assert.equal(runner.running[0]!.event.definition, updated, 'the second event runs the function as updated');
    runner.finishAll();
    await settle();
    assert.ok(logger.lines.some((line) => /its function no longer exists/.test(line.msg) && line.fields.requestId === 'dropped'));
    assert.equal(events.pending, 0);
    assert.equal(events.pendingBytes, 0);
    let versions = 0;
    events.forEachPending(() => versions++);
    assert.equal(versions, 0, 'nothing left counted');
  });
});
