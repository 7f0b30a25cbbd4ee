/** A measurement reused for a while: REPORT's "Max Memory Used" without a system call per invocation. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SampledReading } from '../../src/runtime/sampled-reading.js';

describe('sampled reading', () => {
  it('reads at the first use, then reuses the reading while it is younger than its age limit', () => {
    let reads = 0;
    const reading = new SampledReading(() => ++reads, 60_000);
    assert.equal(reading.value, 1);
    for (let i = 0; i < 1000; i++) assert.equal(reading.value, 1);
    assert.equal(reads, 1);
  });

  it('reads again once the reading is as old as its limit', () => {
    let reads = 0;
    const reading = new SampledReading(() => ++reads, 0);
    assert.deepEqual([reading.value, reading.value, reading.value], [1, 2, 3]);
  });
});
