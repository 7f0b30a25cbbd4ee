/**
 * The web console's page and JSON API over real HTTP: its security headers, what it lists, test
 * invokes, the invocation history and traces, browser checks (a cross-site page is refused), and
 * the login, session cookie and authorization when auth is on.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { CreateAliasCommand, CreateFunctionCommand, InvokeCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { writeKeysFile } from '../../src/auth/keys-file.js';
import { serve, type RunningServer } from '../../src/index.js';
import { FIXTURES, lambdaClient, tempDataDir } from '../helpers/fixture-server.js';
import { handlerZip } from '../helpers/zip-fixture.js';

const HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>';

/** A request to the console as its own page sends it: same-origin. */
async function call(server: RunningServer, path: string, init: RequestInit & { cookie?: string } = {}): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const headers = new Headers(init.headers);
  if (init.method !== undefined && init.method !== 'GET' && !headers.has('origin')) headers.set('origin', server.url);
  if (!headers.has('sec-fetch-site')) headers.set('sec-fetch-site', 'same-origin');
  if (init.cookie) headers.set('cookie', init.cookie);
  if (init.body !== undefined) headers.set('content-type', 'application/json');
  const response = await fetch(`${server.url}${path}`, { ...init, headers });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** The status of a request with headers `fetch` may not set (`Host`). */
function statusOf(url: string, method: string, headers: Record<string, string>, body = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers }, (response) => {
      response.resume();
      resolve(response.statusCode!);
    });
    request.on('error', reject);
    request.end(body);
  });
}

function assertSecurityHeaders(headers: Headers): void {
  const csp = headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(headers.get('x-content-type-options'), 'nosniff');
  assert.equal(headers.get('referrer-policy'), 'no-referrer');
}

