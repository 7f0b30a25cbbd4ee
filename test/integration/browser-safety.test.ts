/**
 * The attacks a web page in the developer's browser can make on a default (loopback, no auth)
 * server: a `no-cors` POST with a `text/plain` body that creates a function and runs it, a
 * cross-site GET, and DNS rebinding (the page's own host name pointed at 127.0.0.1).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetFunctionCommand } from '@aws-sdk/client-lambda';
import { exchangeUntilClose } from '../helpers/raw-http.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { handlerZip } from '../helpers/zip-fixture.js';

describe('browser safety on the Lambda APIs', () => {
  let fx: FixtureServer;
  before(async () => {
    fx = await startFixtureServer({ allowedOrigins: ['http://localhost:5173'], allowedHosts: ['lambda.internal'] });
  });
  after(() => fx.close());

  it("refuses a page's no-cors CreateFunction and Invoke, and creates nothing", async () => {
    const zip = (await handlerZip('pwned')).toString('base64');
    const body = JSON.stringify({ FunctionName: 'pwned', Runtime: 'nodejs22.x', Handler: 'index.handler', Role: 'arn:aws:iam::000000000000:role/r', Code: { ZipFile: zip } });
    // What a browser sends for fetch(url, { method: 'POST', mode: 'no-cors', body }) from https://evil.example.
    const pageHeaders = { Origin: 'https://evil.example', 'Content-Type': 'text/plain;charset=UTF-8', 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors' };
    const created = await fetch(`${fx.server.url}/2015-03-31/functions`, { method: 'POST', headers: pageHeaders, body });
    assert.equal(created.status, 403);
    assert.equal(created.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    await created.text();
    await assert.rejects(fx.lambda.send(new GetFunctionCommand({ FunctionName: 'pwned' })), { name: 'ResourceNotFoundException' });
    const invoked = await fetch(`${fx.server.url}/2015-03-31/functions/echo/invocations`, { method: 'POST', headers: pageHeaders, body: '{}' });
    assert.equal(invoked.status, 403);
    await invoked.text();
  });

  it('refuses a cross-site request without Origin (a no-cors GET) and the opaque origin "null"', async () => {
    for (const headers of [{ 'Sec-Fetch-Site': 'cross-site' }, { Origin: 'null' }] as Record<string, string>[]) {
      const response = await fetch(`${fx.server.url}/2015-03-31/functions`, { headers });
      assert.equal(response.status, 403, JSON.stringify(headers));
      await response.text();
    }
  });

  it('lets an allowed origin through', async () => {
    const response = await fetch(`${fx.server.url}/2015-03-31/functions/echo/invocations`, { method: 'POST', headers: { Origin: 'http://localhost:5173' }, body: '{"n":1}' });
    assert.equal(response.status, 200);
    assert.deepEqual(((await response.json()) as { event: unknown }).event, { n: 1 });
  });

  it('refuses a rebound host name, and answers loopback names and allowed ones', async () => {
    const request = (host: string) => `GET /2015-03-31/functions HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
    const port = new URL(fx.server.url).port;
    const rebound = await exchangeUntilClose(fx.server.url, request(`evil.example:${port}`));
    assert.match(rebound.head, /^HTTP\/1\.1 403 /);
    assert.match(rebound.head, /x-amzn-ErrorType: AccessDeniedException/i);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'lambda.internal']) {
      assert.match((await exchangeUntilClose(fx.server.url, request(host))).head, /^HTTP\/1\.1 200 /, host);
    }
  });
});
