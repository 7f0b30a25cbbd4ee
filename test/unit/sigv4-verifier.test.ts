/**
 * The SigV4 verifier on hand-made requests signed by @smithy/signature-v4: header canonicalization
 * from rawHeaders, malformed signatures, scopes and dates, at a fixed clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { AwsError } from '../../src/errors.js';
import { parsePolicy } from '../../src/auth/policy.js';
import { verifySignature, type CredentialResolver, type SignedRequest } from '../../src/auth/sigv4-verifier.js';
import type { Principal } from '../../src/auth/principal.js';
import { NodeSha256 } from '../../src/auth/node-sha256.js';

const KEY = { accessKeyId: 'AKIATESTTESTTEST0001', secretAccessKey: 'test-secret-test-secret-test-secret-0001' };
const PRINCIPAL: Principal = {
  kind: 'user', name: 'u', accessKeyId: KEY.accessKeyId, arn: 'arn:aws:iam::1:user/u',
  policy: parsePolicy({ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }, 'p'),
};
const resolve: CredentialResolver = (id) => (id === KEY.accessKeyId ? { secretAccessKey: KEY.secretAccessKey, principal: PRINCIPAL } : new AwsError('UnrecognizedClientException', 'unknown'));
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);


/** Signs a request at `NOW` and returns it as the server would receive it. */
async function signed(headers: Record<string, string>, body = '', options: { service?: string; date?: number; applyChecksum?: boolean } = {}): Promise<SignedRequest> {
  const signer = new SignatureV4({ credentials: KEY, region: 'us-east-1', service: options.service ?? 'lambda', sha256: NodeSha256, applyChecksum: options.applyChecksum ?? true });
  const request = await signer.sign({
    method: 'POST', protocol: 'http:', hostname: 'localhost', port: 9000, path: '/2015-03-31/functions/f/invocations',
    query: { Qualifier: 'prod' }, headers: { host: 'localhost:9000', ...headers }, body,
  }, { signingDate: new Date(options.date ?? NOW) });
  return {
    method: 'POST', path: '/2015-03-31/functions/f/invocations', query: 'Qualifier=prod',
    rawHeaders: Object.entries(request.headers).flat(), body: Buffer.from(body),
  };
}

async function verify(request: SignedRequest, now = NOW): Promise<Principal | AwsError> {
  return verifySignature(request, resolve, now);
}

function errorOf(outcome: Principal | AwsError): AwsError {
  assert.ok(outcome instanceof AwsError, 'expected an error');
  return outcome;
}

function withHeader(request: SignedRequest, name: string, change: (value: string) => string): SignedRequest {
  const raw = [...request.rawHeaders];
  const i = raw.findIndex((h, n) => n % 2 === 0 && h.toLowerCase() === name);
  raw[i + 1] = change(raw[i + 1]!);
  return { ...request, rawHeaders: raw };
}

describe('verifySignature', () => {
  it('accepts a signed request; header values are canonicalized (trimmed, inner spaces collapsed) as the signer did', async () => {
    const request = await signed({ 'x-custom': '  a   b  c ', 'content-type': 'application/json' }, '{"x":1}');
    assert.equal(await verify(request), PRINCIPAL);
    // The value as the client sent it may carry other runs of spaces: the canonical form is the same.
    assert.equal(await verify(withHeader(request, 'x-custom', () => 'a b c')), PRINCIPAL);
  });

  it('without x-amz-content-sha256 the body is hashed; a different body does not match', async () => {
    const request = await signed({}, '{"a":1}', { applyChecksum: false });
    assert.ok(!request.rawHeaders.includes('x-amz-content-sha256'));
    assert.equal(await verify(request), PRINCIPAL);
    assert.equal(errorOf(await verify({ ...request, body: Buffer.from('{"a":2}') })).type, 'InvalidSignatureException');
  });

  it('an Authorization header that is not AWS4-HMAC-SHA256, or lacks a part: IncompleteSignatureException', async () => {
    const request = await signed({});
    const bearer = withHeader(request, 'authorization', () => 'Bearer abc');
    assert.equal(errorOf(await verify(bearer)).type, 'IncompleteSignatureException');
    const partial = withHeader(request, 'authorization', (v) => v.replace(/, Signature=[0-9a-f]+/, ''));
    const error = errorOf(await verify(partial));
    assert.equal(error.type, 'IncompleteSignatureException');
    assert.match(error.message, /^Authorization header requires 'Signature' parameter\./);
  });

  it('a scope for another service: InvalidSignatureException', async () => {
    const error = errorOf(await verify(await signed({}, '', { service: 's3' })));
    assert.equal(error.type, 'InvalidSignatureException');
    assert.match(error.message, /Credential should be scoped to correct service: 'lambda'/);
  });

  it('exactly 5 minutes off is still accepted; past it, expired or not yet current, in AWS\'s words', async () => {
    const request = await signed({});
    assert.equal(await verify(request, NOW + 5 * 60_000), PRINCIPAL);
    assert.equal(await verify(request, NOW - 5 * 60_000), PRINCIPAL);
    assert.equal(errorOf(await verify(request, NOW + 5 * 60_000 + 1000)).message,
      'Signature expired: 20260115T120000Z is now earlier than 20260115T120001Z (20260115T120501Z - 5 min.)');
    assert.equal(errorOf(await verify(request, NOW - 5 * 60_000 - 1000)).message,
      'Signature not yet current: 20260115T120000Z is still later than 20260115T115959Z (20260115T115459Z + 5 min.)');
  });

  it('an x-amz-date that is not the compact ISO form: IncompleteSignatureException', async () => {
    const request = withHeader(await signed({}), 'x-amz-date', () => '2026-01-15T12:00:00Z');
    assert.equal(errorOf(await verify(request)).type, 'IncompleteSignatureException');
  });

  it('a query parameter added after signing does not match', async () => {
    const request = await signed({});
    assert.equal(errorOf(await verify({ ...request, query: 'Qualifier=prod&extra=1' })).type, 'InvalidSignatureException');
  });

  it('a signature of another length or case does not match (and does not throw)', async () => {
    const request = await signed({});
    for (const change of [(v: string) => v.slice(0, -1), (v: string) => `${v}0`, (v: string) => v.toUpperCase()]) {
      const tampered = withHeader(request, 'authorization', (v) => v.replace(/Signature=([0-9a-f]+)/, (_, sig: string) => `Signature=${change(sig)}`));
      assert.equal(errorOf(await verify(tampered)).type, 'InvalidSignatureException');
    }
  });

  it('an unknown key: the resolver\'s error', async () => {
    const request = withHeader(await signed({}), 'authorization', (v) => v.replace(KEY.accessKeyId, 'AKIAOTHEROTHEROTHER1'));
    assert.equal(errorOf(await verify(request)).type, 'UnrecognizedClientException');
  });
});
