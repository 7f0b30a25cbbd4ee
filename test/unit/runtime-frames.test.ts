/**
 * The private channel's frames: cut from a byte stream however it arrives, an oversized body
 * dropped without being held, and a stream that is not frames refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeFrame, FrameReader } from '../../src/runtime-api/runtime-frames.js';

type Frame = [Record<string, unknown>, string | undefined];

function reader(maxBody = 1024): { frames: Frame[]; invalid: string[]; reader: FrameReader } {
  const frames: Frame[] = [];
  const invalid: string[] = [];
  return { frames, invalid, reader: new FrameReader(maxBody, (head, body) => frames.push([head, body]), (reason) => invalid.push(reason)) };
}

describe('runtime frames', () => {
  it('reads frames whole, several in one chunk, and split at every byte', () => {
    const bytes = Buffer.concat([
      encodeFrame({ call: 'next' }, ''),
      encodeFrame({ call: 'response', requestId: 'r1' }, '{"ünïcode":"✓"}'),
      encodeFrame({ call: 'error', requestId: 'r2', errorType: 'E' }, 'x'.repeat(300)),
    ]);
    const expected: Frame[] = [[{ call: 'next' }, ''], [{ call: 'response', requestId: 'r1' }, '{"ünïcode":"✓"}'], [{ call: 'error', requestId: 'r2', errorType: 'E' }, 'x'.repeat(300)]];
    const whole = reader();
    whole.reader.push(bytes);
    assert.deepEqual(whole.frames, expected);
    const split = reader();
    for (let i = 0; i < bytes.length; i++) split.reader.push(bytes.subarray(i, i + 1));
    assert.deepEqual(split.frames, expected);
    assert.deepEqual([whole.invalid, split.invalid], [[], []]);
  });

  it('drops a body over the limit as it arrives, reports it as missing, and reads on', () => {
    const { frames, reader: frameReader } = reader(10);
    const big = encodeFrame({ call: 'response', requestId: 'big' }, 'y'.repeat(5000));
    const after = encodeFrame({ call: 'next' }, '');
    frameReader.push(big.subarray(0, 100));
    frameReader.push(big.subarray(100, 3000));
    frameReader.push(Buffer.concat([big.subarray(3000), after]));
    assert.deepEqual(frames, [[{ call: 'response', requestId: 'big' }, undefined], [{ call: 'next' }, '']]);
  });

  it('refuses a head that is too long or not a JSON object', () => {
    const huge = Buffer.alloc(16, 0xff);
    const notJson = Buffer.concat([Buffer.from([0, 0, 0, 3, 0, 0, 0, 0]), Buffer.from('abc')]);
    const array = encodeFrame([1, 2], '');
    for (const bytes of [huge, notJson, array]) {
      const { frames, invalid, reader: frameReader } = reader();
      frameReader.push(bytes);
      assert.deepEqual(frames, []);
      assert.equal(invalid.length, 1);
    }
  });
});
