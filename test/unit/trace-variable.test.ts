/** A runtime process's `_X_AMZN_TRACE_ID`: held by `process.env` itself, never set in the real environment, which keeps every value it is given. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { TRACE_VARIABLE, TraceVariable } from '../../src/runtime-client/trace-variable.js';

const A = 'Root=1-5759e988-aaaaaaaaaaaaaaaaaaaaaaaa;Parent=aaaaaaaaaaaaaaaa;Sampled=0';
const B = 'Root=1-5759e988-bbbbbbbbbbbbbbbbbbbbbbbb;Parent=bbbbbbbbbbbbbbbb;Sampled=0';

/** Runs `test` with `process.env` held by a TraceVariable, given the environment it took over. */
function holding(test: (trace: TraceVariable, real: NodeJS.ProcessEnv) => void): void {
  const real = process.env;
  const trace = new TraceVariable();
  try {
    test(trace, real);
  } finally {
    trace.release();
    delete process.env[TRACE_VARIABLE];
  }
}

describe('trace variable', () => {
  it('shows each invocation\'s header in process.env without setting it in the real environment', () => {
    holding((trace, real) => {
      for (const header of [A, B]) {
        trace.set(header);
        assert.equal(process.env._X_AMZN_TRACE_ID, header);
        assert.equal(real._X_AMZN_TRACE_ID, undefined, 'the real environment never gets it');
      }
      assert.ok(TRACE_VARIABLE in process.env);
      assert.ok(Object.keys(process.env).includes(TRACE_VARIABLE));
      assert.equal({ ...process.env }._X_AMZN_TRACE_ID, B);
      assert.equal(JSON.parse(JSON.stringify(process.env))._X_AMZN_TRACE_ID, B);
      trace.set(undefined);
      assert.equal(process.env._X_AMZN_TRACE_ID, undefined);
      assert.ok(!(TRACE_VARIABLE in process.env));
      assert.ok(!Object.keys(process.env).includes(TRACE_VARIABLE));
    });
  });

  it('lets function code replace and delete it, and passes every other variable through to the real environment', () => {
    holding((trace, real) => {
      trace.set(A);
      process.env._X_AMZN_TRACE_ID = B;
      assert.equal(process.env._X_AMZN_TRACE_ID, B);
      delete process.env._X_AMZN_TRACE_ID;
      assert.equal(process.env._X_AMZN_TRACE_ID, undefined);
      Object.defineProperty(process.env, TRACE_VARIABLE, { value: A, writable: true, enumerable: true, configurable: true });
      assert.equal(process.env._X_AMZN_TRACE_ID, A);
      assert.equal(real._X_AMZN_TRACE_ID, undefined);
      process.env.SERVERFULL_TRACE_VARIABLE_TEST = 'passed';
      assert.equal(real.SERVERFULL_TRACE_VARIABLE_TEST, 'passed');
      assert.equal(process.env.SERVERFULL_TRACE_VARIABLE_TEST, 'passed');
      delete process.env.SERVERFULL_TRACE_VARIABLE_TEST;
      assert.equal(real.SERVERFULL_TRACE_VARIABLE_TEST, undefined);
      assert.equal(process.env.PATH, real.PATH);
    });
  });

  it('prints as the variables it shows, the header included (console.log(process.env) printed {})', () => {
    holding((trace, real) => {
      trace.set(A);
      const printed = inspect(process.env);
      assert.ok(printed.includes(A), printed);
      assert.ok(printed.includes(`PATH: ${inspect(real.PATH)}`), printed);
    });
  });

  it('lists it once when the real environment has it too (set by native code)', () => {
    holding((trace, real) => {
      trace.set(A);
      // What a native addon's setenv would leave: the real environment's own value, under the held one.
      Reflect.set(real, TRACE_VARIABLE, B);
      try {
        assert.equal(Object.keys(process.env).filter((key) => key === TRACE_VARIABLE).length, 1);
        assert.equal({ ...process.env }._X_AMZN_TRACE_ID, A);
      } finally {
        Reflect.deleteProperty(real, TRACE_VARIABLE);
      }
    });
  });

  it('gives the header to the child processes function code starts', () => {
    holding((trace) => {
      trace.set(A);
      const seen = execFileSync(process.execPath, ['-e', 'process.stdout.write(process.env._X_AMZN_TRACE_ID ?? "none")'], { encoding: 'utf8' });
      assert.equal(seen, A);
      trace.set(undefined);
      const none = execFileSync(process.execPath, ['-e', 'process.stdout.write(process.env._X_AMZN_TRACE_ID ?? "none")'], { encoding: 'utf8' });
      assert.equal(none, 'none');
    });
  });

  it('gives process.env back to the real environment, with the header it holds', () => {
    const real = process.env;
    const trace = new TraceVariable();
    trace.set(A);
    trace.release();
    try {
      assert.equal(process.env, real);
      assert.equal(process.env._X_AMZN_TRACE_ID, A);
    } finally {
      delete process.env[TRACE_VARIABLE];
    }
  });
});
