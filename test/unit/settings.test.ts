/** Settings precedence: flags > SERVERFULL_* environment > manifest > defaults. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SETTINGS, resolveSettings } from '../../src/config/settings.js';

describe('resolveSettings', () => {
  it('defaults to 127.0.0.1:8080, us-east-1, account 000000000000, worker isolation', () => {
    const settings = resolveSettings({});
    assert.deepEqual(settings, DEFAULT_SETTINGS);
    assert.equal(settings.host, '127.0.0.1');
    assert.equal(settings.port, 8080);
    assert.equal(settings.region, 'us-east-1');
    assert.equal(settings.accountId, '000000000000');
    assert.equal(settings.isolation, 'worker');
    assert.ok(Object.isFrozen(settings));
  });

  it('applies manifest < environment < flags', () => {
    const settings = resolveSettings({
      manifest: { port: 1000, region: 'eu-west-1', isolation: 'inline', concurrency: 5 },
      env: { SERVERFULL_PORT: '2000', SERVERFULL_REGION: 'ap-south-1' },
      flags: { port: '3000' },
    });
    assert.equal(settings.port, 3000);
    assert.equal(settings.region, 'ap-south-1');
    assert.equal(settings.isolation, 'inline');
    assert.equal(settings.concurrency, 5);
  });

  it('names the layer and the field of a bad value', () => {
    assert.throws(() => resolveSettings({ env: { SERVERFULL_PORT: 'eighty' } }), /SERVERFULL_PORT must be an integer from 0 to 65535 \(got "eighty"\)/);
    assert.throws(() => resolveSettings({ flags: { region: 'mars' } }), /--region must be an AWS region/);
    assert.throws(() => resolveSettings({ manifest: { accountId: '42' } }), /serverfull.json: "accountId" must be a 12-digit account id/);
  });

  it('reads lists as comma-separated text from flags and the environment, as arrays from the manifest', () => {
    const settings = resolveSettings({
      manifest: { allowedHosts: ['lambda.internal'] },
      env: { SERVERFULL_ALLOWED_ORIGINS: 'http://localhost:5173, https://console.example.com' },
    });
    assert.deepEqual(settings.allowedOrigins, ['http://localhost:5173', 'https://console.example.com']);
    assert.deepEqual(settings.allowedHosts, ['lambda.internal']);
    assert.ok(Object.isFrozen(settings.allowedHosts));
    assert.deepEqual(resolveSettings({ flags: { allowedHosts: 'a.example,b.example' } }).allowedHosts, ['a.example', 'b.example']);
    assert.throws(() => resolveSettings({ flags: { allowedOrigins: 'localhost:5173' } }), /--allowed-origins must be a list of origins/);
    assert.throws(() => resolveSettings({ manifest: { allowedHosts: 'lambda.internal' } }), /"allowedHosts" must be a list of host names/);
    assert.throws(() => resolveSettings({ flags: { auth: 'basic' } }), /--auth must be one of "none", "sigv4"/);
  });

  it('bounds the event queue, its events\' age and the code storage, with AWS\'s defaults where AWS has them', () => {
    const defaults = resolveSettings({});
    assert.equal(defaults.eventQueueLimit, 10_000);
    assert.equal(defaults.eventQueueBytes, 134_217_728);
    assert.equal(defaults.maxEventAge, 21_600, 'six hours, as AWS');
    assert.equal(defaults.codeStorageLimit, 80_530_636_800, '75 GB, as AWS');
    assert.equal(defaults.kmsKeyFile, undefined);
    const set = resolveSettings({
      manifest: { eventQueueLimit: 5, codeStorageLimit: 1000 },
      env: { SERVERFULL_EVENT_QUEUE_BYTES: '2048', SERVERFULL_KMS_KEY_FILE: '/keys/serverfull.key' },
      flags: { maxEventAge: '60' },
    });
    assert.deepEqual([set.eventQueueLimit, set.eventQueueBytes, set.maxEventAge, set.codeStorageLimit, set.kmsKeyFile], [5, 2048, 60, 1000, '/keys/serverfull.key']);
    assert.throws(() => resolveSettings({ flags: { maxEventAge: '21601' } }), /--max-event-age must be an integer from 1 to 21600/);
    assert.throws(() => resolveSettings({ env: { SERVERFULL_EVENT_QUEUE_LIMIT: '0' } }), /SERVERFULL_EVENT_QUEUE_LIMIT must be an integer from 1/);
    assert.throws(() => resolveSettings({ manifest: { codeStorageLimit: -1 } }), /"codeStorageLimit" must be an integer from 0/);
  });
});
