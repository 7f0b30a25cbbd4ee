/** Queued log lines as rows of one flat array: what the writer thread reads back is what was queued. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { END, OUTPUT, queueEnd, queueOutput, readLineBatch, type LineBatch } from '../../src/logs/line-batch.js';
import type { RecordedEnd, RecordedStart } from '../../src/runtime/invocation-recorder.js';

const first: RecordedStart = {
  functionName: 'orders', version: '3', requestId: 'req-1', traceId: '1-5759e988-bd862e3fe1be46a994272793',
  logStreamName: '2026/12/07/[3]0123456789abcdef', startTime: 1_765_000_000_000,
};
const second: RecordedStart = { ...first, functionName: 'billing', version: '$LATEST', requestId: 'req-2', traceId: undefined, startTime: 1_765_000_000_005 };
const cold: RecordedEnd = {
  durationMs: 12.5, memorySize: 256, memoryUsedMB: 61, initDurationMs: 180.25, initFailed: false, status: 'error', errorType: 'TypeError',
};
const warm: RecordedEnd = { durationMs: 0.12, memorySize: 128, memoryUsedMB: 40, initDurationMs: undefined, initFailed: false, status: 'success', errorType: undefined };

describe('line batch', () => {
  it('reads back output lines and ends, interleaved, in the order they were queued, through a structured clone', () => {
    const batch: LineBatch = [];
    queueOutput(batch, first, 1_765_000_000_001, 'INFO', 'hello\tthere', undefined);
    queueOutput(batch, second, 1_765_000_000_006, undefined, 'printed', 'printed\n');
    queueEnd(batch, first, 1_765_000_000_013, cold);
    queueOutput(batch, second, 1_765_000_000_007, 'ERROR', '', undefined);
    queueEnd(batch, second, 1_765_000_000_008, warm);
    // What the writer thread receives: the batch copied as a message is.
    assert.deepEqual(readLineBatch(structuredClone(batch)), [
      { start: first, kind: OUTPUT, time: 1_765_000_000_001, level: 'INFO', text: 'hello\tthere', raw: undefined },
      { start: second, kind: OUTPUT, time: 1_765_000_000_006, level: undefined, text: 'printed', raw: 'printed\n' },
      { start: first, kind: END, time: 1_765_000_000_013, end: cold },
      { start: second, kind: OUTPUT, time: 1_765_000_000_007, level: 'ERROR', text: '', raw: undefined },
      { start: second, kind: END, time: 1_765_000_000_008, end: warm },
    ]);
  });

  it('keeps a line whose text looks like fields of another line as text', () => {
    const batch: LineBatch = [];
    // A function prints what could pass for a row: it stays one field of its own line.
    queueOutput(batch, first, 1, 'INFO', String(END), `${END}`);
    queueEnd(batch, first, 2, warm);
    const lines = readLineBatch(batch);
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!.text, '2');
    assert.equal(lines[1]!.kind, END);
    assert.deepEqual(lines[1]!.end, warm);
  });

  it('reads an empty batch as no lines', () => {
    assert.deepEqual(readLineBatch([]), []);
  });
});
