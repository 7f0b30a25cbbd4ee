/** A process's peak resident memory for REPORT, read through a descriptor kept from the spawn. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ProcessPeakMemory } from '../../src/runtime/process-peak-memory.js';

/** A Node.js child that holds `mb` MB, touched, and says so on stdout. */
async function holding(mb: number) {
  const child = spawn(process.execPath, ['-e', `globalThis.held = new Uint8Array(${mb} * 1048576).fill(1); console.log('held'); setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data');
  return child;
}

describe('process peak memory', () => {
  it('reads the process\'s VmHWM, in MB rounded up, as its /proc status says, at every reading', async () => {
    const child = await holding(48);
    const peak = new ProcessPeakMemory(child.pid!);
    try {
      const kB = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'latin1'))![1]);
      assert.ok(peak.megabytes >= 48, `${peak.megabytes} MB`);
      assert.equal(peak.megabytes, Math.ceil(kB / 1024));
      assert.equal(peak.megabytes, peak.megabytes, 'read again from the start, not from where the last read ended');
    } finally {
      child.kill('SIGKILL');
      peak.close();
    }
  });

  it('reads 0 once its process is gone, never the memory of a process that took its pid since', async () => {
    const child = await holding(16);
    const peak = new ProcessPeakMemory(child.pid!);
    assert.ok(peak.megabytes >= 16);
    child.kill('SIGKILL');
    await once(child, 'exit');
    // The pid is free now and may name another process: the descriptor still names the one that is gone.
    assert.equal(peak.megabytes, 0);
    peak.close();
  });

  it('reads 0 after close, and for a pid with no process', () => {
    const own = new ProcessPeakMemory(process.pid);
    assert.ok(own.megabytes > 0);
    own.close();
    own.close();
    assert.equal(own.megabytes, 0);
    // Above the largest pid Linux gives (2^22).
    assert.equal(new ProcessPeakMemory(5_000_000).megabytes, 0);
  });
});
