/** Each Lambda API request's IAM action and resource, and that every route serverfull serves has one. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorizationTarget, operationActions, recognizeOperation, type LambdaOperation } from '../../src/auth/lambda-operations.js';
import { invokeRoute } from '../../src/api/invoke-api.js';
import { eventInvokeConfigRoutes } from '../../src/api/event-invoke-config-api.js';
import type { EventInvokeConfigs } from '../../src/runtime/event-invoke-configs.js';
import { managementRoutes } from '../../src/api/management-api.js';
import type { FunctionCatalog } from '../../src/deploy/function-catalog.js';
import type { AsyncInvocations } from '../../src/runtime/async-invocations.js';
import type { Invoker } from '../../src/runtime/invoker.js';

const IDENTITY = { region: 'eu-west-1', accountId: '123456789012' };
const FN = 'arn:aws:lambda:eu-west-1:123456789012:function';

/** One sample request per operation: method, raw path (as the SDK encodes it), query, body, and what IAM checks. */
const SAMPLES: Array<[LambdaOperation, string, string, string, string | undefined, string, string]> = [
  ['Invoke', 'POST', '/2015-03-31/functions/hello/invocations', '', undefined, 'lambda:InvokeFunction', `${FN}:hello`],
  ['InvokeAsync', 'POST', '/2014-11-13/functions/hello/invoke-async/', '', undefined, 'lambda:InvokeFunction', `${FN}:hello`],
  ['CreateFunction', 'POST', '/2015-03-31/functions', '', '{"FunctionName":"made"}', 'lambda:CreateFunction', `${FN}:made`],
  ['ListFunctions', 'GET', '/2015-03-31/functions/', 'MaxItems=5', undefined, 'lambda:ListFunctions', '*'],
  ['GetFunction', 'GET', '/2015-03-31/functions/hello', 'Qualifier=3', undefined, 'lambda:GetFunction', `${FN}:hello:3`],
  ['DeleteFunction', 'DELETE', '/2015-03-31/functions/hello', '', undefined, 'lambda:DeleteFunction', `${FN}:hello`],
  ['GetFunctionConfiguration', 'GET', '/2015-03-31/functions/hello/configuration', '', undefined, 'lambda:GetFunctionConfiguration', `${FN}:hello`],
  ['UpdateFunctionConfiguration', 'PUT', '/2015-03-31/functions/hello/configuration', '', '{}', 'lambda:UpdateFunctionConfiguration', `${FN}:hello`],
  ['UpdateFunctionCode', 'PUT', '/2015-03-31/functions/hello/code', '', '{}', 'lambda:UpdateFunctionCode', `${FN}:hello`],
  ['PublishVersion', 'POST', '/2015-03-31/functions/hello/versions', '', '{}', 'lambda:PublishVersion', `${FN}:hello`],
  ['ListVersionsByFunction', 'GET', '/2015-03-31/functions/hello/versions', '', undefined, 'lambda:ListVersionsByFunction', `${FN}:hello`],
  ['CreateAlias', 'POST', '/2015-03-31/functions/hello/aliases', '', '{"Name":"prod"}', 'lambda:CreateAlias', `${FN}:hello`],
  ['ListAliases', 'GET', '/2015-03-31/functions/hello/aliases', '', undefined, 'lambda:ListAliases', `${FN}:hello`],
  ['GetAlias', 'GET', '/2015-03-31/functions/hello/aliases/prod', '', undefined, 'lambda:GetAlias', `${FN}:hello`],
  ['UpdateAlias', 'PUT', '/2015-03-31/functions/hello/aliases/prod', '', '{}', 'lambda:UpdateAlias', `${FN}:hello`],
  ['DeleteAlias', 'DELETE', '/2015-03-31/functions/hello/aliases/prod', '', undefined, 'lambda:DeleteAlias', `${FN}:hello`],
  ['PutFunctionConcurrency', 'PUT', '/2017-10-31/functions/hello/concurrency', '', '{}', 'lambda:PutFunctionConcurrency', `${FN}:hello`],
  ['DeleteFunctionConcurrency', 'DELETE', '/2017-10-31/functions/hello/concurrency', '', undefined, 'lambda:DeleteFunctionConcurrency', `${FN}:hello`],
  ['GetFunctionConcurrency', 'GET', '/2019-09-30/functions/hello/concurrency', '', undefined, 'lambda:GetFunctionConcurrency', `${FN}:hello`],
  ['TagResource', 'POST', `/2017-03-31/tags/${encodeURIComponent(`${FN}:hello`)}`, '', '{}', 'lambda:TagResource', `${FN}:hello`],
  ['UntagResource', 'DELETE', `/2017-03-31/tags/${encodeURIComponent(`${FN}:hello`)}`, 'tagKeys=a', undefined, 'lambda:UntagResource', `${FN}:hello`],
  ['ListTags', 'GET', `/2017-03-31/tags/${encodeURIComponent(`${FN}:hello`)}`, '', undefined, 'lambda:ListTags', `${FN}:hello`],
  ['PutFunctionEventInvokeConfig', 'PUT', '/2019-09-25/functions/hello/event-invoke-config', 'Qualifier=prod', '{}', 'lambda:PutFunctionEventInvokeConfig', `${FN}:hello:prod`],
  ['UpdateFunctionEventInvokeConfig', 'POST', '/2019-09-25/functions/hello/event-invoke-config', '', '{}', 'lambda:UpdateFunctionEventInvokeConfig', `${FN}:hello`],
  ['GetFunctionEventInvokeConfig', 'GET', '/2019-09-25/functions/hello/event-invoke-config', 'Qualifier=1', undefined, 'lambda:GetFunctionEventInvokeConfig', `${FN}:hello:1`],
  ['DeleteFunctionEventInvokeConfig', 'DELETE', '/2019-09-25/functions/hello/event-invoke-config', '', undefined, 'lambda:DeleteFunctionEventInvokeConfig', `${FN}:hello`],
  ['ListFunctionEventInvokeConfigs', 'GET', '/2019-09-25/functions/hello/event-invoke-config/list', '', undefined, 'lambda:ListFunctionEventInvokeConfigs', `${FN}:hello`],
  ['GetAccountSettings', 'GET', '/2016-08-19/account-settings/', '', undefined, 'lambda:GetAccountSettings', '*'],
  ['GetFunctionCodePackage', 'GET', `/serverfull/code/${'ab'.repeat(32)}.zip`, '', undefined, 'lambda:GetFunction', '*'],
  ['GetMetrics', 'GET', '/metrics', '', undefined, 'lambda:GetMetrics', '*'],
];

