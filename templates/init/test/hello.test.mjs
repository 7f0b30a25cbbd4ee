// One test file, two ways:
//   npm test                               runs the function in this process (serverfull/testing starts a server)
//   SERVERFULL_TARGET=http://127.0.0.1:8080 SERVERFULL_HTTP_TARGET=http://127.0.0.1:3000 npm test
//                                          tests a running server instead (npm start in another terminal)
// SERVERFULL_TARGET=aws calls the function deployed in AWS Lambda (standard AWS credentials).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { httpClient, lambdaClient } from 'serverfull/testing';

const config = fileURLToPath(new URL('../serverfull.json', import.meta.url));
const hello = lambdaClient('hello', { config });
const api = httpClient({ config });
after(() => Promise.all([hello.close(), api.close()]));

test('hello greets by name', async () => {
  const { payload, functionError } = await hello.invoke({ name: 'Ada' });
  assert.equal(functionError, undefined, JSON.stringify(payload));
  assert.deepEqual(payload, { message: 'Hello, Ada!' });
});

test('GET /hello through the API Gateway', async () => {
  const response = await api.request('GET', '/hello?name=Grace');
  assert.equal(response.status, 200);
  assert.deepEqual(response.json(), { message: 'Hello, Grace!' });
});
