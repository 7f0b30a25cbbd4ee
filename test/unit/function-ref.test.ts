/** Parsing of the Invoke API's FunctionName / Qualifier. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFunctionRef } from '../../src/api/function-ref.js';
import { functionArn } from '../../src/registry/arns.js';
import { AwsError } from '../../src/errors.js';

const identity = { region: 'us-east-1', accountId: '000000000000' };

describe('parseFunctionRef', () => {
  const valid: Array<[string, string | undefined, { name: string; qualifier?: string }]> = [
    ['hello', undefined, { name: 'hello' }],
    ['hello', '3', { name: 'hello', qualifier: '3' }],
    ['hello:prod', undefined, { name: 'hello', qualifier: 'prod' }],
    ['hello:$LATEST', '$LATEST', { name: 'hello', qualifier: '$LATEST' }],
    ['000000000000:function:hello', undefined, { name: 'hello' }],
    ['arn:aws:lambda:us-east-1:000000000000:function:hello', undefined, { name: 'hello' }],
    ['arn:aws:lambda:us-east-1:000000000000:function:hello:7', undefined, { name: 'hello', qualifier: '7' }],
    ['my_fn-2.v1', undefined, { name: 'my_fn-2.v1' }],
  ];
  for (const [raw, qualifier, expected] of valid) {
    it(`reads ${raw}${qualifier ? ` + ${qualifier}` : ''}`, () => {
      assert.deepEqual(parseFunctionRef(raw, qualifier, identity), { qualifier: undefined, ...expected });
    });
  }

  const invalid: Array<[string, string | undefined, string, RegExp]> = [
    ['invalid:function:name', undefined, 'ValidationException', /failed to satisfy constraint: Member must satisfy regular expression pattern/],
    ['a'.repeat(171), undefined, 'ValidationException', /length less than or equal to 170/],
    ['hello:1', '2', 'InvalidParameterValueException', /derived qualifier/],
    ['arn:aws:lambda:eu-west-1:000000000000:function:hello', undefined, 'ResourceNotFoundException', /Functions from 'eu-west-1' are not reachable in this region \('us-east-1'\)/],
    ['arn:aws:lambda:us-east-1:123456789012:function:hello', undefined, 'ResourceNotFoundException', /Function not found: arn:aws:lambda:us-east-1:123456789012:function:hello/],
  ];
  for (const [raw, qualifier, type, message] of invalid) {
    it(`refuses ${raw.slice(0, 40)} with ${type}`, () => {
      assert.throws(() => parseFunctionRef(raw, qualifier, identity), (error: unknown) => {
        assert.ok(error instanceof AwsError);
        assert.equal(error.type, type);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('builds ARNs with and without a qualifier', () => {
    assert.equal(functionArn(identity, 'f'), 'arn:aws:lambda:us-east-1:000000000000:function:f');
    assert.equal(functionArn(identity, 'f', '$LATEST'), 'arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST');
  });
});