function target(method: string, path: string, query: string, body?: string) {
  const call = recognizeOperation(method, path, new URLSearchParams(query), body === undefined ? undefined : Buffer.from(body));
  assert.ok(call, `${method} ${path} is recognized`);
  return { operation: call.operation, ...authorizationTarget(call, IDENTITY) };
}

describe('authorizationTarget', () => {
  for (const [operation, method, path, query, body, action, resource] of SAMPLES) {
    it(`${operation}: ${action} on ${resource}`, () => {
      assert.deepEqual(target(method, path, query, body), { operation, action, resource });
    });
  }

  it('every operation has a sample', () => {
    assert.deepEqual(SAMPLES.map(([operation]) => operation).sort(), operationActions().map(([operation]) => operation).sort());
  });

  const names: Array<[string, string, string]> = [
    ['a full ARN with a qualifier', encodeURIComponent(`${FN}:hello:prod`), `${FN}:hello:prod`],
    ['a partial ARN', encodeURIComponent('123456789012:function:hello'), `${FN}:hello`],
    ['NAME:QUALIFIER', encodeURIComponent('hello:7'), `${FN}:hello:7`],
    ['$LATEST, which is the unqualified function', encodeURIComponent('hello:$LATEST'), `${FN}:hello`],
    ["another account's ARN, kept as named", encodeURIComponent('arn:aws:lambda:us-east-1:999999999999:function:x'), 'arn:aws:lambda:us-east-1:999999999999:function:x'],
  ];
  for (const [what, raw, resource] of names) {
    it(`Invoke of ${what}: ${resource}`, () => {
      assert.equal(target('POST', `/2015-03-31/functions/${raw}/invocations`, '').resource, resource);
    });
  }

  it('the Qualifier parameter qualifies Invoke, GetFunction and DeleteFunction, not the whole-function operations', () => {
    assert.equal(target('POST', '/2015-03-31/functions/hello/invocations', 'Qualifier=live').resource, `${FN}:hello:live`);
    assert.equal(target('DELETE', '/2015-03-31/functions/hello', 'Qualifier=2').resource, `${FN}:hello:2`);
    assert.equal(target('GET', '/2015-03-31/functions/hello/versions', 'Qualifier=2').resource, `${FN}:hello`);
  });

  it('a CreateFunction body that cannot be read needs the action on every resource', () => {
    assert.equal(target('POST', '/2015-03-31/functions', '', 'not json').resource, '*');
  });

  it('anything else is not a Lambda operation', () => {
    assert.equal(recognizeOperation('GET', '/healthcheck', new URLSearchParams()), undefined);
    assert.equal(recognizeOperation('PATCH', '/2015-03-31/functions/hello', new URLSearchParams()), undefined);
  });
});

describe('served routes', () => {
  it('every route of the Invoke and management APIs is an operation with a sample here', () => {
    const routes = [
      invokeRoute({} as never, {} as Invoker, {} as AsyncInvocations, IDENTITY),
      ...managementRoutes({} as FunctionCatalog, IDENTITY),
      ...eventInvokeConfigRoutes({} as FunctionCatalog, {} as EventInvokeConfigs, IDENTITY, () => false),
    ];
    // A sample of what the API serves today: if route building changed shape, the loop below would check nothing.
    assert.ok(routes.length >= 19, `only ${routes.length} routes`);
    for (const route of routes) {
      const sample = SAMPLES.find(([, method, path]) => method === route.method && route.pattern.test(path));
      assert.ok(sample, `no sample request for the served route ${route.method} ${route.pattern}: add it to auth/lambda-operations.ts`);
      // The auth module must see the same operation as the route that will answer.
      assert.equal(target(sample[1], sample[2], sample[3], sample[4]).operation, sample[0]);
    }
  });
});
