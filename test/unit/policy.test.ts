/** IAM policy evaluation: wildcards, case rules, explicit Deny over Allow, and refused constructs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { evaluatePolicy, parsePolicy, type PolicyDecision } from '../../src/auth/policy.js';

const ORDERS = parsePolicy({
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Orders', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: 'arn:aws:lambda:*:*:function:orders-*' },
    { Sid: 'NotAdmin', Effect: 'Deny', Action: ['lambda:InvokeFunction'], Resource: ['arn:aws:lambda:*:*:function:orders-admin*'] },
  ],
}, 'policy');

const fn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;

describe('evaluatePolicy', () => {
  const cases: Array<[string, string, string, PolicyDecision]> = [
    ['an Allow matching by *', 'lambda:InvokeFunction', fn('orders-api'), 'Allow'],
    ['an Allow matching a qualified ARN by *', 'lambda:InvokeFunction', fn('orders-api:prod'), 'Allow'],
    ['an explicit Deny over the Allow', 'lambda:InvokeFunction', fn('orders-admin'), 'ExplicitDeny'],
    ['an explicit Deny of a longer name', 'lambda:InvokeFunction', fn('orders-admin-panel:1'), 'ExplicitDeny'],
    ['no statement for the resource', 'lambda:InvokeFunction', fn('billing'), 'ImplicitDeny'],
    ['no statement for the action', 'lambda:GetFunction', fn('orders-api'), 'ImplicitDeny'],
    ['action names compared without case', 'LAMBDA:invokefunction', fn('orders-api'), 'Allow'],
    ['resources compared with case', 'lambda:InvokeFunction', fn('Orders-api'), 'ImplicitDeny'],
  ];
  for (const [what, action, resource, expected] of cases) {
    it(`${what}: ${expected}`, () => assert.equal(evaluatePolicy(ORDERS, action, resource), expected));
  }

  it('? matches exactly one character', () => {
    const policy = parsePolicy({ Statement: { Effect: 'Allow', Action: 'lambda:Get?lias', Resource: 'arn:aws:lambda:us-east-1:1:function:f?' } }, 'p');
    assert.equal(evaluatePolicy(policy, 'lambda:GetAlias', 'arn:aws:lambda:us-east-1:1:function:f1'), 'Allow');
    assert.equal(evaluatePolicy(policy, 'lambda:GetAlias', 'arn:aws:lambda:us-east-1:1:function:f12'), 'ImplicitDeny');
  });

  it('* for the action and the resource allows everything; regex characters are literal', () => {
    assert.equal(evaluatePolicy(parsePolicy({ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }, 'p'), 'lambda:X', 'anything'), 'Allow');
    const dotted = parsePolicy({ Statement: [{ Effect: 'Allow', Action: 'lambda:*', Resource: 'arn:aws:lambda:us-east-1:1:function:a.b' }] }, 'p');
    assert.equal(evaluatePolicy(dotted, 'lambda:GetFunction', 'arn:aws:lambda:us-east-1:1:function:aXb'), 'ImplicitDeny');
  });

  it('a Deny wins whatever its position', () => {
    const policy = parsePolicy({ Statement: [
      { Effect: 'Deny', Action: 'lambda:*', Resource: '*' },
      { Effect: 'Allow', Action: 'lambda:*', Resource: '*' },
    ] }, 'p');
    assert.equal(evaluatePolicy(policy, 'lambda:ListFunctions', '*'), 'ExplicitDeny');
  });
});

describe('parsePolicy', () => {
  const refused: Array<[string, unknown, RegExp]> = [
    ['NotAction', { Statement: [{ Effect: 'Allow', NotAction: 'lambda:Delete*', Resource: '*' }] }, /"NotAction" is not supported by serverfull/],
    ['NotResource', { Statement: [{ Effect: 'Deny', Action: '*', NotResource: 'x' }] }, /"NotResource" is not supported/],
    ['Condition', { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: {} }] }, /"Condition" is not supported/],
    ['an unknown field', { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Actions: [] }] }, /unknown field "Actions"/],
    ['a bad Effect', { Statement: [{ Effect: 'allow', Action: '*', Resource: '*' }] }, /Effect must be one of "Allow", "Deny"/],
    ['a missing Resource', { Statement: [{ Effect: 'Allow', Action: '*' }] }, /Resource must be a non-empty string or list/],
    ['an empty Action list', { Statement: [{ Effect: 'Allow', Action: [], Resource: '*' }] }, /Action must be a non-empty/],
    ['an action without service', { Statement: [{ Effect: 'Allow', Action: 'InvokeFunction', Resource: '*' }] }, /Action\[0\] must be an action/],
    ['an unknown Version', { Version: '2020-01-01', Statement: [] }, /Version must be one of/],
    ['no Statement', { Version: '2012-10-17' }, /Statement is missing/],
  ];
  for (const [what, document, message] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parsePolicy(document, 'users.x.policy'), (error: Error) => error instanceof ConfigError && message.test(error.message) && error.message.startsWith('users.x.policy'));
    });
  }
});
