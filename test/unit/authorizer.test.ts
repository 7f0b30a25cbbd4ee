/** Lambda authorizers: their events, the identity-source check, and reading their answer. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  authorizerDecision, httpApiAuthorizerEvent, identitySourcesPresent, restApiAuthorizerEvent, routeArn,
} from '../../src/gateway/authorizer-event.js';
import type { AuthorizerDefinition } from '../../src/gateway/http-api.js';
import { httpApiEvent, restApiEvent, type GatewayRequest, type MatchedRoute } from '../../src/gateway/proxy-event.js';

function request(overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    method: 'GET',
    path: '/request',
    rawQuery: '',
    rawHeaders: [],
    body: Buffer.alloc(0),
    sourceIp: '203.0.113.7',
    requestId: 'id',
    time: new Date(1583348638390),
    domainName: 'id.execute-api.us-east-1.amazonaws.com',
    ...overrides,
  };
}

function route(overrides: Partial<MatchedRoute> = {}): MatchedRoute {
  return { apiId: 'abcdef123', stage: 'test', routeKey: 'GET /request', resourcePath: '/request', accountId: '123456789012', region: 'us-east-1', ...overrides };
}

function authorizer(overrides: Partial<AuthorizerDefinition> = {}): AuthorizerDefinition {
  return { name: 'auth', functionName: 'authFn', payloadFormat: '2.0', simpleResponses: false, identitySources: [], ...overrides };
}

const ARN = 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request';

describe('httpApiAuthorizerEvent', () => {
  it('is the 2.0 proxy event without a body, plus type, routeArn and the identity-source values', () => {
    // http-api-lambda-authorizer.html, 2.0 example, with this request's values; the fields it
    // shares with the proxy event are checked against their own documented example in proxy-event.test.
    const received = request({
      method: 'POST',
      path: '/my/path',
      rawQuery: 'parameter1=value1&parameter1=value2&parameter2=value',
      rawHeaders: ['Header1', 'value1', 'Cookie', 'cookie1; cookie2', 'X-User', 'user1'],
      body: Buffer.from('not sent to authorizers'),
    });
    const matched = route({ apiId: 'api-id', stage: '$default', routeKey: '$default', resourcePath: '$default', pathParameters: { parameter1: 'value1' } });
    const event = httpApiAuthorizerEvent(received, matched, authorizer({ identitySources: ['$request.header.x-user', '$request.querystring.parameter2'] }));
    const { body: _body, isBase64Encoded: _isBase64Encoded, ...shared } = httpApiEvent(received, matched);
    assert.deepEqual(event, {
      ...shared,
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:us-east-1:123456789012:api-id/$default/POST/my/path',
      identitySource: ['user1', 'value'],
    });
    assert.deepEqual(event.cookies, ['cookie1', 'cookie2']);
  });
});

describe('restApiAuthorizerEvent', () => {
  it('matches the documented REQUEST authorizer input, with {} for empty maps', () => {
    // api-gateway-lambda-authorizer-input.html: GET /request on stage test of s4x3opwd6i.
    const received = request({ rawQuery: 'QueryString1=queryValue1', rawHeaders: ['HeaderAuth1', 'headerValue1', 'Accept', '*/*'] });
    const matched = route({ apiId: 's4x3opwd6i' });
    const event = restApiAuthorizerEvent(received, matched);
    assert.deepEqual(event, {
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/GET/request',
      resource: '/request',
      path: '/request',
      httpMethod: 'GET',
      headers: { HeaderAuth1: 'headerValue1', Accept: '*/*' },
      multiValueHeaders: { HeaderAuth1: ['headerValue1'], Accept: ['*/*'] },
      queryStringParameters: { QueryString1: 'queryValue1' },
      multiValueQueryStringParameters: { QueryString1: ['queryValue1'] },
      pathParameters: {},
      stageVariables: {},
      // The proxy event's context, checked against a captured event in proxy-event.test.
      requestContext: restApiEvent(received, matched).requestContext,
    });
    assert.equal(event.requestContext.path, '/test/request');
    assert.equal(event.requestContext.resourcePath, '/request');
  });
});

describe('routeArn', () => {
  it('builds the execute-api ARN from the requested path', () => {
    assert.equal(routeArn({ region: 'eu-west-1', accountId: '111122223333' }, { id: 'api', stage: 'Prod' }, 'GET', '/pets/42'), 'arn:aws:execute-api:eu-west-1:111122223333:api/Prod/GET/pets/42');
    assert.equal(routeArn({ region: 'eu-west-1', accountId: '111122223333' }, { id: 'api', stage: 'Prod' }, 'GET', '/'), 'arn:aws:execute-api:eu-west-1:111122223333:api/Prod/GET/');
  });
});

describe('identitySourcesPresent', () => {
  const withAuth = request({ rawHeaders: ['authorization', 'token'], rawQuery: 'key=k&empty=' });
  it('requires every source, headers case-insensitively, query names exactly', () => {
    assert.equal(identitySourcesPresent(withAuth, authorizer({ identitySources: ['$request.header.Authorization'] })), true);
    assert.equal(identitySourcesPresent(withAuth, authorizer({ identitySources: ['method.request.header.AUTHORIZATION', 'method.request.querystring.key'] })), true);
    assert.equal(identitySourcesPresent(withAuth, authorizer({ identitySources: ['$request.header.Authorization', '$request.querystring.Key'] })), false);
    assert.equal(identitySourcesPresent(request(), authorizer({ identitySources: ['$request.header.Authorization'] })), false);
  });

  it('counts an empty value as missing, and a stage variable as never present', () => {
    assert.equal(identitySourcesPresent(withAuth, authorizer({ identitySources: ['$request.querystring.empty'] })), false);
    assert.equal(identitySourcesPresent(withAuth, authorizer({ identitySources: ['$stageVariables.v'] })), false);
    assert.equal(identitySourcesPresent(withAuth, authorizer({ identitySources: ['$context.routeKey'] })), true);
  });

  it('passes when the authorizer names no source', () => {
    assert.equal(identitySourcesPresent(request(), authorizer()), true);
  });
});

