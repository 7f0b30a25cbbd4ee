/** SCHED_BATCH for runtimes: a wrapped command runs as given, under the policy; a thread handed to the helper gets it. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { batchScheduled, batchScheduleThread, chrtPath } from '../../src/runtime/batch-scheduling.js';
import { ownThreadId } from '../../src/runtime/thread-id.js';
import { SCHED_BATCH, schedulingPolicyOf } from '../helpers/scheduling-policy.js';
import { waitUntil } from '../helpers/wait-until.js';

describe('batch scheduling', () => {
  it('finds chrt on the machines this suite runs on', () => {
    assert.ok(chrtPath());
  });

  it('runs a wrapped command with its arguments as they were, options included, under SCHED_BATCH', () => {
    const { file, args } = batchScheduled('/bin/sh', ['-c', 'echo "$@"; cut -d" " -f41 /proc/$$/stat', 'sh', '--batch', '-p', '0', '$HOME; id']);
    const out = spawnSync(file, args, { encoding: 'utf8', env: {} });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout, `--batch -p 0 $HOME; id\n${SCHED_BATCH}\n`);
  });

  it('puts a thread under SCHED_BATCH through its helper, and leaves the caller\'s thread as it was', async () => {
    const sleeper = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    try {
      assert.equal(schedulingPolicyOf(sleeper.pid!), 0);
      batchScheduleThread(sleeper.pid!);
      await waitUntil(() => schedulingPolicyOf(sleeper.pid!) === SCHED_BATCH, 'the policy set');
      assert.equal(schedulingPolicyOf(ownThreadId()!), 0);
    } finally {
      sleeper.kill();
    }
  });

  it('ignores what is not a thread id', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2]) assert.doesNotThrow(() => batchScheduleThread(bad));
  });
});
