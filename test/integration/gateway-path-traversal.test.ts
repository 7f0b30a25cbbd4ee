/**
 * Dot segments in gateway request paths, sent as raw HTTP (clients such as fetch resolve them before
 * sending): `/public/../admin` is routed as `/admin`, never to `/public/{proxy+}` with `..` in its
 * parameter; paths that hide dot segments behind backslashes get API Gateway's 404.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { exchangeUntilClose } from '../helpers/raw-http.js';

async function get(base: string, path: string): Promise<{ status: number; body: string }> {
  const exchange = await exchangeUntilClose(base, `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  return { status: Number(exchange.head.split(' ')[1]), body: exchange.body.toString('utf8') };
}

describe('gateway: dot segments in request paths', () => {
  let fx: FixtureServer;
  let http: string;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-traversal-'));
    mkdirSync(join(dir, 'functions'));
    copyFileSync(join(FIXTURES, 'gateway/functions/http.mjs'), join(dir, 'functions/http.mjs'));
    writeFileSync(join(dir, 'serverfull.json'), JSON.stringify({
      functions: {
        public: { handler: 'functions/http.echo', timeout: 30, http: [{ method: 'GET', path: '/public/{proxy+}' }] },
        admin: { handler: 'functions/http.echo', timeout: 30, http: [{ method: 'GET', path: '/admin' }] },
        fallback: { handler: 'functions/http.echo', timeout: 30, http: [{ path: '$default' }] },
      },
    }));
    fx = await startFixtureServer({ config: join(dir, 'serverfull.json') });
    http = fx.server.httpUrl!;
  });
  after(() => fx.close());

  for (const path of ['/public/../admin', '/public/%2e%2e/admin', '/public/%2E%2E/admin', '/public/.%2e/admin', '/public/x/../../admin']) {
    it(`routes ${path} as GET /admin, not to /public/{proxy+}`, async () => {
      const response = await get(http, path);
      assert.equal(response.status, 200, response.body);
      const event = JSON.parse(response.body) as { routeKey: string; rawPath: string; requestContext: { http: { path: string } }; pathParameters?: Record<string, string> };
      assert.equal(event.routeKey, 'GET /admin');
      assert.equal(event.pathParameters, undefined);
      // The function sees the path it was routed by, not the one that was sent.
      assert.equal(event.rawPath, '/admin');
      assert.equal(event.requestContext.http.path, '/admin');
    });
  }

  it('keeps dot segments out of a greedy parameter', async () => {
    const event = JSON.parse((await get(http, '/public/a/./b/%2e%2e/c')).body) as { routeKey: string; pathParameters: Record<string, string> };
    assert.equal(event.routeKey, 'GET /public/{proxy+}');
    assert.deepEqual(event.pathParameters, { proxy: 'a/c' });
  });

  for (const path of ['/public/..%5cadmin', '/public/%2e%2e%5Cadmin', '/public/..\\admin', '/public/a\\..\\..\\admin', '/public/..%2fadmin', '/public/%2e%2e%2fadmin']) {
    it(`answers ${path} with 404 Not Found, reaching no function (not even $default)`, async () => {
      const response = await get(http, path);
      assert.equal(response.status, 404);
      assert.deepEqual(JSON.parse(response.body), { message: 'Not Found' });
    });
  }

  it('still serves the gateway after such requests', async () => {
    const response = await get(http, '/public/file.txt');
    assert.equal(response.status, 200);
    assert.deepEqual((JSON.parse(response.body) as { pathParameters: unknown }).pathParameters, { proxy: 'file.txt' });
  });
});
