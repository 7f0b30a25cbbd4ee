/**
 * The Runtime API contract over real HTTP: every endpoint and every error case, as a
 * runtime (AWS's, serverfull's, or a shell script with curl) sees them.
 */
import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { RuntimeApiServer, type RuntimeInvocation } from '../../src/runtime-api/runtime-api-server.js';
import { waitUntil } from '../helpers/wait-until.js';

type Heard =
  | { kind: 'ready' }
  | { kind: 'answer'; requestId: string; payload: string; functionError: string | undefined }
  | { kind: 'initError'; payload: string; errorType: string };

const BASE = '/2018-06-01/runtime';

function invocation(requestId: string, event: unknown = { n: 1 }, extra: Partial<RuntimeInvocation> = {}): RuntimeInvocation {
  return {
    requestId,
    payload: JSON.stringify(event),
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn',
    deadlineMs: 1_900_000_000_000,
    ...extra,
  };
}

describe('Runtime API', () => {
  let api: RuntimeApiServer;
  let heard: Heard[];
  let url: string;

  const call = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    fetch(`${url}${BASE}${path}`, { method, body, headers });

  beforeEach(async () => {
    heard = [];
    api = new RuntimeApiServer({
      onReady: () => heard.push({ kind: 'ready' }),
      onAnswer: (requestId, payload, functionError) => heard.push({ kind: 'answer', requestId, payload, functionError }),
      onInitError: (payload, errorType) => heard.push({ kind: 'initError', payload, errorType }),
    });
    url = `http://${await api.listen()}`;
  });
  afterEach(() => api.close());

  it('delivers a queued invocation to next with all the Lambda-Runtime headers', async () => {
    api.deliver(invocation('req-1', { hello: 'world' }, { clientContext: '{"custom":{"a":1}}' }));
    const response = await call('GET', '/invocation/next');
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { hello: 'world' });
    assert.equal(response.headers.get('lambda-runtime-aws-request-id'), 'req-1');
    assert.equal(response.headers.get('lambda-runtime-deadline-ms'), '1900000000000');
    assert.equal(response.headers.get('lambda-runtime-invoked-function-arn'), 'arn:aws:lambda:us-east-1:000000000000:function:fn');
    assert.equal(response.headers.get('lambda-runtime-client-context'), '{"custom":{"a":1}}');
    assert.match(response.headers.get('lambda-runtime-trace-id') ?? '', /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.deepEqual(heard, [{ kind: 'ready' }]);
  });

  it('long-polls next until an invocation arrives', async () => {
    const next = call('GET', '/invocation/next');
    // The runtime's request must be parked before the event arrives for this to test the long poll.
    await waitUntil(() => heard.length > 0, 'the runtime API hears the runtime ready');
    api.deliver(invocation('req-2'));
    const response = await next;
    assert.equal(response.headers.get('lambda-runtime-aws-request-id'), 'req-2');
  });

  it('takes a response with 202 and hands it over verbatim', async () => {
    api.deliver(invocation('req-3'));
    await call('GET', '/invocation/next');
    const response = await call('POST', '/invocation/req-3/response', 'plain text, not JSON');
    assert.equal(response.status, 202);
    assert.deepEqual(await response.json(), { status: 'OK' });
    assert.deepEqual(heard.at(-1), { kind: 'answer', requestId: 'req-3', payload: 'plain text, not JSON', functionError: undefined });
  });

  it('takes an error typed by Lambda-Runtime-Function-Error-Type, body verbatim', async () => {
    api.deliver(invocation('req-4'));
    await call('GET', '/invocation/next');
    const body = JSON.stringify({ errorMessage: 'bad thing', errorType: 'MyError', stackTrace: [] });
    const response = await call('POST', '/invocation/req-4/error', body, { 'Lambda-Runtime-Function-Error-Type': 'Runtime.MyError' });
    assert.equal(response.status, 202);
    assert.deepEqual(heard.at(-1), { kind: 'answer', requestId: 'req-4', payload: body, functionError: 'Runtime.MyError' });
  });

  it('types an error by its body without the header, and wraps a body that is not JSON', async () => {
    api.deliver(invocation('req-5'));
    await call('GET', '/invocation/next');
    await call('POST', '/invocation/req-5/error', '{"errorType":"FromBody","errorMessage":"m"}');
    assert.equal((heard.at(-1) as { functionError: string }).functionError, 'FromBody');

    api.deliver(invocation('req-6'));
    await call('GET', '/invocation/next');
    await call('POST', '/invocation/req-6/error', 'it broke', { 'Lambda-Runtime-Function-Error-Type': 'Custom.Error' });
    assert.deepEqual(heard.at(-1), { kind: 'answer', requestId: 'req-6', payload: '{"errorType":"Custom.Error","errorMessage":"it broke"}', functionError: 'Custom.Error' });
  });

  it('fails a streamed response whose trailers carry an error', async () => {
    api.deliver(invocation('req-14'));
    await call('GET', '/invocation/next');
    const error = JSON.stringify({ errorType: 'Error', errorMessage: 'mid-stream' });
    const status = await new Promise<number>((resolve, reject) => {
      const post = request(`${url}${BASE}/invocation/req-14/response`, {
        method: 'POST',
        headers: { 'Lambda-Runtime-Function-Response-Mode': 'streaming', 'Transfer-Encoding': 'chunked', Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body' },
      }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      post.on('error', reject);
      post.write('a');
      post.addTrailers({ 'Lambda-Runtime-Function-Error-Type': 'Error', 'Lambda-Runtime-Function-Error-Body': Buffer.from(error).toString('base64') });
      post.end();
    });
    assert.equal(status, 202);
    assert.deepEqual(heard.at(-1), { kind: 'answer', requestId: 'req-14', payload: error, functionError: 'Error' });
  });

  it('answers 400 InvalidRequestID for an unknown id and for a second response', async () => {
    api.deliver(invocation('req-7'));
    await call('GET', '/invocation/next');
    const wrong = await call('POST', '/invocation/not-this-one/response', '{}');
    assert.equal(wrong.status, 400);
    assert.deepEqual(await wrong.json(), { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });

    assert.equal((await call('POST', '/invocation/req-7/response', '1')).status, 202);
    for (const kind of ['response', 'error']) {
      const again = await call('POST', `/invocation/req-7/${kind}`, '2');
      assert.equal(again.status, 400);
      assert.deepEqual(await again.json(), { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
    }
    assert.equal(heard.filter((h) => h.kind === 'answer').length, 1);
  });

  it('answers 413 to an oversized response and fails the invocation with Function.ResponseSizeTooLarge', async () => {
    api.deliver(invocation('req-8'));
    await call('GET', '/invocation/next');
    const response = await call('POST', '/invocation/req-8/response', 'x'.repeat(6_291_557));
    assert.equal(response.status, 413);
    assert.deepEqual(await response.json(), {
      errorMessage: 'Exceeded maximum allowed payload size (6291556 bytes).',
      errorType: 'RequestEntityTooLarge',
    });
    const answer = heard.at(-1) as { payload: string; functionError: string };
    assert.equal(answer.functionError, 'Function.ResponseSizeTooLarge');
    assert.equal(JSON.parse(answer.payload).errorType, 'Function.ResponseSizeTooLarge');
    // The runtime goes on: the next invocation is served.
    api.deliver(invocation('req-9'));
    assert.equal((await call('GET', '/invocation/next')).headers.get('lambda-runtime-aws-request-id'), 'req-9');
  });

  it('accepts exactly 6291556 bytes', async () => {
    api.deliver(invocation('req-10'));
    await call('GET', '/invocation/next');
    const response = await call('POST', '/invocation/req-10/response', 'y'.repeat(6_291_556));
    assert.equal(response.status, 202);
  });

  it('takes init/error before the first next, and refuses it later with 403 InvalidStateTransition', async () => {
    const body = JSON.stringify({ errorMessage: 'Cannot find module', errorType: 'Runtime.ImportModuleError' });
    const response = await call('POST', '/init/error', body, { 'Lambda-Runtime-Function-Error-Type': 'Runtime.ImportModuleError' });
    assert.equal(response.status, 202);
    assert.deepEqual(await response.json(), { status: 'OK' });
    assert.deepEqual(heard, [{ kind: 'initError', payload: body, errorType: 'Runtime.ImportModuleError' }]);
    // After a failed init the runtime cannot ask for work.
    const next = await call('GET', '/invocation/next');
    assert.equal(next.status, 403);
    assert.equal(((await next.json()) as { errorType: string }).errorType, 'InvalidStateTransition');
  });

  it('refuses init/error once init is over', async () => {
    api.deliver(invocation('req-11'));
    await call('GET', '/invocation/next');
    const response = await call('POST', '/init/error', '{}');
    assert.equal(response.status, 403);
    assert.deepEqual(await response.json(), {
      errorMessage: 'State transition from Invoking to InitError failed for runtime. Error: State transition is not allowed',
      errorType: 'InvalidStateTransition',
    });
  });

  it('refuses next while an invocation is unanswered, and a second waiting next', async () => {
    api.deliver(invocation('req-12'));
    await call('GET', '/invocation/next');
    const early = await call('GET', '/invocation/next');
    assert.equal(early.status, 403);
    assert.equal(((await early.json()) as { errorType: string }).errorType, 'InvalidStateTransition');

    await call('POST', '/invocation/req-12/response', 'null');
    // Two runtimes' worth of next at once: whichever comes second is refused, the other waits for the event.
    const both = [call('GET', '/invocation/next'), call('GET', '/invocation/next')];
    const refused = await Promise.race(both);
    assert.equal(refused.status, 403);
    api.deliver(invocation('req-13'));
    const served = await Promise.all(both);
    assert.deepEqual(served.map((r) => r.status).sort(), [200, 403]);
    assert.equal(served.find((r) => r.status === 200)!.headers.get('lambda-runtime-aws-request-id'), 'req-13');
  });

  it('answers 404 for paths and methods it does not have', async () => {
    for (const [method, path] of [['GET', '/invocation/req/response'], ['POST', '/invocation/next'], ['GET', '/nothing'], ['POST', '/invocation//response']]) {
      const response = await call(method!, path!, method === 'POST' ? '{}' : undefined);
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.equal(((await response.json()) as { errorType: string }).errorType, 'InvalidRequest');
    }
  });
});
