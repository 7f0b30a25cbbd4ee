/**
 * The host's room for one more busy environment, from counters the test sets: idle CPU and the server loop's load over
 * windows of at least 200 ms, and one environment per window's yes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeasuredHostLoad, type HostCounters } from '../../src/runtime/host-load.js';

/** Counters that advance by `ms` of wall time per call to `tick`, on two cores, with the idle and loop shares set. */
class FakeCounters {
  private now: HostCounters = { cpuIdle: 0, cpuTotal: 0, loopActive: 0, loopIdle: 0 };
  idleShare = 0.5;
  loopShare = 0.5;
  tick(ms: number): void {
    this.now = {
      cpuIdle: this.now.cpuIdle + 2 * ms * this.idleShare,
      cpuTotal: this.now.cpuTotal + 2 * ms,
      loopActive: this.now.loopActive + ms * this.loopShare,
      loopIdle: this.now.loopIdle + ms * (1 - this.loopShare),
    };
  }
  readonly read = () => this.now;
}

describe('host load', () => {
  it('says yes for one environment per window: a second asker in the same window waits for the next', () => {
    const counters = new FakeCounters();
    const host = new MeasuredHostLoad(counters.read);
    counters.tick(1000);
    assert.equal(host.hasRoom(1000), true, 'half the CPU idle, the loop half busy');
    // Before, every asker in the window was told yes: one window's idle CPU started several environments.
    assert.equal(host.hasRoom(1001), false);
    assert.equal(host.hasRoom(1199), false);
    counters.tick(200);
    assert.equal(host.hasRoom(1200), true, 'the next window, measured from the yes');
    assert.equal(host.hasRoom(1250), false);
  });

  it('says no while under a quarter of the CPU is idle or the loop is over 80% busy, and measures again after a window', () => {
    const counters = new FakeCounters();
    const host = new MeasuredHostLoad(counters.read);
    counters.idleShare = 0.2;
    counters.tick(1000);
    assert.equal(host.hasRoom(1000), false);
    counters.idleShare = 0.5;
    counters.tick(100);
    assert.equal(host.hasRoom(1100), false, 'within the window of the no');
    counters.tick(100);
    // The window measured is the 200 ms since the no, half idle.
    assert.equal(host.hasRoom(1200), true);
    counters.loopShare = 0.9;
    counters.tick(200);
    assert.equal(host.hasRoom(1400), false, 'the loop is the bottleneck');
    counters.loopShare = 0.5;
    counters.idleShare = 0.25;
    counters.tick(200);
    assert.equal(host.hasRoom(1600), true, 'a quarter idle is room');
  });
});
