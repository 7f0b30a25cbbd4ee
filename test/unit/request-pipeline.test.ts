/** The request pipeline every API request goes through: hook order, refusals in each API's shape, the body read once, the finished report. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { after, describe, it } from 'node:test';
import { createApiServer } from '../../src/api/http-server.js';
import type { Route, RouteRequest } from '../../src/api/route.js';
import { AwsError } from '../../src/errors.js';
import { createGatewayServer } from '../../src/gateway/gateway-server.js';
import type { ApiKind, GatewayDeclaration } from '../../src/gateway/http-api.js';
import { RouteTable } from '../../src/gateway/route-table.js';
import { RequestHooks, type RequestOutcome } from '../../src/http/request-hooks.js';
import { createLogger } from '../../src/log.js';
import type { FunctionRegistry, FunctionDefinition } from '../../src/registry/function-definition.js';
import type { InvokeOutput, Invoker } from '../../src/runtime/invoker.js';

const silent = createLogger({ level: 'silent' });
const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A Lambda API route that records what it saw and echoes the body. */
function echoRoute(seen: string[], bodies: Buffer[], limit = 1024): Route {
  return {
    method: 'POST',
    pattern: /^\/echo\/([^/]+)$/,
    operation: 'Echo',
    bodyLimit: () => limit,
    abandoned: () => ({}),
    handle(request: RouteRequest, response, finish) {
      seen.push('handler');
      bodies.push(request.body);
      response.writeHead(200, { 'x-amzn-RequestId': request.requestId }).end(request.body);
      finish(request, response, undefined);
    },
  };
}

/** A promise of the next `count` finished reports. */
function outcomes(hooks: RequestHooks, count: number): Promise<RequestOutcome[]> {
  const seen: RequestOutcome[] = [];
  return new Promise((resolve) => {
    hooks.finished.push((outcome) => {
      seen.push(outcome);
      if (seen.length === count) resolve(seen);
    });
  });
}

/** A gateway with one route, `POST /items`, on an API of `kind`; the function answers 200 "ok". */
function gateway(kind: ApiKind, hooks: RequestHooks): Server {
  const declaration: GatewayDeclaration = {
    apis: [{ id: 'api1', kind, stage: '$default', authorizers: {} }],
    routes: [{ method: 'POST', path: '/items', functionName: 'fn', apiId: 'api1', payloadFormat: kind === 'http' ? '2.0' : '1.0', timeoutMs: 5000 }],
  };
  const registry: FunctionRegistry = { resolve: () => ({ name: 'fn' }) as FunctionDefinition, list: () => [] };
  const invoker = {
    invoke(_input: unknown, done: (output: InvokeOutput) => void) {
      done({ payload: JSON.stringify({ statusCode: 200, body: 'ok' }), executedVersion: '$LATEST' });
    },
  } as unknown as Invoker;
  return createGatewayServer({
    table: new RouteTable(declaration), registry, invoker, identity: { accountId: '123456789012', region: 'us-east-1' } as never, basePaths: {}, logger: silent, hooks,
  });
}

const denied = () => new AwsError('AccessDeniedException', 'User: arn:aws:iam::123456789012:user/u is not authorized to perform: lambda:Echo');

