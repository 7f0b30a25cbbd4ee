/**
 * Handler semantics of the AWS Node.js runtime through the Invoke API: callbacks,
 * context.succeed/fail/done, module formats and TypeScript.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { gate } from '../helpers/gate.js';
import { SANDBOXED } from '../helpers/sandbox-host.js';

for (const isolation of ['worker', 'inline', 'process'] as const) {
  describe(`handler semantics (${isolation})`, () => {
    let fx: FixtureServer;
    before(async () => {
      fx = await startFixtureServer({ isolation });
    });
    after(() => fx.close());

    const cases: Array<[string, string, unknown, { result?: unknown; errorType?: string; errorMessage?: string }]> = [
      ['callback result', 'callback', { mode: 'ok' }, { result: { ok: true } }],
      ['callback called later', 'callback', { mode: 'later' }, { result: { later: true } }],
      ['callback error', 'callback', { mode: 'error' }, { errorType: 'TypeError', errorMessage: 'bad input' }],
      ['callback with a string error', 'callback', { mode: 'string-error' }, { errorType: 'string', errorMessage: 'plain string failure' }],
      ['context.succeed (then fail ignored)', 'context-methods', { method: 'succeed' }, { result: { via: 'succeed' } }],
      ['context.fail', 'context-methods', { method: 'fail' }, { errorType: 'RangeError', errorMessage: 'failed via context' }],
      ['context.done with a result', 'context-methods', { method: 'done-ok' }, { result: { via: 'done' } }],
      ['context.done with an error', 'context-methods', { method: 'done-error' }, { errorType: 'Error', errorMessage: 'done with error' }],
      ['a TypeScript handler', 'typed', { id: 7, items: ['a', 'b', 'c'] }, { result: { id: 7, count: 3, fn: 'typed' } }],
    ];
    for (const [title, name, event, expected] of cases) {
      it(title, async () => {
        const out = await fx.invoke(name, event);
        if (expected.errorType) {
          assert.equal(out.FunctionError, 'Unhandled', out.text);
          assert.equal(out.json.errorType, expected.errorType);
          assert.equal(out.json.errorMessage, expected.errorMessage);
        } else {
          assert.equal(out.FunctionError, undefined, out.text);
          assert.deepEqual(out.json, expected.result);
        }
      });
    }
  });
}

/** Worker and process environments; process ones both sandboxed (the default where the host allows it) and not. */
const WAITING_VARIANTS = [
  { isolation: 'worker', sandbox: 'auto' },
  { isolation: 'process', sandbox: 'auto' },
  ...(SANDBOXED ? [{ isolation: 'process', sandbox: 'off' } as const] : []),
] as const;

for (const { isolation, sandbox } of WAITING_VARIANTS) describe(`callbackWaitsForEmptyEventLoop (${isolation}${sandbox === 'off' ? ', unsandboxed' : ''})`, () => {
  /** The gate is a folder of the test's: a sandboxed function cannot see it, so that test runs unsandboxed. */
  const noGate = isolation === 'process' && sandbox !== 'off' && SANDBOXED ? 'a sandboxed function cannot see the test\'s gate folder' : false;
  let fx: FixtureServer;
  before(async () => {
    fx = await startFixtureServer({ isolation, sandbox });
  });
  after(() => fx.close());

  it('by default, the response waits until pending timers have run', async () => {
    const out = await fx.invoke('callback', { mode: 'waits' });
    assert.deepEqual(out.json, { mode: 'waits' });
    // Asked right after the response: the timer has fired only if the response waited for it.
    assert.deepEqual((await fx.invoke('callback', { mode: 'check' })).json, { timerFired: true });
  });

  it('set to false, the response is sent at once', { skip: noGate }, async () => {
    // Its timers run until the gate opens, which is after the response.
    const held = gate();
    const out = await fx.invoke('callback', { mode: 'no-wait', gate: held.dir });
    assert.deepEqual(out.json, { mode: 'no-wait' });
    assert.deepEqual((await fx.invoke('callback', { mode: 'check' })).json, { timerFired: false });
    held.open();
  });

  it('a synchronous handler that never calls back returns null once the event loop is empty', async () => {
    const out = await fx.invoke('callback', { mode: 'sync-no-callback' });
    assert.equal(out.FunctionError, undefined);
    assert.equal(out.text, 'null');
  });
});
