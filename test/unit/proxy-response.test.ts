/** Reading a function's result as HTTP APIs (2.0) and REST APIs (1.0) do, and the gateway's own errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isConnectionHeader } from '../../src/gateway/connection-headers.js';
import { gatewayError, httpApiResponse, restApiResponse, type GatewayResponse } from '../../src/gateway/proxy-response.js';

/** What Express and Fastify adapters put in a response, and other connection headers, in mixed case. */
const CONNECTION_HEADERS = {
  'Content-Length': '5', 'transfer-encoding': 'chunked', CONNECTION: 'keep-alive', 'Keep-Alive': 'timeout=5',
  Upgrade: 'websocket', 'Proxy-Connection': 'keep-alive', te: 'trailers', Trailer: 'x-sum',
};

function text(response: GatewayResponse | undefined) {
  assert.ok(response);
  return { statusCode: response.statusCode, headers: response.headers, body: response.body.toString() };
}

describe('httpApiResponse', () => {
  it('takes valid JSON without statusCode as a 200 JSON body, verbatim', () => {
    // The documented shortcut: status 200, application/json, the function's response as the body.
    for (const payload of ['{ "message": "Hello from Lambda!" }', '"Hello from Lambda!"', '42', '[1,2]', 'null', '{"body":"x"}']) {
      assert.deepEqual(text(httpApiResponse(payload)), { statusCode: 200, headers: [['content-type', 'application/json']], body: payload }, payload);
    }
  });

  it('reads a structured response: status, headers as text, cookies, body', () => {
    const response = httpApiResponse(JSON.stringify({
      statusCode: 201,
      headers: { 'Content-Type': 'text/html', 'X-Count': 3, 'X-Flag': true, 'X-None': null },
      cookies: ['a=1; Path=/', 'b=2'],
      body: '<p>hi</p>',
    }));
    assert.deepEqual(text(response), {
      statusCode: 201,
      headers: [['Content-Type', 'text/html'], ['X-Count', '3'], ['X-Flag', 'true'], ['set-cookie', 'a=1; Path=/'], ['set-cookie', 'b=2']],
      body: '<p>hi</p>',
    });
  });

  it('decodes a base64 body and defaults the content type to text/plain', () => {
    const response = httpApiResponse(JSON.stringify({ statusCode: 200, body: Buffer.from([0, 1, 255]).toString('base64'), isBase64Encoded: true }));
    assert.ok(response);
    assert.deepEqual(response.body, Buffer.from([0, 1, 255]));
    assert.deepEqual(response.headers, [['content-type', 'text/plain; charset=utf-8']]);
  });

  it('sends an empty body when there is none, and accepts a numeric string status', () => {
    assert.deepEqual(text(httpApiResponse('{"statusCode":"204","headers":{"content-type":"x/y"}}')), { statusCode: 204, headers: [['content-type', 'x/y']], body: '' });
  });

  it('drops the function\'s connection and framing headers, whatever their case', () => {
    const response = httpApiResponse(JSON.stringify({ statusCode: 200, headers: { ...CONNECTION_HEADERS, 'X-Kept': 'yes', 'Content-Type': 'text/plain' }, body: 'hello' }));
    assert.deepEqual(text(response).headers, [['X-Kept', 'yes'], ['Content-Type', 'text/plain']]);
  });

  it('answers undefined (an error) for what it cannot read', () => {
    for (const payload of [
      '',
      'not json',
      '{"statusCode":1000}',
      '{"statusCode":200.5}',
      '{"statusCode":"abc"}',
      '{"statusCode":null}',
      '{"statusCode":200,"headers":{"a":{"b":1}}}',
      '{"statusCode":200,"headers":{"a":["1","2"]}}',
      '{"statusCode":200,"headers":[]}',
      '{"statusCode":200,"cookies":"a=1"}',
      '{"statusCode":200,"cookies":[1]}',
      '{"statusCode":200,"body":{"a":1}}',
      '{"statusCode":200,"isBase64Encoded":"yes"}',
    ]) {
      assert.equal(httpApiResponse(payload), undefined, payload);
    }
  });
});

