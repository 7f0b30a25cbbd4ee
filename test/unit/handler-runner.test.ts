/** Completion rules of the AWS Node.js runtime, in-process. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { runHandler as runWithCallback, type EventLoopProbe, type HandlerOutcome } from '../../src/handler/handler-runner.js';
import { createContext } from '../../src/handler/lambda-context.js';
import type { LambdaHandler } from '../../src/registry/function-definition.js';

const context = () => createContext(
  { functionName: 'f', functionVersion: '$LATEST', memorySize: 128, logGroupName: 'g', logStreamName: 's' },
  { requestId: 'r', invokedFunctionArn: 'a', deadlineMs: Date.now() + 1000 },
);

/** `runHandler` as a promise, for readable assertions. */
function runHandler(handler: LambdaHandler, event: unknown, ctx: ReturnType<typeof context>, probe: EventLoopProbe | undefined): Promise<HandlerOutcome> {
  return new Promise((resolve) => runWithCallback(handler, event, ctx, probe, resolve));
}

/** A probe whose event loop "empties" when the test says so. */
function manualProbe(): EventLoopProbe & { empty(): void } {
  let release: () => void = () => {};
  const emptied = new Promise<void>((resolve) => (release = resolve));
  return { whenEmpty: () => emptied, empty: () => release() };
}

describe('runHandler', () => {
  it('resolves with an async handler result', async () => {
    assert.deepEqual(await runHandler(async (event) => ({ got: event }), 1, context(), undefined), { ok: true, result: { got: 1 } });
  });

  it('reports a synchronous throw and a rejection as errors', async () => {
    const thrown = await runHandler(() => { throw new Error('sync'); }, {}, context(), undefined);
    assert.equal(thrown.ok, false);
    const rejected = await runHandler(async () => { throw new Error('async'); }, {}, context(), undefined);
    assert.equal(!rejected.ok && (rejected.error as Error).message, 'async');
  });

  it('the first completion wins', async () => {
    const handler: LambdaHandler = (_event, ctx, callback) => {
      callback(null, 'first');
      ctx.succeed('second');
      callback(new Error('third'));
    };
    assert.deepEqual(await runHandler(handler, {}, context(), undefined), { ok: true, result: 'first' });
  });

  it('a callback waits for the event loop to empty unless told not to', async () => {
    const probe = manualProbe();
    let settled = false;
    const waiting = runHandler((_e, _c, callback) => callback(null, 'done'), {}, context(), probe).then((outcome) => {
      settled = true;
      return outcome;
    });
    // A turn of the event loop: an outcome not held by the probe would have settled by now.
    await setImmediate();
    assert.equal(settled, false, 'held until the loop is empty');
    probe.empty();
    assert.deepEqual(await waiting, { ok: true, result: 'done' });

    const immediate = await runHandler((_e, ctx, callback) => {
      ctx.callbackWaitsForEmptyEventLoop = false;
      callback(null, 'now');
    }, {}, context(), manualProbe());
    assert.deepEqual(immediate, { ok: true, result: 'now' });
  });

  it('a synchronous handler that never calls back resolves null when the loop empties', async () => {
    const probe = manualProbe();
    const outcome = runHandler(() => 'ignored return value', {}, context(), probe);
    probe.empty();
    assert.deepEqual(await outcome, { ok: true, result: null });
  });

  it('context.fail without an error still fails', async () => {
    const outcome = await runHandler((_e, ctx) => ctx.fail(undefined as unknown as Error), {}, context(), undefined);
    assert.equal(outcome.ok, false);
  });
});
