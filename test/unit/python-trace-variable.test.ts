/** The Python runtime client's `_X_AMZN_TRACE_ID`: set for each invocation without `setenv`, which keeps every value it is given. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findPython } from '../../src/runtime/python-interpreter.js';

/** The repository, from `dist/test/unit`. */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const python = findPython(process.env.PATH ?? '');
const LAST = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:99999';

describe('Python runtime: trace variable', { skip: python === null && !process.env.CI ? 'no python3 on PATH' : false }, () => {
  it('sets a new header 100,000 times without the process growing, and the environment, C\'s and a child\'s, sees the last', () => {
    assert.ok(python, 'no python3 on PATH');
    const out = execFileSync(python.executable, [join(REPO_ROOT, 'test/fixtures/python-runtime/trace_variable_check.py'), join(REPO_ROOT, 'runtimes', 'python')], { encoding: 'utf8' });
    const seen = JSON.parse(out) as { grownKb: number; environ: string; getenv: string; c: string; child: string; long: string[]; removed: unknown[] };
    // setenv kept every value: 100,000 headers grew the process by about 16 MB.
    assert.ok(seen.grownKb < 2048, `the process grew by ${seen.grownKb} KB`);
    assert.deepEqual([seen.environ, seen.getenv, seen.c, seen.child], [LAST, LAST, LAST, LAST]);
    const long = `Root=1-${'a'.repeat(600)}`;
    assert.deepEqual(seen.long, [long, long]);
    assert.deepEqual(seen.removed, [null, null]);
  });
});
