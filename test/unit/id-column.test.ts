/** The console history's id columns: ids kept as bytes, any id kept whole. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdColumn } from '../../src/console/id-column.js';

describe('IdColumn', () => {
  it('gives back each slot\'s id, however long, whatever its characters, after slots are reused', () => {
    const column = new IdColumn(4, 36);
    const ids = ['8f14e45f-ceea-4e7a-9d38-6f1b2c3d4e5f', 'req-1', '', 'x'.repeat(37)];
    ids.forEach((id, slot) => column.set(slot, id));
    assert.deepEqual(ids.map((_, slot) => column.get(slot)), ids);
    // Reused: a kept string gives way to bytes and the reverse, and a shorter id leaves nothing of the longer one.
    column.set(3, 'short');
    column.set(0, 'naïve-ïd');
    column.set(1, 'r');
    assert.deepEqual([0, 1, 2, 3].map((slot) => column.get(slot)), ['naïve-ïd', 'r', '', 'short']);
  });

  it('refuses a width its length byte cannot mark', () => {
    assert.throws(() => new IdColumn(1, 255), RangeError);
  });
});
