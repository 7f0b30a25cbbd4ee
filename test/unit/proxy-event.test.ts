/** The proxy events, compared field by field with AWS's documented examples. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clfTime, httpApiEvent, parseQuery, restApiEvent, type GatewayRequest, type MatchedRoute } from '../../src/gateway/proxy-event.js';

function request(overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    method: 'GET',
    path: '/',
    rawQuery: '',
    rawHeaders: [],
    body: Buffer.alloc(0),
    sourceIp: '203.0.113.7',
    requestId: 'req-1',
    time: new Date(1583348638390),
    domainName: 'id.execute-api.us-east-1.amazonaws.com',
    ...overrides,
  };
}

function route(overrides: Partial<MatchedRoute> = {}): MatchedRoute {
  return {
    apiId: 'api-id',
    stage: '$default',
    routeKey: '$default',
    resourcePath: '$default',
    accountId: '123456789012',
    region: 'us-east-1',
    ...overrides,
  };
}

describe('httpApiEvent', () => {
  it('matches the documented format 2.0 example', () => {
    // http-api-develop-integrations-lambda.html, 2.0 example, with this request's values. The
    // example's `time` (12/Mar) disagrees with its own `timeEpoch` (4 Mar 2020 19:03:58 UTC): the epoch wins.
    const event = httpApiEvent(
      request({
        method: 'POST',
        path: '/my/path',
        rawQuery: 'parameter1=value1&parameter1=value2&parameter2=value',
        rawHeaders: ['Header1', 'value1', 'Header2', 'value1', 'header2', 'value2', 'Cookie', 'cookie1; cookie2', 'User-Agent', 'agent', 'Content-Type', 'text/plain'],
        body: Buffer.from('Hello from Lambda'),
        sourceIp: 'IP',
        requestId: 'id',
      }),
      route({
        pathParameters: { parameter1: 'value1' },
        authorizer: { context: { exampleKey1: 'exampleValue1', exampleKey2: 'exampleValue2' } },
      }),
    );
    assert.deepEqual(event, {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/my/path',
      rawQueryString: 'parameter1=value1&parameter1=value2&parameter2=value',
      cookies: ['cookie1', 'cookie2'],
      headers: { header1: 'value1', header2: 'value1,value2', 'user-agent': 'agent', 'content-type': 'text/plain' },
      queryStringParameters: { parameter1: 'value1,value2', parameter2: 'value' },
      requestContext: {
        accountId: '123456789012',
        apiId: 'api-id',
        authorizer: { lambda: { exampleKey1: 'exampleValue1', exampleKey2: 'exampleValue2' } },
        domainName: 'id.execute-api.us-east-1.amazonaws.com',
        domainPrefix: 'id',
        http: { method: 'POST', path: '/my/path', protocol: 'HTTP/1.1', sourceIp: 'IP', userAgent: 'agent' },
        requestId: 'id',
        routeKey: '$default',
        stage: '$default',
        time: '04/Mar/2020:19:03:58 +0000',
        timeEpoch: 1583348638390,
      },
      body: 'Hello from Lambda',
      pathParameters: { parameter1: 'value1' },
      isBase64Encoded: false,
    });
  });

  it('leaves out cookies, query, path parameters, body and authorizer when there are none', () => {
    const event = httpApiEvent(request({ rawHeaders: ['Host', 'localhost'] }), route());
    assert.deepEqual(Object.keys(event).sort(), ['headers', 'isBase64Encoded', 'rawPath', 'rawQueryString', 'requestContext', 'routeKey', 'version']);
    assert.equal(event.isBase64Encoded, false);
    assert.equal('authorizer' in event.requestContext, false);
    assert.equal(event.requestContext.http.userAgent, '');
  });

  it('collects cookies from every Cookie header, and keeps them out of headers', () => {
    const event = httpApiEvent(request({ rawHeaders: ['cookie', 'a=1; b=2', 'Cookie', 'c=3;d=4', 'X-One', '1'] }), route());
    assert.deepEqual(event.cookies, ['a=1', 'b=2', 'c=3', 'd=4']);
    assert.deepEqual(event.headers, { 'x-one': '1' });
  });

  it('base64-encodes every body that is not text of a text media type', () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff]);
    const cases: [string | undefined, Buffer, boolean][] = [
      ['image/png', bytes, true],
      ['application/octet-stream', Buffer.from('abc'), true],
      ['application/x-www-form-urlencoded', Buffer.from('a=1'), true],
      [undefined, Buffer.from('abc'), true],
      ['text/plain', bytes, true], // not valid UTF-8
      ['text/html; charset=utf-8', Buffer.from('<p>é</p>'), false],
      ['Application/JSON; charset=UTF-8', Buffer.from('{"a":1}'), false],
      ['application/xml', Buffer.from('<a/>'), false],
      ['application/javascript', Buffer.from('1'), false],
    ];
    for (const [contentType, body, base64] of cases) {
      const rawHeaders = contentType === undefined ? [] : ['Content-Type', contentType];
      const event = httpApiEvent(request({ method: 'POST', rawHeaders, body }), route());
      assert.equal(event.isBase64Encoded, base64, String(contentType));
      assert.deepEqual(Buffer.from(event.body!, base64 ? 'base64' : 'utf8'), body, String(contentType));
    }
  });

  it('puts a named stage in front of rawPath, as AWS does', () => {
    const event = httpApiEvent(request({ path: '/items/a%20b' }), route({ stage: 'dev', routeKey: 'GET /items/{id}', pathParameters: { id: 'a b' } }));
    assert.equal(event.rawPath, '/dev/items/a%20b');
    assert.equal(event.requestContext.http.path, '/dev/items/a%20b');
    assert.equal(event.requestContext.stage, 'dev');
    assert.deepEqual(event.pathParameters, { id: 'a b' });
  });

  it('copies the path parameters rather than sharing the route’s object', () => {
    const pathParameters = { id: 'x' };
    const event = httpApiEvent(request(), route({ pathParameters }));
    assert.notEqual(event.pathParameters, pathParameters);
  });
});

describe('restApiEvent', () => {
  it('matches the captured REST event of the Lambda developer guide', () => {
    // services-apigateway.html: GET / on stage Prod, no query, no authorizer.
    const event = restApiEvent(
      request({
        path: '/',
        rawHeaders: ['Host', '70ixmpl4fl.execute-api.us-east-2.amazonaws.com', 'User-Agent', 'Mozilla/5.0', 'X-Forwarded-Port', '443'],
        sourceIp: '52.255.255.12',
        requestId: '77375676-xmpl-4b79-853a-f982474efe18',
        time: new Date(1583798639428),
        domainName: '70ixmpl4fl.execute-api.us-east-2.amazonaws.com',
      }),
      route({ apiId: '70ixmpl4fl', stage: 'Prod', routeKey: 'GET /', resourcePath: '/' }),
    );
    const resourceId = event.requestContext.resourceId;
    assert.match(resourceId, /^[0-9a-z]{6}$/);
    assert.deepEqual(event, {
      resource: '/',
      path: '/',
      httpMethod: 'GET',
      headers: { Host: '70ixmpl4fl.execute-api.us-east-2.amazonaws.com', 'User-Agent': 'Mozilla/5.0', 'X-Forwarded-Port': '443' },
      multiValueHeaders: { Host: ['70ixmpl4fl.execute-api.us-east-2.amazonaws.com'], 'User-Agent': ['Mozilla/5.0'], 'X-Forwarded-Port': ['443'] },
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      requestContext: {
        resourceId,
        resourcePath: '/',
        httpMethod: 'GET',
        extendedRequestId: '77375676-xmpl-4b79-853a-f982474efe18',
        requestTime: '10/Mar/2020:00:03:59 +0000',
        path: '/Prod/',
        accountId: '123456789012',
        protocol: 'HTTP/1.1',
        stage: 'Prod',
        domainPrefix: '70ixmpl4fl',
        requestTimeEpoch: 1583798639428,
        requestId: '77375676-xmpl-4b79-853a-f982474efe18',
        identity: {
          cognitoIdentityPoolId: null,
          accountId: null,
          cognitoIdentityId: null,
          caller: null,
          sourceIp: '52.255.255.12',
          principalOrgId: null,
          accessKey: null,
          cognitoAuthenticationType: null,
          cognitoAuthenticationProvider: null,
          userArn: null,
          userAgent: 'Mozilla/5.0',
          user: null,
        },
        domainName: '70ixmpl4fl.execute-api.us-east-2.amazonaws.com',
        apiId: '70ixmpl4fl',
      },
      body: null,
      isBase64Encoded: false,
    });
  });

  it('matches the documented proxy-resource example: multi-value query, path parameters, body', () => {
    // set-up-lambda-proxy-integrations.html, POST /testStage/hello/world?name=me on /{proxy+}.
    const event = restApiEvent(
      request({
        method: 'POST',
        path: '/hello/world',
        rawQuery: 'name=me&multivalueName=you&multivalueName=me',
        rawHeaders: ['Content-Type', 'application/json', 'headerName', 'headerValue', 'Accept', 'a', 'Accept', 'b'],
        body: Buffer.from('{\r\n\t"a": 1\r\n}'),
      }),
      route({ apiId: 'gy415nuibc', stage: 'testStage', resourcePath: '/{proxy+}', pathParameters: { proxy: 'hello/world' } }),
    );
    assert.equal(event.resource, '/{proxy+}');
    assert.equal(event.path, '/hello/world');
    assert.equal(event.requestContext.path, '/testStage/hello/world');
    assert.equal(event.requestContext.resourcePath, '/{proxy+}');
    assert.deepEqual(event.queryStringParameters, { name: 'me', multivalueName: 'me' });
    assert.deepEqual(event.multiValueQueryStringParameters, { name: ['me'], multivalueName: ['you', 'me'] });
    assert.deepEqual(event.pathParameters, { proxy: 'hello/world' });
    assert.deepEqual(event.headers, { 'Content-Type': 'application/json', headerName: 'headerValue', Accept: 'b' });
    assert.deepEqual(event.multiValueHeaders, { 'Content-Type': ['application/json'], headerName: ['headerValue'], Accept: ['a', 'b'] });
    assert.equal(event.body, '{\r\n\t"a": 1\r\n}');
    assert.equal(event.isBase64Encoded, false);
  });

  it('passes a Lambda authorizer’s principal, latency and context', () => {
    const event = restApiEvent(request(), route({ authorizer: { principalId: 'admin', integrationLatency: 12, context: { clientId: '1', clientName: 'Exata' } } }));
    assert.deepEqual(event.requestContext.authorizer, { principalId: 'admin', integrationLatency: 12, clientId: '1', clientName: 'Exata' });
  });

  it('gives each resource a stable id of its own', () => {
    const a1 = restApiEvent(request(), route({ resourcePath: '/a' })).requestContext.resourceId;
    const a2 = restApiEvent(request(), route({ resourcePath: '/a' })).requestContext.resourceId;
    const b = restApiEvent(request(), route({ resourcePath: '/b' })).requestContext.resourceId;
    assert.equal(a1, a2);
    assert.notEqual(a1, b);
  });

  it('hands binary bodies over as UTF-8 text (no binaryMediaTypes)', () => {
    const event = restApiEvent(request({ method: 'POST', rawHeaders: ['Content-Type', 'image/png'], body: Buffer.from('abc') }), route());
    assert.equal(event.body, 'abc');
    assert.equal(event.isBase64Encoded, false);
  });
});

describe('parseQuery', () => {
  it('decodes + as a space and %XX, keeping malformed escapes and bare names', () => {
    assert.deepEqual(parseQuery('a=b+c&d=%2B&e&f=%zz&&g=1=2&a=x'), { a: ['b c', 'x'], d: ['+'], e: [''], f: ['%zz'], g: ['1=2'] });
    assert.equal(parseQuery(''), undefined);
    assert.equal(parseQuery('&&'), undefined);
  });

  it('keeps a parameter named __proto__ as data', () => {
    const query = parseQuery('__proto__=x&toString=y')!;
    assert.deepEqual(Object.getOwnPropertyNames(query).sort(), ['__proto__', 'toString']);
    assert.deepEqual(query['toString'], ['y']);
    assert.equal(Object.getPrototypeOf(query), Object.prototype);
  });
});

describe('clfTime', () => {
  it('formats in UTC with two-digit fields', () => {
    assert.equal(clfTime(new Date(Date.UTC(2015, 3, 9, 2, 4, 6))), '09/Apr/2015:02:04:06 +0000');
  });
});
