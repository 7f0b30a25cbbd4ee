/** The logger: JSON lines for machines, readable lines for a terminal, levels. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log.js';

function capture(options: Parameters<typeof createLogger>[0]) {
  const lines: string[] = [];
  const logger = createLogger({ ...options, write: (line) => lines.push(line) });
  return { logger, lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line with time, level, message and fields', () => {
    const { logger, lines } = capture({ format: 'json' });
    logger.log('info', 'hello', { function: 'f', requestId: 'r1', status: 200 });
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.endsWith('\n'));
    const entry = JSON.parse(lines[0]!);
    assert.deepEqual({ ...entry, time: undefined }, { time: undefined, level: 'info', msg: 'hello', function: 'f', requestId: 'r1', status: 200 });
    assert.match(entry.time, /^\d{4}-\d\d-\d\dT/);
  });

  it('drops lines below the level, and everything when silent', () => {
    const { logger, lines } = capture({ format: 'json', level: 'warn' });
    logger.log('info', 'dropped');
    logger.log('error', 'kept');
    assert.equal(lines.length, 1);
    assert.equal(logger.enabled('info'), false);
    assert.equal(logger.enabled('warn'), true);
    const silent = capture({ format: 'json', level: 'silent' });
    silent.logger.log('error', 'dropped');
    assert.equal(silent.lines.length, 0);
  });

  it('pretty lines show the level, the function and a short request id', () => {
    const { logger, lines } = capture({ format: 'pretty' });
    logger.log('warn', 'careful', { function: 'orders', requestId: '1234567890ab', status: 429 });
    const plain = lines[0]!.replace(/\x1b\[[0-9;]*m/g, '');
    assert.match(plain, /^\d\d:\d\d:\d\d\.\d{3} WARN  \[orders 12345678\] careful status=429\n$/);
  });
});
