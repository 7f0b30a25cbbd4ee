// One test file, two ways.
//   node --test examples/testing/*.test.mjs            runs the functions in this process
//   SERVERFULL_TARGET=http://127.0.0.1:8080 \
//   SERVERFULL_HTTP_TARGET=http://127.0.0.1:3000 \
//   node --test examples/testing/*.test.mjs            tests the running server (npm start) instead
// SERVERFULL_TARGET=aws would call the deployed functions in AWS Lambda.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { httpClient, lambdaClient } from 'serverfull/testing';

const config = new URL('../serverfull.json', import.meta.url).pathname;
const hello = lambdaClient('hello', { config });
const fail = lambdaClient('fail', { config });
const api = httpClient({ config });
after(() => Promise.all([hello.close(), fail.close(), api.close()]));

test('hello greets by name', async () => {
  const { payload, functionError, executedVersion } = await hello.invoke({ name: 'Ada' }, { tail: true });
  assert.equal(functionError, undefined);
  assert.deepEqual(payload, { message: 'Hello, Ada!' });
  assert.equal(executedVersion, '$LATEST');
});

test('fail reports a function error', async () => {
  const { payload, functionError, logs } = await fail.invoke({ orderId: 7 }, { tail: true });
  assert.equal(functionError, 'Unhandled');
  assert.equal(payload.errorType, 'OrderRejectedError');
  assert.match(logs, /^START RequestId: /);
});

test('GET /hello through the API Gateway', async () => {
  const response = await api.request('GET', '/hello?name=Grace');
  assert.equal(response.status, 200);
  assert.deepEqual(response.json(), { message: 'Hello, Grace!' });
});
