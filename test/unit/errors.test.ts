/** The AWS error registry renders each error as AWS does. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AWS_ERRORS, AwsError, accessDenied, functionNotFound, missingAuthenticationToken, signatureMismatch, throttled, unrecognizedClient, type AwsErrorType,
} from '../../src/errors.js';

describe('AwsError', () => {
  for (const type of Object.keys(AWS_ERRORS) as AwsErrorType[]) {
    it(`${type} has its status and a message in the body`, () => {
      const error = new AwsError(type, 'something');
      assert.equal(error.status, AWS_ERRORS[type].status);
      const body = JSON.parse(error.toBody());
      assert.equal(body.message ?? body.Message, 'something');
    });
  }

  it('ResourceNotFoundException uses "Message", as AWS does', () => {
    assert.deepEqual(JSON.parse(functionNotFound('arn:x').toBody()), { Type: 'User', Message: 'Function not found: arn:x' });
  });

  it('throttling carries the reason and Retry-After', () => {
    const error = throttled('ReservedFunctionConcurrentInvocationLimitExceeded');
    assert.equal(error.status, 429);
    assert.deepEqual(JSON.parse(error.toBody()), { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', Type: 'User', message: 'Rate Exceeded.' });
    assert.equal(error.headers['Retry-After'], '1');
  });

  it('ValidationException has no Type, as AWS sends it', () => {
    assert.deepEqual(JSON.parse(new AwsError('ValidationException', 'bad').toBody()), { message: 'bad' });
  });

  it('authentication errors are 403 with {"message"} and no Type, as AWS\'s front door sends them', () => {
    assert.deepEqual(JSON.parse(missingAuthenticationToken().toBody()), { message: 'Missing Authentication Token' });
    assert.deepEqual(JSON.parse(unrecognizedClient().toBody()), { message: 'The security token included in the request is invalid.' });
    assert.match(JSON.parse(signatureMismatch().toBody()).message, /^The request signature we calculated does not match/);
    for (const error of [missingAuthenticationToken(), unrecognizedClient(), signatureMismatch()]) assert.equal(error.status, 403);
  });

  it('AccessDeniedException says "Message", as Lambda sends it, in both wordings', () => {
    const implicit = accessDenied('arn:aws:iam::1:user/u', 'lambda:GetFunction', 'arn:f', false);
    assert.equal(implicit.status, 403);
    assert.deepEqual(JSON.parse(implicit.toBody()), {
      Message: 'User: arn:aws:iam::1:user/u is not authorized to perform: lambda:GetFunction on resource: arn:f because no identity-based policy allows the lambda:GetFunction action',
    });
    assert.match(accessDenied('arn:u', 'lambda:X', 'arn:f', true).message, / on resource: arn:f with an explicit deny in an identity-based policy$/);
  });

  it('names the answer each error becomes on API Gateway; one API Gateway has no answer for is its generic failure', () => {
    const kinds = Object.fromEntries((['RequestEntityTooLargeException', 'UnknownOperationException', 'TooManyRequestsException', 'AccessDeniedException', 'ValidationException', 'ServiceException'] as const)
      .map((type) => [type, new AwsError(type, 'm').gatewayKind]));
    assert.deepEqual(kinds, {
      RequestEntityTooLargeException: 'tooLarge',
      UnknownOperationException: 'notFound',
      TooManyRequestsException: 'throttled',
      AccessDeniedException: 'forbiddenImplicit',
      ValidationException: 'integrationFailure',
      ServiceException: 'integrationFailure',
    });
  });
});
