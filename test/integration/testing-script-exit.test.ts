/** `serverfull/testing` in a plain script: the in-process server does not keep the process alive. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { FIXTURES, REPO_ROOT } from '../helpers/fixture-server.js';

it('a script using lambdaClient and httpClient in process exits by itself, leaving no data directory behind', { timeout: 120_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'serverfull-script-'));
  try {
    // Not under a test runner: no NODE_TEST_CONTEXT, so nothing registers an after-all hook.
    const child = spawn(process.execPath, [join(FIXTURES, 'scripts/in-process-client.mjs')], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    // The test's own timeout bounds this wait: a script the server keeps alive never gets here.
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout.trim());
    assert.deepEqual(result.worker.event, { from: 'worker' });
    assert.deepEqual(result.process.event, { from: 'process' });
    assert.equal(result.gateway, 200);
    assert.deepEqual(readdirSync(tmp).filter((name) => name.startsWith('serverfull-testing-')), []);
  } finally {
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  }
});
