/** Dot segments in gateway request paths: resolved as RFC 3986 does, or refused when backslashes hide them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseRequestPath } from '../../src/gateway/request-path.js';
import { RouteTable } from '../../src/gateway/route-table.js';

describe('normaliseRequestPath', () => {
  for (const [raw, expected] of [
    ['/items/42', '/items/42'],
    ['/file.txt', '/file.txt'],
    ['/a/..b/c..', '/a/..b/c..'],
    ['/public/../admin', '/admin'],
    ['/public/%2e%2e/admin', '/admin'],
    ['/public/%2E%2e/admin', '/admin'],
    ['/public/.%2E/admin', '/admin'],
    ['/public/./a/%2e/b', '/public/a/b'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/public/..', '/'],
    ['/a%2fb/../c', '/c'],
    ['/dir\\name', '/dir\\name'],
    ['/a%2fb', '/a%2fb'],
    ['/bad%zz/..', '/'],
  ] as const) {
    it(`${JSON.stringify(raw)} → ${JSON.stringify(expected)}`, () => assert.equal(normaliseRequestPath(raw), expected));
  }
  for (const raw of ['/public/..\\admin', '/public/%2e%2e%5cadmin', '/public/..%5Cadmin', '/public/a\\..\\..\\admin', '/x/.\\y', '/public/..%2fadmin', '/public/%2e%2e%2Fadmin', '/public/a%2f..%2f..%2fadmin']) {
    it(`refuses ${JSON.stringify(raw)}`, () => assert.equal(normaliseRequestPath(raw), undefined));
  }
});

describe('RouteTable with dot segments', () => {
  const table = new RouteTable({
    apis: [{ id: 'api', kind: 'http', stage: '$default' } as never],
    routes: [
      { apiId: 'api', method: 'GET', path: '/public/{proxy+}', functionName: 'public' },
      { apiId: 'api', method: 'GET', path: '/admin', functionName: 'admin' },
      { apiId: 'api', method: 'ANY', path: '$default', functionName: 'fallback' },
    ] as never,
  });
  it('routes /public/../admin as /admin', () => assert.equal(table.match('GET', '/public/../admin')?.route.functionName, 'admin'));
  it('keeps .. out of a greedy parameter', () => {
    const match = table.match('GET', '/public/a/%2e%2e/b');
    assert.equal(match?.route.functionName, 'public');
    assert.deepEqual(match?.pathParameters, { proxy: 'b' });
  });
  it('gives a refused path no route, not even $default', () => {
    assert.equal(table.match('GET', '/public/..%5cadmin'), undefined);
    assert.equal(table.matchesPath('/public/..%5cadmin'), undefined);
  });
});
