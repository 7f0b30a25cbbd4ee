/** The context object of the AWS Node.js runtime. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createContext } from '../../src/handler/lambda-context.js';

const identity = { functionName: 'orders', functionVersion: '$LATEST', memorySize: 512, logGroupName: '/aws/lambda/orders', logStreamName: '2026/01/01/[$LATEST]abc' };

describe('createContext', () => {
  it('has every field the Node.js runtime sets', () => {
    const context = createContext(identity, { requestId: 'id-1', invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:orders', deadlineMs: Date.now() + 3000 });
    assert.equal(context.awsRequestId, 'id-1');
    assert.equal(context.functionName, 'orders');
    assert.equal(context.functionVersion, '$LATEST');
    assert.equal(context.invokedFunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:orders');
    assert.equal(context.memoryLimitInMB, '512');
    assert.equal(context.logGroupName, '/aws/lambda/orders');
    assert.equal(context.logStreamName, '2026/01/01/[$LATEST]abc');
    assert.equal(context.callbackWaitsForEmptyEventLoop, true);
    assert.equal(context.clientContext, undefined);
    assert.equal(context.identity, undefined);
  });

  it('getRemainingTimeInMillis counts down to the deadline and stops at 0', () => {
    const deadlineMs = Date.now() + 60_000;
    const soon = createContext(identity, { requestId: 'x', invokedFunctionArn: 'a', deadlineMs });
    const remaining = soon.getRemainingTimeInMillis();
    assert.ok(remaining > 0 && remaining <= 60_000 && remaining >= deadlineMs - Date.now(), String(remaining));
    const past = createContext(identity, { requestId: 'x', invokedFunctionArn: 'a', deadlineMs: Date.now() - 10 });
    assert.equal(past.getRemainingTimeInMillis(), 0);
  });

  it('decodes the client context JSON', () => {
    const context = createContext(identity, { requestId: 'x', invokedFunctionArn: 'a', deadlineMs: 0, clientContext: '{"custom":{"a":1}}' });
    assert.deepEqual(context.clientContext, { custom: { a: 1 } });
  });
});
