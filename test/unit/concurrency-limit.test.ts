/** The counter of executions in flight against a ceiling: the account limit and each function's reserved concurrency. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConcurrencyLimit } from '../../src/runtime/concurrency-limit.js';

describe('ConcurrencyLimit', () => {
  it('admits up to its limit, refuses beyond it without queueing, and frees a slot on release', () => {
    const limit = new ConcurrencyLimit(2);
    assert.equal(limit.inFlight, 0);
    assert.equal(limit.tryAcquire(), true);
    assert.equal(limit.tryAcquire(), true);
    assert.equal(limit.inFlight, 2);
    assert.equal(limit.tryAcquire(), false, 'the third is refused');
    assert.equal(limit.inFlight, 2, 'a refusal takes no slot');
    limit.release();
    assert.equal(limit.inFlight, 1);
    assert.equal(limit.tryAcquire(), true, 'a released slot is free again');
    assert.equal(limit.tryAcquire(), false);
  });

  it('with a limit of 0 refuses everything; with Infinity refuses nothing', () => {
    const none = new ConcurrencyLimit(0);
    assert.equal(none.tryAcquire(), false);
    assert.equal(none.inFlight, 0);
    const unlimited = new ConcurrencyLimit(Infinity);
    for (let i = 0; i < 10_000; i++) assert.equal(unlimited.tryAcquire(), true);
    assert.equal(unlimited.inFlight, 10_000);
  });

  it('lets those in flight finish when lowered, and admits again only below the new limit', () => {
    const limit = new ConcurrencyLimit(3);
    for (let i = 0; i < 3; i++) assert.ok(limit.tryAcquire());
    limit.limit = 1;
    assert.equal(limit.inFlight, 3, 'admitted executions are not revoked');
    assert.equal(limit.tryAcquire(), false);
    limit.release();
    limit.release();
    assert.equal(limit.tryAcquire(), false, 'still one in flight: at the new limit');
    limit.release();
    assert.equal(limit.tryAcquire(), true);
    limit.limit = 5;
    for (let i = 0; i < 4; i++) assert.ok(limit.tryAcquire(), 'raising it admits more at once');
    assert.equal(limit.tryAcquire(), false);
  });
});
