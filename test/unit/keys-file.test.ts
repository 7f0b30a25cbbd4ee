/** The keys file: refused when others can read it, malformed, or ambiguous; written 0600. */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { generateAccessKey, loadKeysFile, parseKeysFile, writeKeysFile } from '../../src/auth/keys-file.js';
import { ADMIN_POLICY } from '../../src/auth/policy.js';

const KEY = { accessKeyId: 'AKIAAAAAAAAAAAAAAAA1', secretAccessKey: 'a-secret-that-is-long-enough-0000000000' };
const DOCUMENT = { users: { alice: { accessKeys: [KEY], policy: ADMIN_POLICY } }, roles: { worker: { policy: ADMIN_POLICY } } };

function fileWith(content: string, mode: number): string {
  const path = join(mkdtempSync(join(tmpdir(), 'serverfull-keys-')), 'keys.json');
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

const refusal = (pattern: RegExp) => (error: Error) => error instanceof ConfigError && pattern.test(error.message);

describe('loadKeysFile', () => {
  it('loads users, their keys and policies, and roles', () => {
    const keys = loadKeysFile(fileWith(JSON.stringify(DOCUMENT), 0o600));
    assert.equal(keys.userByAccessKey(KEY.accessKeyId)?.user.name, 'alice');
    assert.equal(keys.userByAccessKey(KEY.accessKeyId)?.secretAccessKey, KEY.secretAccessKey);
    assert.equal(keys.userByAccessKey('AKIAAAAAAAAAAAAAAAA2'), undefined);
    assert.ok(keys.roles.has('worker'));
  });

  for (const mode of [0o644, 0o640, 0o604, 0o660, 0o602, 0o620]) {
    it(`refuses a file with mode ${mode.toString(8)} and says how to fix it`, () => {
      const path = fileWith(JSON.stringify(DOCUMENT), mode);
      assert.throws(() => loadKeysFile(path), refusal(new RegExp(`accessible by group or others \\(mode 0${mode.toString(8)}\\).*chmod 600`)));
    });
  }

  it('accepts 0400 (read-only for the owner)', () => {
    assert.ok(loadKeysFile(fileWith(JSON.stringify(DOCUMENT), 0o400)));
  });

  it('refuses malformed JSON', () => {
    assert.throws(() => loadKeysFile(fileWith('{"users": {', 0o600)), refusal(/is not valid JSON/));
  });

  it('refuses a missing file', () => {
    assert.throws(() => loadKeysFile('/nonexistent/keys.json'), refusal(/no keys file \/nonexistent\/keys.json: create it with serverfull keys add NAME/));
  });
});

describe('parseKeysFile', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['a duplicate access key id', { users: { a: { accessKeys: [KEY], policy: ADMIN_POLICY }, b: { accessKeys: [KEY], policy: ADMIN_POLICY } } }, /access key id AKIAAAAAAAAAAAAAAAA1 appears more than once/],
    ['a duplicate key of one user', { users: { a: { accessKeys: [KEY, KEY], policy: ADMIN_POLICY } } }, /appears more than once/],
    ['an unknown top-level field', { users: {}, groups: {} }, /unknown field "groups"/],
    ['a user without policy', { users: { a: { accessKeys: [KEY] } } }, /users.a.policy must be an object/],
    ['a lowercase access key id', { users: { a: { accessKeys: [{ ...KEY, accessKeyId: 'akiaaaaaaaaaaaaaaaa1' }], policy: ADMIN_POLICY } } }, /accessKeyId must be 16 to 128 uppercase/],
    ['an ASIA access key id (reserved for sessions)', { users: { a: { accessKeys: [{ ...KEY, accessKeyId: 'ASIAAAAAAAAAAAAAAAA1' }], policy: ADMIN_POLICY } } }, /not starting with ASIA/],
    ['a short secret', { users: { a: { accessKeys: [{ ...KEY, secretAccessKey: 'short' }], policy: ADMIN_POLICY } } }, /secretAccessKey must be a string of at least 16/],
    ['a bad user name', { users: { 'a b': { accessKeys: [], policy: ADMIN_POLICY } } }, /an IAM user name/],
    ['a role with an unsupported policy', { roles: { r: { policy: { Statement: [{ Effect: 'Allow', NotAction: '*', Resource: '*' }] } } } }, /roles.r.policy.Statement\[0\]: "NotAction" is not supported/],
    ['accessKeys that are not a list', { users: { a: { accessKeys: KEY, policy: ADMIN_POLICY } } }, /accessKeys must be a list/],
  ];
  for (const [what, document, message] of cases) {
    it(`refuses ${what}`, () => assert.throws(() => parseKeysFile(document, 'keys file k.json'), refusal(message)));
  }

  it('never puts a secret in an error message', () => {
    const secret = 'tiny';
    assert.throws(() => parseKeysFile({ users: { a: { accessKeys: [{ ...KEY, secretAccessKey: secret }], policy: ADMIN_POLICY } } }, 'k'),
      (error: Error) => !error.message.includes(`"${secret}"`));
  });
});

describe('generateAccessKey and writeKeysFile', () => {
  it('makes AKIA ids of 20 uppercase letters and digits and 40-character secrets, all different', () => {
    const keys = Array.from({ length: 50 }, generateAccessKey);
    for (const key of keys) {
      assert.match(key.accessKeyId, /^AKIA[A-Z0-9]{16}$/);
      assert.match(key.secretAccessKey, /^[A-Za-z0-9+/]{40}$/);
    }
    assert.equal(new Set(keys.map((k) => k.accessKeyId)).size, 50);
  });

  it('writes mode 0600 (replacing a wider file) and the file loads back', () => {
    const path = fileWith('{}', 0o644);
    writeKeysFile(path, DOCUMENT);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), DOCUMENT);
    assert.equal(loadKeysFile(path).users.get('alice')?.accessKeys[0]?.accessKeyId, KEY.accessKeyId);
  });
});