describe('request pipeline', () => {
  it('runs beforeBody, beforeRoute, the handler, then finished, in that order; the body is read once, before beforeRoute', async () => {
    const hooks = new RequestHooks();
    const seen: string[] = [];
    const bodies: Buffer[] = [];
    hooks.beforeBody.push((request) => {
      seen.push(`beforeBody ${request.operation} ${request.params.join(',')} body=${request.body.length} ended=${request.readableEnded}`);
      return undefined;
    });
    hooks.beforeRoute.push((request) => {
      seen.push(`beforeRoute body=${request.body.toString()} ended=${request.readableEnded}`);
      bodies.push(request.body);
      return undefined;
    });
    const finished = outcomes(hooks, 1);
    const url = await listen(createApiServer([echoRoute(seen, bodies)], silent, hooks));
    const response = await fetch(`${url}/echo/a%20b`, { method: 'POST', body: '{"x":1}' });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '{"x":1}');
    const [outcome] = await finished;
    seen.push('finished');
    assert.deepEqual(seen, ['beforeBody Echo a b body=0 ended=false', 'beforeRoute body={"x":1} ended=true', 'handler', 'finished']);
    // The hook and the handler got the very same buffer: one read, no copy.
    assert.equal(bodies.length, 2);
    assert.equal(bodies[0], bodies[1]);
    assert.equal(outcome!.requestId, response.headers.get('x-amzn-requestid'));
  });

  it('a hook refusing with an AwsError answers AWS JSON on the Lambda APIs, and nothing after it runs', async () => {
    for (const stage of ['beforeBody', 'beforeRoute'] as const) {
      const hooks = new RequestHooks();
      const seen: string[] = [];
      hooks[stage].push(denied);
      hooks.beforeRoute.push(() => {
        seen.push('later hook');
        return undefined;
      });
      const finished = outcomes(hooks, 1);
      const url = await listen(createApiServer([echoRoute(seen, [])], silent, hooks));
      const response = await fetch(`${url}/echo/f`, { method: 'POST', body: '{}' });
      assert.equal(response.status, 403, stage);
      assert.equal(response.headers.get('x-amzn-errortype'), 'AccessDeniedException');
      assert.equal(response.headers.get('content-type'), 'application/json');
      assert.match(response.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/);
      assert.deepEqual(await response.json(), { Message: denied().message });
      const [outcome] = await finished;
      assert.deepEqual([outcome!.status, outcome!.operation, outcome!.api], [403, 'Echo', 'lambda']);
      assert.deepEqual(seen, [], `${stage}: neither a later hook nor the handler ran`);
    }
  });

  for (const [kind, status, body, errorType] of [
    ['http', 403, { message: 'Forbidden' }, null],
    ['rest', 403, { Message: 'User is not authorized to access this resource' }, 'AccessDeniedException'],
  ] as const) {
    it(`a hook refusing with an AwsError answers API Gateway's shape on a ${kind} API`, async () => {
      const hooks = new RequestHooks();
      hooks.beforeRoute.push(denied);
      const finished = outcomes(hooks, 1);
      const url = await listen(gateway(kind, hooks));
      const response = await fetch(`${url}/items`, { method: 'POST', body: 'hello' });
      assert.equal(response.status, status);
      assert.deepEqual(await response.json(), body);
      assert.equal(response.headers.get('x-amzn-errortype'), errorType);
      assert.equal(response.headers.get('x-amzn-requestid'), null);
      const requestId = response.headers.get('apigw-requestid');
      assert.match(requestId ?? '', /^[0-9a-f-]{36}$/);
      const [outcome] = await finished;
      assert.deepEqual([outcome!.api, outcome!.operation, outcome!.status, outcome!.requestId], ['gateway', 'POST /items', status, requestId]);
    });
  }

  it('the gateway hooks see the body, and a request they let through reaches the function', async () => {
    const hooks = new RequestHooks();
    const bodies: string[] = [];
    hooks.beforeRoute.push((request) => {
      bodies.push(request.body.toString());
      return undefined;
    });
    const finished = outcomes(hooks, 1);
    const url = await listen(gateway('http', hooks));
    const response = await fetch(`${url}/items`, { method: 'POST', body: 'hello' });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'ok');
    assert.deepEqual(bodies, ['hello']);
    assert.equal((await finished)[0]!.status, 200);
  });

  it('finished hooks see every request: its status, operation (none for no route) and duration, refusals by the body limit included', async () => {
    const hooks = new RequestHooks();
    const unmatched: (string | undefined)[] = [];
    hooks.beforeBody.push((request) => {
      if (request.operation === undefined) unmatched.push(request.path);
      return undefined;
    });
    const finished = outcomes(hooks, 3);
    const url = await listen(createApiServer([echoRoute([], [], 4)], silent, hooks));
    const ok = await fetch(`${url}/echo/f`, { method: 'POST', body: '{}' });
    const tooLarge = await fetch(`${url}/echo/f`, { method: 'POST', body: '{"long":true}' });
    const unknown = await fetch(`${url}/nowhere`, { method: 'GET' });
    assert.deepEqual([ok.status, tooLarge.status, unknown.status], [200, 413, 404]);
    assert.deepEqual(await tooLarge.json(), { Type: 'User', message: 'Request must be smaller than 4 bytes for the Echo operation' });
    assert.equal(unknown.headers.get('x-amzn-errortype'), 'UnknownOperationException');
    const reports = await finished;
    assert.deepEqual(reports.map((r) => [r.method, r.operation, r.status]), [['POST', 'Echo', 200], ['POST', 'Echo', 413], ['GET', undefined, 404]]);
    for (const report of reports) assert.ok(Number.isFinite(report.durationMs) && report.durationMs >= 0, `duration ${report.durationMs}`);
    assert.deepEqual(unmatched, ['/nowhere'], 'beforeBody hooks see unmatched requests too');
  });

  it('a hook that throws is an unexpected error: a 500 ServiceException, and the server goes on', async () => {
    const hooks = new RequestHooks();
    let calls = 0;
    hooks.beforeRoute.push(() => {
      if (calls++ === 0) throw new Error('hook bug');
      return undefined;
    });
    const url = await listen(createApiServer([echoRoute([], [])], silent, hooks));
    const failed = await fetch(`${url}/echo/f`, { method: 'POST', body: '{}' });
    assert.equal(failed.status, 500);
    assert.equal(failed.headers.get('x-amzn-errortype'), 'ServiceException');
    assert.deepEqual(await failed.json(), { Type: 'Service', message: 'An internal error occurred.' });
    assert.equal((await fetch(`${url}/echo/f`, { method: 'POST', body: '{}' })).status, 200);
  });
});
