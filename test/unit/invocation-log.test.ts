/** The invocation log and its 4 KB tail. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvocationLog, TAIL_BYTES } from '../../src/runtime/invocation-log.js';

describe('InvocationLog', () => {
  it('frames output with START, END and REPORT in the Lambda format', () => {
    const log = new InvocationLog('req-1', '$LATEST');
    log.append('INFO', 'hello');
    log.append(undefined, 'raw\n');
    const text = Buffer.from(log.finish({ durationMs: 1.234, memorySize: 128, memoryUsedMB: 9, initDurationMs: 150 }), 'base64').toString();
    const lines = text.split('\n');
    assert.equal(lines[0], 'START RequestId: req-1 Version: $LATEST');
    assert.match(lines[1]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\treq-1\tINFO\thello$/);
    assert.equal(lines[2], 'raw');
    assert.equal(lines[3], 'END RequestId: req-1');
    assert.equal(lines[4], 'REPORT RequestId: req-1\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB\tInit Duration: 150.00 ms\t');
  });

  it('returns only the last 4 KB', () => {
    const log = new InvocationLog('req-2', '$LATEST');
    for (let i = 0; i < 1000; i++) log.append('INFO', `line ${i}`);
    const tail = Buffer.from(log.finish({ durationMs: 1, memorySize: 128, memoryUsedMB: 1 }), 'base64');
    assert.equal(tail.length, TAIL_BYTES);
    assert.match(tail.toString(), /line 999\n/);
    assert.doesNotMatch(tail.toString(), /Init Duration/);
  });
});

describe('InvocationLog: failures', () => {
  it('keeps raw lines as the runtime wrote them, and ends REPORT with the status', () => {
    const log = new InvocationLog('req-3', '$LATEST');
    log.append('ERROR', 'ignored', 'as the runtime wrote it\n');
    const text = Buffer.from(log.finish({ durationMs: 3000, memorySize: 128, memoryUsedMB: 9, status: 'timeout' }), 'base64').toString();
    const lines = text.split('\n');
    assert.equal(lines[1], 'as the runtime wrote it');
    assert.match(lines[3]!, /\tMax Memory Used: 9 MB\tStatus: timeout\t$/);
    const failed = new InvocationLog('req-4', '$LATEST');
    const report = Buffer.from(failed.finish({ durationMs: 1, memorySize: 128, memoryUsedMB: 9, status: 'error', errorType: 'Runtime.ExitError' }), 'base64').toString();
    assert.match(report, /\tStatus: error\tError Type: Runtime\.ExitError\t\n$/);
  });
});
