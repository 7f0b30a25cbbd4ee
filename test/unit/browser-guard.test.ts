import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { browserGuard, browserRefusal, type BrowserPolicy } from '../../src/api/browser-guard.js';
import type { ApiRequest } from '../../src/http/api-request.js';

const LOOPBACK: BrowserPolicy = { allowedOrigins: [], allowedHosts: [], boundHost: '127.0.0.1' };

describe('browserRefusal', () => {
  it('lets SDK, CLI and curl requests through: no Origin, a loopback Host', () => {
    for (const host of ['127.0.0.1:8080', 'localhost:8080', 'LOCALHOST', '[::1]:8080', '127.0.0.2', 'api.localhost:8080']) {
      assert.equal(browserRefusal({ host }, LOOPBACK), undefined, host);
    }
  });

  it('refuses a page of any origin unless allowed, the opaque origin "null" included', () => {
    for (const origin of ['https://evil.example', 'null', 'http://localhost:5173']) {
      assert.match(browserRefusal({ host: '127.0.0.1:8080', origin }, LOOPBACK) ?? '', /Origin .* are refused/);
    }
    assert.equal(browserRefusal({ host: '127.0.0.1:8080', origin: 'http://localhost:5173' }, { ...LOOPBACK, allowedOrigins: ['http://localhost:5173'] }), undefined);
  });

  it('refuses a cross-site request that carries no Origin (a no-cors GET)', () => {
    assert.match(browserRefusal({ host: '127.0.0.1:8080', 'sec-fetch-site': 'cross-site' }, LOOPBACK) ?? '', /other web sites/);
    assert.equal(browserRefusal({ host: '127.0.0.1:8080', 'sec-fetch-site': 'none' }, LOOPBACK), undefined, 'typed in the address bar');
  });

  it('refuses a Host that is not a loopback name, the bound host or an allowed name (DNS rebinding)', () => {
    for (const host of ['evil.example:8080', 'evil.example', '10.0.0.5:8080', '0.0.0.0:8080', 'localhost.evil.example', '[::ffff:10.0.0.1]']) {
      assert.match(browserRefusal({ host }, LOOPBACK) ?? '', /naming the server/, host);
    }
    assert.equal(browserRefusal({ host: '10.0.0.5:8080' }, { ...LOOPBACK, boundHost: '10.0.0.5' }), undefined);
    assert.equal(browserRefusal({ host: 'Lambda.Internal:8080' }, { ...LOOPBACK, allowedHosts: ['lambda.internal'] }), undefined);
  });

  it('refuses a missing or malformed Host', () => {
    for (const host of [undefined, '', '[::1', '[::1]x', 'a:b:c']) {
      assert.ok(browserRefusal({ host }, LOOPBACK) !== undefined, String(host));
    }
  });
});

describe('browserGuard', () => {
  /** A request as Node hands it over: `headers` merged from `rawHeaders` (a repeated Origin joined, a repeated Host's first kept). */
  const request = (raw: string[], headers: Record<string, string>) => ({ rawHeaders: raw, headers }) as unknown as ApiRequest;
  const guard = browserGuard(LOOPBACK);

  it('remembers an allowed Host, and still refuses a page or a rebinding name that comes with it or after it', () => {
    assert.equal(guard(request(['Host', '127.0.0.1:8080'], { host: '127.0.0.1:8080' })), undefined);
    assert.equal(guard(request(['Host', '127.0.0.1:8080'], { host: '127.0.0.1:8080' })), undefined, 'the remembered Host');
    assert.equal(guard(request(['Host', '127.0.0.1:8080', 'Origin', 'https://evil.example'], { host: '127.0.0.1:8080', origin: 'https://evil.example' }))?.type, 'AccessDeniedException');
    assert.equal(guard(request(['host', '127.0.0.1:8080', 'SEC-FETCH-SITE', 'cross-site'], { host: '127.0.0.1:8080', 'sec-fetch-site': 'cross-site' }))?.type, 'AccessDeniedException');
    assert.equal(guard(request(['Host', 'evil.example:8080'], { host: 'evil.example:8080' }))?.type, 'AccessDeniedException');
    assert.equal(guard(request([], {}))?.type, 'AccessDeniedException', 'no Host');
  });

  it('judges a repeated Host by the headers as Node merges them, never by a later value', () => {
    const allowed = guard(request(['Host', '127.0.0.1:8080'], { host: '127.0.0.1:8080' }));
    assert.equal(allowed, undefined);
    assert.equal(guard(request(['Host', 'evil.example', 'Host', '127.0.0.1:8080'], { host: 'evil.example' }))?.type, 'AccessDeniedException');
  });
});