describe('restApiResponse', () => {
  it('reads statusCode, headers and body, defaulting Content-Type to JSON', () => {
    assert.deepEqual(text(restApiResponse('{"statusCode":200,"body":"results"}')), { statusCode: 200, headers: [['Content-Type', 'application/json']], body: 'results' });
  });

  it('merges multiValueHeaders and headers, sending a pair found in both once', () => {
    const response = restApiResponse(JSON.stringify({
      statusCode: 200,
      headers: { 'content-type': 'text/plain', 'X-A': 'one', 'x-b': 'solo' },
      multiValueHeaders: { 'x-a': ['one', 'two'], 'Set-Cookie': ['a=1', 'b=2'] },
      body: 'ok',
    }));
    assert.deepEqual(text(response).headers, [
      ['x-a', 'one'], ['x-a', 'two'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['content-type', 'text/plain'], ['x-b', 'solo'],
    ]);
  });

  it('drops connection and framing headers from headers and multiValueHeaders', () => {
    const multi = Object.fromEntries(Object.entries(CONNECTION_HEADERS).map(([name, value]) => [name.toUpperCase(), [value, value]]));
    const response = restApiResponse(JSON.stringify({
      statusCode: 200,
      headers: { ...CONNECTION_HEADERS, 'content-type': 'text/plain' },
      multiValueHeaders: { ...multi, 'X-Multi': ['a', 'b'] },
      body: 'hello',
    }));
    assert.deepEqual(text(response).headers, [['X-Multi', 'a'], ['X-Multi', 'b'], ['content-type', 'text/plain']]);
  });

  it('decodes a base64 body', () => {
    const response = restApiResponse(JSON.stringify({ statusCode: 200, body: Buffer.from('bin').toString('base64'), isBase64Encoded: true }));
    assert.equal(response?.body.toString(), 'bin');
  });

  it('answers undefined (a 502) for anything but a proper proxy result', () => {
    for (const payload of [
      '"Hello"',
      '42',
      '[]',
      'null',
      'not json',
      '{"body":"no status"}',
      '{"statusCode":200,"body":{"a":1}}',
      '{"statusCode":200,"body":[]}',
      '{"statusCode":200,"extra":1}',
      '{"statusCode":200,"multiValueHeaders":{"a":"1"}}',
      '{"statusCode":200,"multiValueHeaders":{"a":[{"x":1}]}}',
      '{"statusCode":200,"headers":{"a":[1]}}',
      '{"statusCode":99}',
    ]) {
      assert.equal(restApiResponse(payload), undefined, payload);
    }
  });
});

describe('isConnectionHeader', () => {
  it('knows the connection headers in any case, and nothing that merely looks like one', () => {
    for (const name of Object.keys(CONNECTION_HEADERS)) assert.equal(isConnectionHeader(name), true, name);
    for (const name of ['content-type', 'set-cookie', 'Content-Lengths', 'x-connection', 'tE ', 'ta', 'upgrad', '', 'content-lengtx', 'Keep_Alive']) {
      assert.equal(isConnectionHeader(name), false, name);
    }
  });
});

describe('gatewayError', () => {
  it('words each error as the API kind does', () => {
    const cases: [Parameters<typeof gatewayError>, number, string][] = [
      [['http', 'notFound'], 404, '{"message":"Not Found"}'],
      [['http', 'integrationFailure'], 502, '{"message":"Internal Server Error"}'],
      [['http', 'timeout'], 504, '{"message":"Service Unavailable"}'],
      [['http', 'unauthorized'], 401, '{"message":"Unauthorized"}'],
      [['http', 'forbidden'], 403, '{"message":"Forbidden"}'],
      [['http', 'throttled'], 429, '{"message":"Too Many Requests"}'],
      [['rest', 'notFound'], 403, '{"message":"Missing Authentication Token"}'],
      [['rest', 'integrationFailure'], 502, '{"message": "Internal server error"}'],
      [['rest', 'timeout'], 504, '{"message": "Endpoint request timed out"}'],
      [['rest', 'unauthorized'], 401, '{"message":"Unauthorized"}'],
      [['rest', 'forbidden'], 403, '{"Message":"User is not authorized to access this resource with an explicit deny"}'],
      [['rest', 'forbiddenImplicit'], 403, '{"Message":"User is not authorized to access this resource"}'],
      [['rest', 'authorizerFailure'], 500, '{"message": null}'],
    ];
    for (const [args, statusCode, body] of cases) {
      const response = gatewayError(...args);
      assert.equal(response.statusCode, statusCode, args.join(' '));
      assert.equal(response.body.toString(), body, args.join(' '));
      assert.deepEqual(response.headers[0], ['content-type', 'application/json']);
    }
    assert.deepEqual(gatewayError('rest', 'forbidden').headers[1], ['x-amzn-ErrorType', 'AccessDeniedException']);
  });
});
