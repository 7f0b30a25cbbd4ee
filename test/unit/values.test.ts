/** The shared value helpers: what counts as a JSON object, and decoding that reports a malformed escape. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeUriComponentSafely, isObject } from '../../src/values.js';

describe('isObject', () => {
  for (const [value, expected] of [[{}, true], [{ a: 1 }, true], [[], false], [null, false], ['x', false], [1, false], [undefined, false]] as const) {
    it(`${JSON.stringify(value) ?? 'undefined'} is ${expected ? '' : 'not '}an object`, () => assert.equal(isObject(value), expected));
  }
});

describe('decodeUriComponentSafely', () => {
  it('decodes escapes, leaves text without one as it is, and reports a malformed one', () => {
    assert.equal(decodeUriComponentSafely('a%2Fb%20c'), 'a/b c');
    assert.equal(decodeUriComponentSafely('a+b'), 'a+b');
    assert.equal(decodeUriComponentSafely('%E0%A4%A'), undefined);
    assert.equal(decodeUriComponentSafely('100%'), undefined);
  });
});
