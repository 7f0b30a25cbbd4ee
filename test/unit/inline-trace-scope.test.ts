/** An inline invocation's `_X_AMZN_TRACE_ID`: its own, read and written through `process.env`, never its neighbour's or the server's. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { inspect } from 'node:util';
import { runInScope } from '../../src/runtime/inline-scope.js';

const A = 'Root=1-5759e988-aaaaaaaaaaaaaaaaaaaaaaaa;Parent=aaaaaaaaaaaaaaaa;Sampled=0';
const B = 'Root=1-5759e988-bbbbbbbbbbbbbbbbbbbbbbbb;Parent=bbbbbbbbbbbbbbbb;Sampled=0';

describe('inline scope: _X_AMZN_TRACE_ID', () => {
  const log = () => undefined;

  it('shows each invocation its own header, across awaits, with one env shared by both', async () => {
    const env: Record<string, string | undefined> = { AWS_LAMBDA_FUNCTION_NAME: 'fn' };
    const read = async () => {
      await setImmediate();
      return process.env._X_AMZN_TRACE_ID;
    };
    const [a, b] = await Promise.all([
      runInScope({ env, log, traceHeader: A }, read),
      runInScope({ env, log, traceHeader: B }, read),
    ]);
    assert.deepEqual([a, b], [A, B]);
    assert.equal(env._X_AMZN_TRACE_ID, undefined, 'the shared env never holds a trace');
    assert.equal(process.env._X_AMZN_TRACE_ID, undefined, 'the server sees none');
  });

  it('lists it among the variables, and lets the function replace or delete it for its own invocation', () => {
    const env: Record<string, string | undefined> = { ONE: '1' };
    runInScope({ env, log, traceHeader: A }, () => {
      assert.ok('_X_AMZN_TRACE_ID' in process.env);
      assert.deepEqual({ ...process.env }, { ONE: '1', _X_AMZN_TRACE_ID: A });
      process.env._X_AMZN_TRACE_ID = B;
      assert.equal(process.env._X_AMZN_TRACE_ID, B);
      delete process.env._X_AMZN_TRACE_ID;
      assert.equal(process.env._X_AMZN_TRACE_ID, undefined);
      assert.ok(!('_X_AMZN_TRACE_ID' in process.env));
      assert.deepEqual({ ...process.env }, { ONE: '1' });
      process.env._X_AMZN_TRACE_ID = A;
      assert.equal(process.env._X_AMZN_TRACE_ID, A, 'set again after a delete, still for this invocation only');
    });
    assert.deepEqual(env, { ONE: '1' });
    runInScope({ env, log, traceHeader: A }, () => assert.equal(process.env._X_AMZN_TRACE_ID, A, 'the next invocation has its own again'));
  });

  it('prints as the function\'s variables and its header (console.log(process.env) printed {})', () => {
    const env: Record<string, string | undefined> = { ONE: '1' };
    runInScope({ env, log, traceHeader: A }, () => {
      assert.equal(inspect(process.env), inspect({ ONE: '1', _X_AMZN_TRACE_ID: A }));
    });
  });

  it('has none outside an invocation (the init)', () => {
    runInScope({ env: {}, log }, () => assert.equal(process.env._X_AMZN_TRACE_ID, undefined));
  });
});
