import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKeysFile, type KeysFile } from '../../src/auth/keys-file.js';
import { ConsoleSessions, sessionTokenOf } from '../../src/console/console-sessions.js';

const KEY = { accessKeyId: 'AKIAUSER000000000001', secretAccessKey: 'user-secret-000000000000000000' };
const POLICY = { Statement: [{ Effect: 'Allow', Action: 'lambda:*', Resource: '*' }] };

describe('ConsoleSessions', () => {
  it('starts a session for a right secret only, as the key\'s user', () => {
    const sessions = new ConsoleSessions(() => parseKeysFile({ users: { alice: { accessKeys: [KEY], policy: POLICY } } }, 'keys'), '123456789012');
    assert.equal(sessions.login(KEY.accessKeyId, 'wrong', 'a'), 'invalid');
    assert.equal(sessions.login('AKIAUNKNOWN000000001', KEY.secretAccessKey, 'a'), 'invalid');
    const result = sessions.login(KEY.accessKeyId, KEY.secretAccessKey, 'a');
    assert.ok(typeof result === 'object');
    assert.match(result.token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(sessions.principal(result.token)?.arn, 'arn:aws:iam::123456789012:user/alice');
    assert.equal(sessions.principal('forged'), undefined);
    assert.equal(sessions.principal(undefined), undefined);
    sessions.logout(result.token);
    assert.equal(sessions.principal(result.token), undefined);
  });

  it('ends sessions at their expiry and when their key leaves the keys file', () => {
    let now = 0;
    let keys: KeysFile = parseKeysFile({ users: { alice: { accessKeys: [KEY], policy: POLICY } } }, 'keys');
    const sessions = new ConsoleSessions(() => keys, '123456789012', () => now);
    const first = sessions.login(KEY.accessKeyId, KEY.secretAccessKey, 'a');
    assert.ok(typeof first === 'object');
    now += 12 * 3600 * 1000 - 1;
    assert.ok(sessions.principal(first.token));
    now += 1;
    assert.equal(sessions.principal(first.token), undefined);
    const second = sessions.login(KEY.accessKeyId, KEY.secretAccessKey, 'a');
    assert.ok(typeof second === 'object');
    keys = parseKeysFile({ users: {} }, 'keys');
    assert.equal(sessions.principal(second.token), undefined);
  });

  it('makes an address that failed five times wait a minute, whatever it sends', () => {
    let now = 0;
    const sessions = new ConsoleSessions(() => parseKeysFile({ users: { alice: { accessKeys: [KEY], policy: POLICY } } }, 'keys'), '123456789012', () => now);
    for (let i = 0; i < 5; i++) assert.equal(sessions.login(KEY.accessKeyId, 'wrong', 'attacker'), 'invalid');
    assert.equal(sessions.login(KEY.accessKeyId, KEY.secretAccessKey, 'attacker'), 'tooManyFailures');
    assert.ok(typeof sessions.login(KEY.accessKeyId, KEY.secretAccessKey, 'someone else') === 'object');
    now += 60_001;
    assert.ok(typeof sessions.login(KEY.accessKeyId, KEY.secretAccessKey, 'attacker') === 'object');
  });

  it('reads its cookie among others', () => {
    assert.equal(sessionTokenOf('a=1; serverfull_console=abc; b=2'), 'abc');
    assert.equal(sessionTokenOf('serverfull_consolex=abc'), undefined);
    assert.equal(sessionTokenOf(undefined), undefined);
  });
});
