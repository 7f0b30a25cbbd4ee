/** The API Gateway over real HTTP: routing, payload 2.0 events, response mapping, errors, CORS, base paths. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateAliasCommand, CreateFunctionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { exchangeUntilClose } from '../helpers/raw-http.js';
import { gate } from '../helpers/gate.js';
import { zipOf } from '../helpers/zip-fixture.js';

const MANIFEST = join(FIXTURES, 'gateway/serverfull.json');

describe('API Gateway (HTTP API, payload 2.0)', () => {
  let fixture: FixtureServer;
  let http: string;
  before(async () => {
    fixture = await startFixtureServer({ config: MANIFEST, httpPort: 0 });
    http = fixture.server.httpUrl!;
  });
  after(() => fixture.close());

  it('listens on its own port next to the Lambda API', () => {
    assert.ok(http);
    assert.notEqual(http, fixture.server.url);
  });

  it('sends the payload 2.0 event as API Gateway does', async () => {
    const sent = Date.now();
    const response = await fetch(`${http}/items/42%20a?tag=a&tag=b&empty=&q=x%20y`, {
      headers: { 'X-Custom': 'One', Cookie: 'a=1; b=2', 'User-Agent': 'gateway-test' },
    });
    assert.equal(response.status, 200);
    const event = await response.json() as Record<string, any>;
    assert.equal(event.version, '2.0');
    assert.equal(event.routeKey, 'GET /items/{id}');
    assert.equal(event.rawPath, '/items/42%20a');
    assert.equal(event.rawQueryString, 'tag=a&tag=b&empty=&q=x%20y');
    assert.deepEqual(event.cookies, ['a=1', 'b=2']);
    assert.equal(event.headers['x-custom'], 'One');
    assert.equal(event.headers.cookie, undefined, 'cookies move to the cookies field');
    assert.deepEqual(event.queryStringParameters, { tag: 'a,b', empty: '', q: 'x y' });
    assert.deepEqual(event.pathParameters, { id: '42 a' });
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.body, undefined);
    const context = event.requestContext;
    assert.equal(context.accountId, '000000000000');
    assert.equal(context.apiId, 'serverfull');
    assert.equal(context.stage, '$default');
    assert.equal(context.routeKey, 'GET /items/{id}');
    assert.equal(context.http.method, 'GET');
    assert.equal(context.http.path, '/items/42%20a');
    assert.equal(context.http.sourceIp, '127.0.0.1');
    assert.equal(context.http.userAgent, 'gateway-test');
    assert.equal(context.requestId, response.headers.get('apigw-requestid'));
    assert.match(context.time, /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
    // The request's time, between sending it and reading this (the server runs in this process, on this clock).
    assert.ok(context.timeEpoch >= sent && context.timeEpoch <= Date.now(), `${context.timeEpoch} not in [${sent}, now]`);
  });

  it('maps statusCode, headers and cookies of a structured response', async () => {
    const response = await fetch(`${http}/items/1`);
    assert.equal(response.headers.get('x-echo'), 'yes');
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.deepEqual(response.headers.getSetCookie(), ['session=abc; Path=/', 'theme=dark']);
  });

  it('passes a binary body base64-encoded, and a text body as it is', async () => {
    const bytes = Buffer.from([0, 159, 146, 150, 255]);
    const binary = await (await fetch(`${http}/items`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes })).json() as any;
    assert.equal(binary.isBase64Encoded, true);
    assert.deepEqual(Buffer.from(binary.body, 'base64'), bytes);
    const text = await (await fetch(`${http}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })).json() as any;
    assert.equal(text.isBase64Encoded, false);
    assert.equal(text.body, '{"a":1}');
  });

  it('routes the most specific path first, greedy paths, ANY and $default', async () => {
    const special = await (await fetch(`${http}/items/special`)).json() as any;
    assert.equal(special.routeKey, 'GET /items/special');
    const greedy = await (await fetch(`${http}/files/a/b/c.txt`, { method: 'DELETE' })).json() as any;
    assert.equal(greedy.routeKey, 'ANY /files/{proxy+}');
    assert.deepEqual(greedy.pathParameters, { proxy: 'a/b/c.txt' });
    const fallback = await (await fetch(`${http}/nowhere/else`, { method: 'PATCH' })).json() as any;
    assert.equal(fallback.routeKey, '$default');
    assert.equal(fallback.pathParameters, undefined);
    const wrongMethod = await (await fetch(`${http}/items/1`, { method: 'PUT' })).json() as any;
    assert.equal(wrongMethod.routeKey, '$default', 'a route for another method does not match');
  });

  it('owns the framing: a function\'s Content-Length, Transfer-Encoding and hop-by-hop headers are not sent', async () => {
    // undici refuses a response with two Content-Length headers (HPE_UNEXPECTED_CONTENT_LENGTH).
    const response = await fetch(`${http}/framed`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'hello');
    assert.equal(response.headers.get('x-kept'), 'yes');
    assert.equal(response.headers.get('content-length'), '5');

    const raw = await exchangeUntilClose(http, 'GET /framed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.deepEqual(raw.headerNames.filter((name) => name === 'content-length'), ['content-length'], raw.head);
    assert.ok(!raw.headerNames.includes('transfer-encoding'), raw.head);
    assert.ok(!raw.headerNames.includes('keep-alive'), raw.head);
    assert.match(raw.head, /\r\nConnection: close(\r\n|$)/i);
    assert.equal(raw.body.toString(), 'hello');
  });

  it('sends no Content-Length with a 204', async () => {
    const raw = await exchangeUntilClose(http, 'GET /empty HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(raw.head, /^HTTP\/1\.1 204 /);
    assert.ok(!raw.headerNames.includes('content-length'), raw.head);
    assert.equal(raw.body.length, 0);
    assert.equal((await fetch(`${http}/empty`)).status, 204);
  });

  it('closes the connection after answering a request with Connection: close', { timeout: 30_000 }, async () => {
    // The timeout only turns a connection left open (a pending promise) into a failure.
    // `/framed` answers `Connection: keep-alive` itself: the client's close must win over it.
    for (const path of ['/items/1', '/framed', '/nowhere']) {
      const raw = await exchangeUntilClose(http, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(raw.head, /^HTTP\/1\.1 200 /, path);
      assert.deepEqual(raw.headerNames.filter((name) => name === 'connection'), ['connection'], raw.head);
      assert.match(raw.head, /\r\nConnection: close(\r\n|$)/i, path);
    }
  });

  it('turns a bare object into a 200 JSON response', async () => {
    const response = await fetch(`${http}/shortcut`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.deepEqual(await response.json(), { hello: 'world' });
  });

  it('decodes a base64 response body', async () => {
    const response = await fetch(`${http}/binary`);
    assert.equal(response.status, 201);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), Buffer.from([0, 1, 2, 255]));
  });

  it('answers 502 for a malformed response or a function error, 504 past the integration timeout', async () => {
    for (const path of ['/malformed', '/fails']) {
      const response = await fetch(`${http}${path}`);
      assert.equal(response.status, 502, path);
      assert.deepEqual(await response.json(), { message: 'Internal Server Error' });
    }
    // A gateway of its own with a 1 s integration timeout (this one keeps the default 30 s, which no cold start reaches).
    const short = await startFixtureServer({ config: join(FIXTURES, 'gateway/integration-timeout.json'), httpPort: 0 });
    const held = gate();
    try {
      // The function cannot answer before the gate opens, which is after the gateway has answered: it did not wait.
      const slow = await fetch(`${short.server.httpUrl}/slow?gate=${encodeURIComponent(held.dir)}`);
      assert.equal(slow.status, 504);
      assert.deepEqual(await slow.json(), { message: 'Service Unavailable' });
    } finally {
      held.open();
      await short.close();
      held.remove();
    }
  });

  it('answers CORS preflights and adds CORS headers to responses', async () => {
    const preflight = await fetch(`${http}/items/1`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-token' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal(preflight.headers.get('access-control-allow-methods'), 'GET,POST');
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type,x-token');
    assert.equal(preflight.headers.get('access-control-max-age'), '600');

    const refused = await fetch(`${http}/items/1`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example.com', 'Access-Control-Request-Method': 'GET' } });
    assert.equal(refused.headers.get('access-control-allow-origin'), null);

    const actual = await fetch(`${http}/items/1`, { headers: { Origin: 'https://app.example.com' } });
    assert.equal(actual.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal(actual.headers.get('access-control-expose-headers'), 'x-echo');
  });

  it('survives malformed requests: bad percent-encoding, hostile header names, odd query strings', async () => {
    const { request } = await import('node:http');
    const send = (path: string, headers: Record<string, string>) => new Promise<number>((resolve, reject) => {
      const url = new URL(http);
      const req = request({ host: url.hostname, port: url.port, path, method: 'GET', headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(await send('/items/%E0%A4%A', {}), 200);
    assert.equal(await send('/items/1?%ZZ=%&a=b=c&&=', { '__proto__': 'x', constructor: 'y', 'x-empty': '' }), 200);
    assert.equal(await send('/files/%2e%2e/%2e%2e/etc/passwd', {}), 200);
    assert.equal((await fetch(`${http}/items/1`)).status, 200, 'the gateway still answers');
  });

  it('maps base paths to aliases: /v1 and /v2 run two versions side by side', async () => {
    const { lambda } = fixture;
    const code = (label: string) => zipOf({
      'index.mjs': `export const handler = async (event) => ({ label: ${JSON.stringify(label)}, path: event.rawPath, version: process.env.AWS_LAMBDA_FUNCTION_VERSION });`,
    });
    await lambda.send(new CreateFunctionCommand({
      FunctionName: 'deployed', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: 'arn:aws:iam::000000000000:role/x', Code: { ZipFile: await code('one') }, Publish: true, Timeout: 30,
    }));
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'deployed', ZipFile: await code('two'), Publish: true }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'deployed', Name: 'blue', FunctionVersion: '1' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'deployed', Name: 'green', FunctionVersion: '2' }));

    assert.deepEqual(await (await fetch(`${http}/v1/versioned/a`)).json(), { label: 'one', path: '/versioned/a', version: '1' });
    assert.deepEqual(await (await fetch(`${http}/v2/versioned/a`)).json(), { label: 'two', path: '/versioned/a', version: '2' });
    assert.deepEqual(await (await fetch(`${http}/versioned/a`)).json(), { label: 'two', path: '/versioned/a', version: '$LATEST' });
  });
});

describe('API Gateway without a $default route', () => {
  it('answers an unknown route 404 {"message":"Not Found"}', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-gw-'));
    writeFileSync(join(dir, 'fn.mjs'), 'export const handler = async () => ({ ok: true });');
    writeFileSync(join(dir, 'serverfull.json'), JSON.stringify({ functions: { only: { handler: 'fn.handler', http: [{ method: 'GET', path: '/only' }] } } }));
    const fixture = await startFixtureServer({ config: join(dir, 'serverfull.json'), httpPort: 0 });
    try {
      const ok = await fetch(`${fixture.server.httpUrl}/only`);
      assert.deepEqual(await ok.json(), { ok: true });
      const missing = await fetch(`${fixture.server.httpUrl}/other`);
      assert.equal(missing.status, 404);
      assert.deepEqual(await missing.json(), { message: 'Not Found' });
    } finally {
      await fixture.close();
    }
  });
});
