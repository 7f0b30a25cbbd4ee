/** SCHED_BATCH for runtimes: a wrapped command runs as given, under the policy; a thread handed to the helper gets it. */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { batchScheduled, batchScheduleThread, startBatchScheduling } from '../../src/runtime/batch-scheduling.js';
import { ownThreadId } from '../../src/runtime/thread-id.js';
import { SCHED_BATCH, schedulingPolicyOf } from '../helpers/scheduling-policy.js';
import { waitUntil } from '../helpers/wait-until.js';

const MODULE = new URL('../../src/runtime/batch-scheduling.js', import.meta.url).href;

describe('batch scheduling', () => {
  it('finds chrt on the machines this suite runs on', async () => {
    assert.ok(await startBatchScheduling());
  });

  it('tries chrt without holding the thread that starts it, and applies a thread id sent before the try has ended', async () => {
    const sleeper = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    try {
      // A process of its own, where nothing has started the helper yet. A try that held the thread (a synchronous spawn)
      // would have its answer when the call returns; one that does not gets it as I/O, which cannot come before the
      // caller's next microtasks have run, however fast the helper is.
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
        const { batchScheduleThread, startBatchScheduling } = await import(${JSON.stringify(MODULE)});
        batchScheduleThread(${sleeper.pid});
        const trying = startBatchScheduling();
        let answered = false;
        void trying.then(() => { answered = true; });
        await null;
        await null;
        const pending = !answered;
        const chrt = await trying;
        console.log(JSON.stringify({ pending, chrt, again: startBatchScheduling() === startBatchScheduling() }));
      `], { encoding: 'utf8' });
      const { pending, chrt, again } = JSON.parse(out) as { pending: boolean; chrt: string | undefined; again: boolean };
      assert.equal(pending, true, 'the call returned before the try had its answer');
      assert.ok(chrt);
      assert.equal(again, true, 'tried once per process');
      // The helper reads what it was sent before its input closed with that process.
      await waitUntil(() => schedulingPolicyOf(sleeper.pid!) === SCHED_BATCH, 'the policy set');
    } finally {
      sleeper.kill();
    }
  });

  it('runs a wrapped command with its arguments as they were, options included, under SCHED_BATCH', async () => {
    const { file, args } = batchScheduled(await startBatchScheduling(), '/bin/sh', ['-c', 'echo "$@"; cut -d" " -f41 /proc/$$/stat', 'sh', '--batch', '-p', '0', '$HOME; id']);
    const out = spawnSync(file, args, { encoding: 'utf8', env: {} });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout, `--batch -p 0 $HOME; id\n${SCHED_BATCH}\n`);
  });

  it('runs a command as it is where chrt is not available', () => {
    assert.deepEqual(batchScheduled(undefined, '/bin/sh', ['-c', 'true']), { file: '/bin/sh', args: ['-c', 'true'] });
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