describe('console: auth off', () => {
  let server: RunningServer;
  before(async () => {
    server = await serve({
      port: 0, httpPort: 0, logLevel: 'silent', env: {}, dataDir: tempDataDir(), root: FIXTURES, isolation: 'inline',
      // `http` is the manifest's route declaration, which serve() reads from its functions too.
      functions: {
        echo: { handler: 'functions/echo.handler', timeout: 30, http: [{ method: 'POST', path: '/echo' }] },
        logs: { handler: 'functions/logs.handler', timeout: 30 },
        faults: { handler: 'functions/faults.handler', timeout: 30 },
        a: { handler: 'functions/trace-chain.handler', timeout: 30 },
        b: { handler: 'functions/trace-chain.handler', timeout: 30 },
      } as Record<string, { handler: string; timeout: number }>,
    });
  });
  after(() => server.close());

  it('serves its page, script and style with a strict CSP and no inline script or style', async () => {
    const page = await call(server, '/console');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assertSecurityHeaders(page.headers);
    assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)/);
    assert.doesNotMatch(page.text, /<style|\sstyle=|\son[a-z]+=/i);
    const script = await call(server, '/console/console.js');
    assert.match(script.headers.get('content-type')!, /^text\/javascript/);
    assertSecurityHeaders(script.headers);
    assert.doesNotMatch(script.text, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    assert.match((await call(server, '/console/console.css')).headers.get('content-type')!, /^text\/css/);
    assert.equal((await call(server, '/console/')).status, 200);
    assert.equal((await call(server, '/console/../package.json')).status, 404);
    assert.equal((await call(server, '/console/secret.js')).status, 404);
  });

  it('says auth is off', async () => {
    const session = await call(server, '/console/api/session');
    assert.deepEqual(session.body, { auth: false, user: null });
    assertSecurityHeaders(session.headers);
  });

  it('lists functions with their configuration, versions, aliases with weights and gateway routes', async () => {
    const lambda = lambdaClient(server.url);
    await lambda.send(new CreateFunctionCommand({
      FunctionName: 'canary', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: 'arn:aws:iam::000000000000:role/test',
      Code: { ZipFile: await handlerZip('one') }, Timeout: 30, Publish: true,
    }));
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'canary', ZipFile: await handlerZip('two'), Publish: true }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'canary', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { 2: 0.25 } } }));
    lambda.destroy();

    const { status, body } = await call(server, '/console/api/functions');
    assert.equal(status, 200);
    assert.equal(body.gatewayUrl, server.httpUrl);
    const names = body.functions.map((fn: any) => fn.name);
    assert.deepEqual(names, ['a', 'b', 'canary', 'echo', 'faults', 'logs']);
    const echo = body.functions.find((fn: any) => fn.name === 'echo');
    assert.equal(echo.configuration.Handler, 'functions/echo.handler');
    assert.equal(echo.configuration.Timeout, 30);
    assert.deepEqual(echo.routes, [{ method: 'POST', path: '/echo', qualifier: null, apiId: echo.routes[0].apiId }]);
    const canary = body.functions.find((fn: any) => fn.name === 'canary');
    assert.deepEqual(canary.versions.map((v: any) => v.version), ['$LATEST', '1', '2']);
    assert.deepEqual(canary.aliases, [{ name: 'live', functionVersion: '1', weights: { 2: 0.25 }, description: '' }]);
  });

  it('test-invokes a function: its result and log tail, kept as data, never markup', async () => {
    const result = await call(server, '/console/api/invoke', { method: 'POST', body: JSON.stringify({ function: 'logs', payload: JSON.stringify({ who: HOSTILE }) }) });
    assert.equal(result.status, 200);
    assert.equal(result.headers.get('content-type'), 'application/json');
    assertSecurityHeaders(result.headers);
    assert.equal(result.body.functionError, null);
    assert.equal(result.body.executedVersion, '$LATEST');
    assert.equal(JSON.parse(result.body.payload), 'logged');
    assert.ok(result.body.log.includes(`hello from ${HOSTILE}`), result.body.log);
    assert.match(result.body.log, /REPORT RequestId/);

    const { body } = await call(server, '/console/api/invocations?function=logs');
    const listed = body.invocations.find((inv: any) => inv.requestId === result.body.requestId);
    assert.equal(listed.outcome, 'success');
    assert.equal(listed.coldStart, true);
    assert.equal(listed.hasLog, true);
    assert.match(listed.traceId, /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    const log = await call(server, `/console/api/invocations/${result.body.requestId}/log`);
    assert.equal(log.body.log, result.body.log);
  });

  it('a test invoke with a qualifier runs that version; a function error is reported', async () => {
    const v1 = await call(server, '/console/api/invoke', { method: 'POST', body: JSON.stringify({ function: 'canary', qualifier: 'live', payload: '{}' }) });
    assert.equal(v1.status, 200);
    assert.match(v1.body.executedVersion, /^[12]$/);
    const failing = await call(server, '/console/api/invoke', { method: 'POST', body: JSON.stringify({ function: 'faults', payload: '{"fault":"throw"}' }) });
    assert.equal(failing.status, 200);
    assert.equal(failing.body.functionError, 'TeapotError');
    assert.equal(JSON.parse(failing.body.payload).errorType, 'TeapotError');
    const { body } = await call(server, '/console/api/invocations?function=faults');
    assert.equal(body.invocations[0].outcome, 'functionError');
    assert.equal(body.invocations[0].errorType, 'TeapotError');
    const { body: metrics } = await call(server, '/console/api/functions/faults/metrics');
    assert.equal(metrics.minutes.reduce((sum: number, m: any) => sum + m.errors, 0), 1);
  });

  it('counts invocations per minute, as /metrics does', async () => {
    for (let i = 0; i < 3; i++) await call(server, '/console/api/invoke', { method: 'POST', body: JSON.stringify({ function: 'echo', payload: '{}' }) });
    const { body } = await call(server, '/console/api/functions/echo/metrics');
    assert.equal(body.minutes.length, 60);
    const total = body.minutes.reduce((sum: number, m: any) => sum + m.invocations, 0);
    assert.ok(total >= 3, JSON.stringify(body.minutes.at(-1)));
    const busy = body.minutes.filter((m: any) => m.invocations > 0);
    assert.ok(busy.every((m: any) => typeof m.p50 === 'number' && m.p99 >= m.p50));
    assert.ok(body.minutes.reduce((sum: number, m: any) => sum + m.coldStarts, 0) >= 1);
    assert.equal((await call(server, '/console/api/functions/nope/metrics')).status, 404);
  });

  it("opens the stored log of an invocation made through the Invoke API", async () => {
    const out = await lambdaClient(server.url).send(new InvokeCommand({ FunctionName: 'logs', Payload: JSON.stringify({ who: HOSTILE }) }));
    const requestId = out.$metadata.requestId!;
    const { body: listed } = await call(server, '/console/api/invocations?function=logs');
    assert.ok(listed.invocations.some((inv: any) => inv.requestId === requestId && inv.hasLog));
    const log = await call(server, `/console/api/invocations/${requestId}/log`);
    assert.equal(log.status, 200, log.text);
    assert.match(log.body.log, new RegExp(`^START RequestId: ${requestId}`));
    // Kept as data: the hostile text comes back as a string, to be shown with textContent.
    assert.ok(log.body.log.includes(`hello from ${HOSTILE}`));
    assert.match(log.body.log, new RegExp(`REPORT RequestId: ${requestId}`));
  });

  it('shows every invocation of one trace', async () => {
    const result = await call(server, '/console/api/invoke', { method: 'POST', body: JSON.stringify({ function: 'a', payload: JSON.stringify({ next: ['b'] }) }) });
    assert.equal(result.status, 200);
    const { body: all } = await call(server, '/console/api/invocations?function=a');
    const traceId = all.invocations.find((inv: any) => inv.requestId === result.body.requestId).traceId;
    const { body } = await call(server, `/console/api/invocations?traceId=${traceId}`);
    assert.deepEqual(body.invocations.map((inv: any) => inv.functionName).sort(), ['a', 'b']);
    const { body: one } = await call(server, '/console/api/invocations?limit=1');
    assert.equal(one.invocations.length, 1);
    assert.equal((await call(server, '/console/api/invocations?limit=nonsense')).status, 200);
  });

  it('answers bad input with AWS errors', async () => {
    const invoke = (body: string) => call(server, '/console/api/invoke', { method: 'POST', body });
    assert.equal((await invoke('not json')).body.Type, 'User');
    assert.equal((await invoke('not json')).headers.get('x-amzn-errortype'), 'InvalidRequestContentException');
    assert.equal((await invoke('[]')).status, 400);
    assert.equal((await invoke('{}')).headers.get('x-amzn-errortype'), 'ValidationException');
    assert.equal((await invoke(JSON.stringify({ function: 'echo', payload: '{bad' }))).headers.get('x-amzn-errortype'), 'InvalidRequestContentException');
    assert.equal((await invoke(JSON.stringify({ function: 'missing' }))).headers.get('x-amzn-errortype'), 'ResourceNotFoundException');
    assert.equal((await invoke(JSON.stringify({ function: '<script>' }))).headers.get('x-amzn-errortype'), 'ValidationException');
    assert.equal((await invoke(JSON.stringify({ function: 'echo', qualifier: 7 }))).headers.get('x-amzn-errortype'), 'ValidationException');
    assert.equal((await call(server, '/console/api/invocations/not-a-known-id/log')).status, 404);
  });

  it('refuses other web sites, and rebinding host names', async () => {
    const body = JSON.stringify({ function: 'echo' });
    const evil = await call(server, '/console/api/invoke', { method: 'POST', body, headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' } });
    assert.equal(evil.status, 403);
    assert.equal(evil.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    const noOrigin = await call(server, '/console/api/functions', { headers: { 'sec-fetch-site': 'cross-site' } });
    assert.equal(noOrigin.status, 403);
    const sameSite = await call(server, '/console/api/functions', { headers: { 'sec-fetch-site': 'same-site' } });
    assert.equal(sameSite.status, 403);
    assert.equal(await statusOf(`${server.url}/console/api/functions`, 'GET', { host: 'evil.example', 'sec-fetch-site': 'same-origin' }), 403);
    // A rebinding page is same-origin with itself: its Origin matches its Host, which is not this server's name.
    assert.equal(await statusOf(`${server.url}/console/api/invoke`, 'POST', { host: 'evil.example', origin: 'http://evil.example', 'sec-fetch-site': 'same-origin' }, body), 403);
    assert.equal(await statusOf(`${server.url}/console`, 'GET', { host: 'evil.example:8080' }), 403);
  });

  it("the console's origin does not open the Lambda APIs to web pages", async () => {
    const response = await fetch(`${server.url}/2015-03-31/functions/echo/invocations`, { method: 'POST', body: '{}', headers: { origin: server.url } });
    assert.equal(response.status, 403);
  });
});

describe('console: auth on', () => {
  const ADMIN = { accessKeyId: 'AKIAADMIN00000000001', secretAccessKey: 'admin-secret-0000000000000000000000000' };
  const INVOKER = { accessKeyId: 'AKIAINVOKER000000001', secretAccessKey: 'invoker-secret-000000000000000000000000' };
  const READER = { accessKeyId: 'AKIAREADER0000000001', secretAccessKey: 'reader-secret-0000000000000000000000000' };
  let dir: string;
  let server: RunningServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'serverfull-console-auth-'));
    writeKeysFile(join(dir, 'keys.json'), {
      users: {
        admin: { accessKeys: [ADMIN], policy: { Statement: [{ Effect: 'Allow', Action: 'lambda:*', Resource: '*' }] } },
        invoker: { accessKeys: [INVOKER], policy: { Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: '*' }] } },
        reader: {
          accessKeys: [READER],
          policy: { Statement: [
            { Effect: 'Allow', Action: ['lambda:List*', 'lambda:Get*'], Resource: '*' },
            { Effect: 'Deny', Action: 'lambda:GetFunction', Resource: 'arn:aws:lambda:*:*:function:hidden' },
          ] },
        },
      },
    });
    server = await serve({
      auth: 'sigv4', port: 0, logLevel: 'silent', dataDir: join(dir, 'data'), env: {}, root: FIXTURES, isolation: 'inline', keys: join(dir, 'keys.json'),
      functions: { echo: { handler: 'functions/echo.handler', timeout: 30 }, hidden: { handler: 'functions/echo.handler', timeout: 30 } },
    });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function login(credentials: { accessKeyId: string; secretAccessKey: string }): Promise<string> {
    const response = await call(server, '/console/api/session', { method: 'POST', body: JSON.stringify(credentials) });
    assert.equal(response.status, 200, response.text);
    const cookie = response.headers.get('set-cookie')!;
    return cookie.slice(0, cookie.indexOf(';'));
  }

  it('serves the page to anyone, and the API only after a login', async () => {
    assert.equal((await call(server, '/console')).status, 200);
    assert.deepEqual((await call(server, '/console/api/session')).body, { auth: true, user: null });
    const refused = await call(server, '/console/api/functions');
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    assert.equal((await call(server, '/console/api/invoke', { method: 'POST', body: JSON.stringify({ function: 'echo' }) })).status, 403);
    assert.equal((await call(server, '/console/api/functions', { cookie: 'serverfull_console=forged' })).status, 403);
  });

  it('logs in with an access key and secret: an HttpOnly, SameSite=Strict session cookie', async () => {
    const response = await call(server, '/console/api/session', { method: 'POST', body: JSON.stringify(ADMIN) });
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { auth: true, user: 'admin' });
    const cookie = response.headers.get('set-cookie')!;
    assert.match(cookie, /^serverfull_console=[A-Za-z0-9_-]{43}; /);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.match(cookie, /; Path=\/console/);
    assert.ok(!cookie.includes(ADMIN.secretAccessKey));
    const session = cookie.slice(0, cookie.indexOf(';'));
    assert.deepEqual((await call(server, '/console/api/session', { cookie: session })).body, { auth: true, user: 'admin' });
    const listed = await call(server, '/console/api/functions', { cookie: session });
    assert.deepEqual(listed.body.functions.map((fn: any) => fn.name), ['echo', 'hidden']);
    const invoked = await call(server, '/console/api/invoke', { method: 'POST', cookie: session, body: JSON.stringify({ function: 'echo', payload: '{"x":1}' }) });
    assert.equal(invoked.status, 200);
    assert.deepEqual(JSON.parse(invoked.body.payload).event, { x: 1 });
  });

  it('the session cookie never authorizes the Lambda APIs', async () => {
    const session = await login(ADMIN);
    const response = await fetch(`${server.url}/2015-03-31/functions`, { headers: { cookie: session } });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
  });

  it("authorizes every request with the user's policy", async () => {
    const invoker = await login(INVOKER);
    const list = await call(server, '/console/api/functions', { cookie: invoker });
    assert.equal(list.status, 403);
    assert.equal(list.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    assert.match(list.body.Message, /user\/invoker is not authorized to perform: lambda:ListFunctions/);
    assert.equal((await call(server, '/console/api/invoke', { method: 'POST', cookie: invoker, body: JSON.stringify({ function: 'echo' }) })).status, 200);

    const reader = await login(READER);
    const listed = await call(server, '/console/api/functions', { cookie: reader });
    assert.deepEqual(listed.body.functions.map((fn: any) => fn.name), ['echo']);
    assert.equal((await call(server, '/console/api/functions/hidden/metrics', { cookie: reader })).status, 403);
    const invocations = await call(server, '/console/api/invocations', { cookie: reader });
    assert.ok(invocations.body.invocations.length > 0);
    assert.ok(invocations.body.invocations.every((inv: any) => inv.functionName !== 'hidden'));
    const refused = await call(server, '/console/api/invoke', { method: 'POST', cookie: reader, body: JSON.stringify({ function: 'echo' }) });
    assert.equal(refused.status, 403);
    assert.match(refused.body.Message, /lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:000000000000:function:echo/);
  });

  it('refuses a cross-site request even with a session cookie', async () => {
    const session = await login(ADMIN);
    const response = await call(server, '/console/api/invoke', {
      method: 'POST', cookie: session, body: JSON.stringify({ function: 'echo' }), headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('x-amzn-errortype'), 'AccessDeniedException');
  });

  it('logs out: the session ends', async () => {
    const session = await login(ADMIN);
    const out = await call(server, '/console/api/session', { method: 'DELETE', cookie: session });
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie')!, /^serverfull_console=; .*Max-Age=0/);
    assert.equal((await call(server, '/console/api/functions', { cookie: session })).status, 403);
  });

  it('refuses a wrong secret without a cookie, then too many failures from one address', async () => {
    const wrong = await call(server, '/console/api/session', { method: 'POST', body: JSON.stringify({ ...ADMIN, secretAccessKey: 'wrong-secret-00000000000000000' }) });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.headers.get('x-amzn-errortype'), 'UnrecognizedClientException');
    assert.equal(wrong.headers.get('set-cookie'), null);
    assert.equal((await call(server, '/console/api/session', { method: 'POST', body: JSON.stringify({ accessKeyId: 'AKIAUNKNOWN000000001', secretAccessKey: 'x' }) })).status, 403);
    assert.equal((await call(server, '/console/api/session', { method: 'POST', body: '{"accessKeyId":1}' })).status, 400);
    let last = 0;
    for (let i = 0; i < 5; i++) {
      last = (await call(server, '/console/api/session', { method: 'POST', body: JSON.stringify({ ...ADMIN, secretAccessKey: 'wrong' }) })).status;
    }
    assert.equal(last, 429);
    // Even the right secret waits now.
    assert.equal((await call(server, '/console/api/session', { method: 'POST', body: JSON.stringify(ADMIN) })).status, 429);
  });
});
