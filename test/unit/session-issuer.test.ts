/** Temporary credentials: minted, resolved, and refused when tampered, mixed up or expired. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionIssuer } from '../../src/auth/session-issuer.js';

describe('SessionIssuer', () => {
  it('mints ASIA keys with a 40-character secret that resolve to their role and session', () => {
    const issuer = new SessionIssuer();
    const credentials = issuer.issue('worker', 'orders-fn', 600);
    assert.match(credentials.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.equal(credentials.secretAccessKey.length, 40);
    const lookup = issuer.resolve(credentials.accessKeyId, credentials.sessionToken);
    assert.equal(lookup.kind, 'valid');
    if (lookup.kind !== 'valid') return;
    assert.equal(lookup.session.role, 'worker');
    assert.equal(lookup.session.sessionName, 'orders-fn');
    assert.equal(lookup.session.secretAccessKey, credentials.secretAccessKey);
  });

  it('refuses a missing, tampered or foreign token, and a token of another key', () => {
    const issuer = new SessionIssuer();
    const a = issuer.issue('worker', 'a-session');
    const b = issuer.issue('admin', 'b-session');
    const [payload, mac] = a.sessionToken.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), r: 'admin' })).toString('base64url');
    for (const token of [undefined, '', 'x', `${forged}.${mac}`, `${payload}.${mac.slice(1)}`, b.sessionToken, new SessionIssuer().issue('worker', 'a-session').sessionToken]) {
      assert.equal(issuer.resolve(a.accessKeyId, token).kind, 'invalid', String(token));
    }
  });

  it('reports an expired session as expired; the same key verifies across instances', () => {
    let now = Date.now();
    const key = Buffer.alloc(32, 9);
    const credentials = new SessionIssuer({ key, now: () => now }).issue('worker', 'w-session', 60);
    const verifier = new SessionIssuer({ key, now: () => now });
    assert.equal(verifier.resolve(credentials.accessKeyId, credentials.sessionToken).kind, 'valid');
    now += 61_000;
    assert.equal(verifier.resolve(credentials.accessKeyId, credentials.sessionToken).kind, 'expired');
  });

  it('refuses a bad session name and a short key', () => {
    assert.throws(() => new SessionIssuer().issue('worker', 'a b'), /invalid session name/);
    assert.throws(() => new SessionIssuer({ key: Buffer.alloc(8) }), /at least 32 bytes/);
  });
});
