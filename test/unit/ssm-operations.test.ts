/** IAM for the Parameter Store: the resources each request needs, the namespace policy of function roles, and the keys file's `api`. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKeysFile } from '../../src/auth/keys-file.js';
import { evaluatePolicy, parsePolicy } from '../../src/auth/policy.js';
import { coversSsm, namespacePolicy, ssmAuthorizationTargets, ssmOperationOf } from '../../src/auth/ssm-operations.js';
import { ConfigError } from '../../src/config/config-error.js';

const IDENTITY = { region: 'eu-west-1', accountId: '111122223333' };
const arn = (name: string) => `arn:aws:ssm:eu-west-1:111122223333:parameter/${name}`;

describe('SSM authorization targets', () => {
  it('names each parameter by its ARN without the leading slash or the selector; GetParameters needs every one', () => {
    const body = (value: unknown) => Buffer.from(JSON.stringify(value));
    assert.deepEqual(ssmAuthorizationTargets('GetParameter', body({ Name: '/a/b:stable' }), IDENTITY), [{ action: 'ssm:GetParameter', resource: arn('a/b') }]);
    assert.deepEqual(ssmAuthorizationTargets('GetParameters', body({ Names: ['/x', 'plain'] }), IDENTITY).map((t) => t.resource), [arn('x'), arn('plain')]);
    assert.deepEqual(ssmAuthorizationTargets('GetParametersByPath', body({ Path: '/a/b/' }), IDENTITY), [{ action: 'ssm:GetParametersByPath', resource: arn('a/b') }]);
    assert.deepEqual(ssmAuthorizationTargets('DescribeParameters', body({}), IDENTITY), [{ action: 'ssm:DescribeParameters', resource: 'arn:aws:ssm:eu-west-1:111122223333:*' }]);
    // A body that is not JSON names nothing: the action is needed on everything.
    assert.equal(ssmAuthorizationTargets('GetParameter', Buffer.from('{'), IDENTITY)[0]!.resource, 'arn:aws:ssm:eu-west-1:111122223333:*');
  });

  it('reads the operation from X-Amz-Target, whatever its case', () => {
    assert.equal(ssmOperationOf(['Host', 'x', 'X-AMZ-TARGET', 'AmazonSSM.PutParameter']), 'PutParameter');
    assert.equal(ssmOperationOf(['x-amz-target', 'Logs_20140328.GetLogEvents']), undefined);
  });
});

describe('the namespace policy', () => {
  const policy = namespacePolicy('111122223333', 'orders', 'checkout');
  const decide = (action: string, name: string) => evaluatePolicy(policy, action, arn(name));

  it('reads the function\'s own namespace, its API\'s common one and the global one', () => {
    for (const name of ['orders/checkout/key', 'orders/checkout/deep/key', 'orders/common/db', 'global/stack', 'orders/checkout']) {
      assert.equal(decide('ssm:GetParameter', name), 'Allow', name);
    }
    assert.equal(decide('ssm:GetParametersByPath', 'orders/common'), 'Allow');
  });

  it('reads nothing else, and writes nothing', () => {
    for (const name of ['orders/billing/key', 'orders/checkout-other/key', 'orders', 'globalx/y', 'other/checkout/key']) {
      assert.equal(decide('ssm:GetParameter', name), 'ImplicitDeny', name);
    }
    for (const action of ['ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:LabelParameterVersion']) assert.equal(decide(action, 'orders/checkout/key'), 'ImplicitDeny');
  });

  it('without an API, is the global namespace only', () => {
    const global = namespacePolicy('111122223333', undefined, 'checkout');
    assert.equal(evaluatePolicy(global, 'ssm:GetParameter', arn('global/x')), 'Allow');
    assert.equal(evaluatePolicy(global, 'ssm:GetParameter', arn('checkout/x')), 'ImplicitDeny');
  });

  it('applies only to roles whose own policy says nothing about SSM', () => {
    assert.equal(coversSsm(parsePolicy({ Statement: [{ Effect: 'Allow', Action: 'lambda:*', Resource: '*' }] }, 'p')), false);
    assert.equal(coversSsm(parsePolicy({ Statement: [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' }] }, 'p')), true);
    assert.equal(coversSsm(parsePolicy({ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }, 'p')), true);
  });
});

describe('keys file roles with an API', () => {
  it('take an API name, and may leave out their policy then', () => {
    const keys = parseKeysFile({ roles: { fn: { api: 'orders' } } }, 'k');
    assert.equal(keys.roles.get('fn')?.api, 'orders');
    assert.equal(keys.roles.get('fn')?.policy.statements.length, 0);
  });

  it('refuse an API name that is not one level of a path', () => {
    for (const api of ['a/b', '', '*', 'x'.repeat(65)]) assert.throws(() => parseKeysFile({ roles: { fn: { api } } }, 'k'), ConfigError, api);
  });
});
