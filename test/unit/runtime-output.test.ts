/** A runtime process's output read as log lines: partial chunks, the Node.js runtime's format, other lines. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FunctionLogLevel } from '../../src/runtime/execution-environment.js';
import { RuntimeOutput } from '../../src/runtime/runtime-output.js';

function collect(): { output: RuntimeOutput; lines: Array<[FunctionLogLevel, string, string]> } {
  const lines: Array<[FunctionLogLevel, string, string]> = [];
  return { lines, output: new RuntimeOutput((level, message, raw) => void lines.push([level, message, raw])) };
}

const LINE = '2024-05-01T10:00:00.123Z\tabc-123\tERROR\tsomething failed';

describe('RuntimeOutput', () => {
  it('gives a runtime line its level and message, and keeps the raw line', () => {
    const { output, lines } = collect();
    output.write(`${LINE}\n`);
    assert.deepEqual(lines, [['ERROR', 'something failed', `${LINE}\n`]]);
  });

  it('joins a line split across chunks, wherever the split falls', () => {
    for (let cut = 1; cut < LINE.length; cut++) {
      const { output, lines } = collect();
      output.write(LINE.slice(0, cut));
      assert.equal(lines.length, 0);
      output.write(`${LINE.slice(cut)}\nnext`);
      assert.deepEqual(lines, [['ERROR', 'something failed', `${LINE}\n`]], `cut at ${cut}`);
    }
  });

  it('splits a chunk of several lines, mixed formats', () => {
    const { output, lines } = collect();
    output.write(`raw text\n${LINE}\n2024-05-01T10:00:00.124Z\tundefined\tINFO\tinit line\n\n`);
    assert.deepEqual(lines.map(([level, message]) => [level, message]), [[undefined, 'raw text'], ['ERROR', 'something failed'], ['INFO', 'init line'], [undefined, '']]);
  });

  it('gives a line of Python\'s logging its level, WARNING as WARN and CRITICAL as ERROR; Python\'s error report is raw', () => {
    const { output, lines } = collect();
    const at = '2024-05-01T10:00:00.123Z\tabc-123\t';
    output.write(`[INFO]\t${at}ready\n[WARNING]\t${at}slow\n[CRITICAL]\t${at}down\n[ERROR] ValueError: boom\n[NOTICE]\t${at}odd\n`);
    assert.deepEqual(lines.map(([level, message]) => [level, message]), [
      ['INFO', 'ready'], ['WARN', 'slow'], ['ERROR', 'down'], [undefined, '[ERROR] ValueError: boom'], [undefined, `[NOTICE]\t${at}odd`],
    ]);
    assert.equal(lines[0]![2], `[INFO]\t${at}ready\n`);
  });

  it('turns the \\r of a multi-line message back into newlines for the message, not the raw line', () => {
    const { output, lines } = collect();
    output.write('2024-05-01T10:00:00.123Z\tabc\tINFO\tfirst\rsecond\n');
    assert.deepEqual(lines, [['INFO', 'first\nsecond', '2024-05-01T10:00:00.123Z\tabc\tINFO\tfirst\rsecond\n']]);
  });

  it('lets a partial line through on flush, once', () => {
    const { output, lines } = collect();
    output.write('no newline yet');
    output.flush();
    output.flush();
    assert.deepEqual(lines, [[undefined, 'no newline yet', 'no newline yet\n']]);
  });

  it('takes lines that only look like runtime lines as they are', () => {
    const { output, lines } = collect();
    output.write('2024-05-01 10:00:00\tabc\tERROR\tnot ISO\n2024-05-01T10:00:00.123Z\tabc\tNOTICE\tunknown level\n');
    assert.deepEqual(lines.map(([level]) => level), [undefined, undefined]);
  });
});
