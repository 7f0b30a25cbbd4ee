/** The stored logs' settings: retention in days or as a duration, bytes per function. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { DEFAULT_SETTINGS, resolveSettings } from '../../src/config/settings.js';
import { printable, sinceTime } from '../../src/cli/logs-command.js';

describe('log settings', () => {
  it('default to 7 days and 64 MiB per function', () => {
    assert.equal(DEFAULT_SETTINGS.logRetention, 7);
    assert.equal(DEFAULT_SETTINGS.logMaxBytes, 64 * 1024 * 1024);
  });

  it('read the retention as days or as a duration, from flags and the environment', () => {
    const cases: ReadonlyArray<readonly [string, number]> = [['30', 30], ['0.5', 0.5], ['12h', 0.5], ['90m', 90 / 1440], ['86400s', 1], ['3d', 3]];
    for (const [text, days] of cases) {
      assert.equal(resolveSettings({ flags: { logRetention: text } }).logRetention, days, text);
      assert.equal(resolveSettings({ env: { SERVERFULL_LOG_RETENTION: text } }).logRetention, days, text);
    }
    assert.equal(resolveSettings({ manifest: { logRetention: 14 } }).logRetention, 14);
  });

  it('refuse a retention that is no duration, zero or over 10 years', () => {
    for (const value of ['forever', '0', '-1', '12y', '4000', 0]) {
      assert.throws(() => resolveSettings({ flags: { logRetention: value } }), ConfigError, String(value));
    }
  });

  it('take 0 bytes (store nothing) and refuse a negative bound', () => {
    assert.equal(resolveSettings({ flags: { logMaxBytes: '0' } }).logMaxBytes, 0);
    assert.throws(() => resolveSettings({ flags: { logMaxBytes: '-5' } }), ConfigError);
  });
});

describe('serverfull logs helpers', () => {
  it('reads --since as a duration back from now or an ISO time', () => {
    const now = Date.UTC(2024, 0, 31, 12);
    assert.equal(sinceTime('10m', now), now - 600_000);
    assert.equal(sinceTime('2h', now), now - 7_200_000);
    assert.equal(sinceTime('1d', now), now - 86_400_000);
    assert.equal(sinceTime('2024-01-31T11:00:00Z', now), now - 3_600_000);
    assert.equal(sinceTime('soon', now), undefined);
  });

  it('escapes control characters but tabs and newlines', () => {
    assert.equal(printable('a\tb\nc\u001b[31md\re\u0000\u009b'), 'a\tb\nc\\u001b[31md\\u000de\\u0000\\u009b');
  });
});
