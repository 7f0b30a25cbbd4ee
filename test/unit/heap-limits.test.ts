/** An environment's V8 heap: young and old generation together are the function's memorySize, across Lambda's range. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heapLimitArguments, heapLimits } from '../../src/runtime/heap-limits.js';

describe('heap limits', () => {
  it('splits memorySize between the young and the old generation, the young one growing with it up to a cap', () => {
    for (const [memorySize, semiSpaceMb] of [[128, 1], [200, 1], [256, 2], [1024, 8], [2048, 16], [10240, 16]] as const) {
      const limits = heapLimits(memorySize);
      assert.equal(limits.semiSpaceMb, semiSpaceMb, `${memorySize} MB`);
      assert.equal(limits.youngGenerationMb, 3 * semiSpaceMb);
      assert.equal(limits.youngGenerationMb + limits.oldGenerationMb, memorySize);
    }
  });

  it('gives a runtime process the same heap as Node.js options', () => {
    assert.deepEqual(heapLimitArguments(256), ['--max-old-space-size=250', '--max-semi-space-size=2']);
  });
});
