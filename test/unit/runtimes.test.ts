/** The one list of runtimes, and when a declared runtime is not what runs. */
import assert from 'node:assert/strict';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultRuntimesDir, NodeInstalls } from '../../src/runtime/node-installs.js';
import { AWS_RUNTIMES, DEFAULT_RUNTIME, isPythonRuntime, NODE_RUNTIMES, PYTHON_RUNTIMES, runsAsProcessOnly, runtimeMismatch, SUPPORTED_RUNTIMES } from '../../src/registry/runtimes.js';

describe('runtimes', () => {
  it('supports the Node.js runtimes AWS runs, and the OS-only ones', () => {
    for (const runtime of ['nodejs20.x', 'nodejs22.x', 'nodejs24.x', 'provided.al2023', 'provided.al2', 'provided']) {
      assert.ok(SUPPORTED_RUNTIMES.includes(runtime), runtime);
    }
    for (const runtime of NODE_RUNTIMES) assert.ok(AWS_RUNTIMES.includes(runtime), `${runtime} is an AWS runtime name`);
  });

  it('supports Python 3.11 to 3.13, which run as processes only, as custom runtimes do', () => {
    assert.deepEqual(PYTHON_RUNTIMES, ['python3.11', 'python3.12', 'python3.13']);
    for (const runtime of PYTHON_RUNTIMES) {
      assert.ok(SUPPORTED_RUNTIMES.includes(runtime) && AWS_RUNTIMES.includes(runtime), runtime);
      assert.ok(isPythonRuntime(runtime) && runsAsProcessOnly(runtime), runtime);
      // Python's version is told apart where the interpreter is found.
      assert.equal(runtimeMismatch(runtime, '22.11.0'), undefined);
    }
    assert.ok(runsAsProcessOnly('provided.al2023'));
    assert.ok(!runsAsProcessOnly('nodejs22.x') && !isPythonRuntime('python3.9'));
  });

  it('the default is the Node.js that runs, so it never differs from what runs', () => {
    assert.equal(DEFAULT_RUNTIME, `nodejs${process.versions.node.split('.')[0]}.x`);
    assert.equal(runtimeMismatch(DEFAULT_RUNTIME), undefined);
  });

  it('says when a declared Node.js runtime runs on another Node.js; custom runtimes bring their own', () => {
    assert.equal(runtimeMismatch('nodejs22.x', '22.11.0'), undefined);
    assert.equal(runtimeMismatch('nodejs24.x', '22.11.0'), 'nodejs24.x functions run on Node.js 22.11.0 (serverfull\'s own Node.js), not on Node.js 24');
    assert.equal(runtimeMismatch('provided.al2023', '22.11.0'), undefined);
  });
});

describe('runtimes directory', () => {
  it('defaults to the user\'s data folder: XDG_DATA_HOME when absolute, else ~/.local/share', () => {
    assert.equal(defaultRuntimesDir({ XDG_DATA_HOME: '/data/me' }), '/data/me/serverfull/runtimes');
    assert.equal(defaultRuntimesDir({ XDG_DATA_HOME: 'relative' }), join(homedir(), '.local/share/serverfull/runtimes'));
    assert.equal(defaultRuntimesDir({}), join(homedir(), '.local/share/serverfull/runtimes'));
  });

  it('finds nothing where nothing is installed, and nothing for a runtime that is not Node.js', () => {
    const installs = new NodeInstalls(join(tmpdir(), 'serverfull-no-such-runtimes'));
    assert.equal(installs.find('nodejs22.x'), undefined);
    assert.equal(installs.find('provided.al2023'), undefined);
    assert.deepEqual(installs.list(), []);
  });
});