function policy(statements: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ principalId: 'user', policyDocument: { Version: '2012-10-17', Statement: statements }, ...extra });
}

function statement(effect: string, resource: unknown, action: unknown = 'execute-api:Invoke'): Record<string, unknown> {
  return { Action: action, Effect: effect, Resource: resource };
}

describe('authorizerDecision', () => {
  it('reads simple responses', () => {
    const simple = authorizer({ simpleResponses: true });
    assert.deepEqual(authorizerDecision('{"isAuthorized":true,"context":{"arrayKey":["a"],"n":1}}', simple, ARN, 'http'), {
      effect: 'allow', outcome: { context: { arrayKey: ['a'], n: 1 } },
    });
    assert.deepEqual(authorizerDecision('{"isAuthorized":true}', simple, ARN, 'http'), { effect: 'allow', outcome: { context: {} } });
    assert.deepEqual(authorizerDecision('{"isAuthorized":false}', simple, ARN, 'http'), { effect: 'deny', explicit: true });
    assert.deepEqual(authorizerDecision('{"isAuthorized":"true"}', simple, ARN, 'http'), { effect: 'error' });
    assert.deepEqual(authorizerDecision('{"isAuthorized":true,"context":"x"}', simple, ARN, 'http'), { effect: 'error' });
  });

  it('allows what an IAM policy allows, exactly or by wildcard', () => {
    const iam = authorizer();
    for (const resource of [ARN, 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/*/GET/*', 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/*', '*', 'arn:aws:execute-api:*:*:abcdef123/te?t/GET/request', [ARN.replace('GET', 'POST'), ARN]]) {
      assert.equal(authorizerDecision(policy([statement('Allow', resource)]), iam, ARN, 'http').effect, 'allow', JSON.stringify(resource));
    }
    for (const action of ['*', 'execute-api:*', 'EXECUTE-API:invoke', ['s3:GetObject', 'execute-api:Invoke']]) {
      assert.equal(authorizerDecision(policy([statement('Allow', ARN, action)]), iam, ARN, 'http').effect, 'allow', JSON.stringify(action));
    }
    // A single statement object is accepted in place of an array.
    assert.equal(authorizerDecision(policy(statement('Allow', ARN)), iam, ARN, 'http').effect, 'allow');
  });

  it('denies without a matching Allow, and on any matching Deny', () => {
    const iam = authorizer();
    assert.deepEqual(authorizerDecision(policy([statement('Allow', ARN.replace('GET', 'POST'))]), iam, ARN, 'http'), { effect: 'deny', explicit: false });
    assert.deepEqual(authorizerDecision(policy([statement('Allow', ARN, 's3:*')]), iam, ARN, 'http'), { effect: 'deny', explicit: false });
    assert.deepEqual(authorizerDecision(policy([statement('Allow', '*'), statement('Deny', 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/*/GET/*')]), iam, ARN, 'http'), { effect: 'deny', explicit: true });
    assert.deepEqual(authorizerDecision(policy([{ Action: 'execute-api:Invoke', Effect: 'Allow', NotResource: ARN }]), iam, ARN, 'http'), { effect: 'deny', explicit: false });
    assert.deepEqual(authorizerDecision(policy([{ ...statement('Allow', ARN), Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }]), iam, ARN, 'http'), { effect: 'deny', explicit: false });
    assert.deepEqual(authorizerDecision(policy([]), iam, ARN, 'http'), { effect: 'deny', explicit: false });
  });

  it('passes the principal and context, stringified for REST APIs', () => {
    const context = { stringKey: 'value', numberKey: 1, booleanKey: true, nullKey: null };
    assert.deepEqual(authorizerDecision(policy([statement('Allow', ARN)], { context }), authorizer({ payloadFormat: '1.0' }), ARN, 'rest'), {
      effect: 'allow', outcome: { principalId: 'user', context: { stringKey: 'value', numberKey: '1', booleanKey: 'true', nullKey: null } },
    });
    assert.deepEqual(authorizerDecision(policy([statement('Allow', ARN)], { context }), authorizer(), ARN, 'http'), {
      effect: 'allow', outcome: { principalId: 'user', context },
    });
    // REST APIs cannot pass an object or array on.
    assert.deepEqual(authorizerDecision(policy([statement('Allow', ARN)], { context: { a: [1] } }), authorizer({ payloadFormat: '1.0' }), ARN, 'rest'), { effect: 'error' });
    // Without `kind`, a 1.0 authorizer is read the REST way.
    assert.deepEqual(authorizerDecision(policy([statement('Allow', ARN)], { context: { n: 2 } }), authorizer({ payloadFormat: '1.0' }), ARN), {
      effect: 'allow', outcome: { principalId: 'user', context: { n: '2' } },
    });
  });

  it('is an error when the result is not a readable policy', () => {
    const iam = authorizer();
    for (const payload of [
      'not json',
      'null',
      '"Allow"',
      '{"principalId":"user"}',
      JSON.stringify({ policyDocument: { Statement: [statement('Allow', ARN)] } }),
      policy('nope'),
      policy([statement('allow', ARN)]),
      policy([{ Effect: 'Allow', Resource: ARN }]),
      policy([statement('Allow', 42)]),
      policy([statement('Allow', ARN)], { context: 'x' }),
    ]) {
      assert.deepEqual(authorizerDecision(payload, iam, ARN, 'http'), { effect: 'error' }, payload);
    }
  });
});
