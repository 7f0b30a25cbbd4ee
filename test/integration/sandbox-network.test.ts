/**
 * Functions without a network (`network: "none"` per function, `--function-network none` for the server):
 * their sandbox has a network namespace of its own, so nothing outside answers them, not even the host's
 * loopback; yet their runtime reaches its Runtime API (Node.js, and a shell runtime with curl) and their code
 * reaches serverfull's Lambda API through the sockets the server lends them. A function of the default
 * network still connects out. Without the sandbox, `none` is refused at start, never run with the host's network.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand } from '@aws-sdk/client-lambda';
import { ConfigError } from '../../src/config/config-error.js';
import { resolveSettings } from '../../src/config/settings.js';
import { createZip } from '../../src/deploy/zip-archive.js';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { SANDBOX_UNUSABLE } from '../helpers/sandbox-host.js';

const ROOT = join(FIXTURES, 'sandbox-network');

/** An address of this host beyond loopback, when it has one. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces()).flat().find((address) => address?.family === 'IPv4' && !address.internal)?.address;
}

describe('the function network setting', () => {
  it('is all by default, and takes all and none only', () => {
    assert.equal(resolveSettings({}).functionNetwork, 'all');
    assert.equal(resolveSettings({ env: { SERVERFULL_FUNCTION_NETWORK: 'none' } }).functionNetwork, 'none');
    assert.equal(resolveSettings({ manifest: { functionNetwork: 'none' } }).functionNetwork, 'none');
    assert.throws(() => resolveSettings({ env: { SERVERFULL_FUNCTION_NETWORK: 'off' } }), ConfigError);
  });

  it('a function\'s "network" is checked: all or none, and none only in process isolation', async () => {
    const start = (fn: Record<string, unknown>) => startFixtureServer({ config: undefined, root: ROOT, sandbox: 'off', functions: { fn: { handler: 'net.handler', ...fn } } });
    await assert.rejects(start({ network: 'some' }), (error: Error) => error instanceof ConfigError && /field "network"/.test(error.message));
    await assert.rejects(start({ network: 'none', isolation: 'worker' }), (error: Error) => error instanceof ConfigError && /"isolation" "process"/.test(error.message));
  });

  it('is refused at start where functions would run unsandboxed: no silent host network', async () => {
    const start = (options: Record<string, unknown>) => startFixtureServer({ config: undefined, root: ROOT, ...options });
    await assert.rejects(start({ sandbox: 'off', functions: { fn: { handler: 'net.handler', network: 'none' } } }),
      (error: Error) => error instanceof ConfigError && /function "fn": network "none" needs sandboxed process environments.*--sandbox is off/.test(error.message));
    await assert.rejects(start({ sandbox: 'off', isolation: 'process', functionNetwork: 'none' }),
      (error: Error) => error instanceof ConfigError && /--function-network none .* needs sandboxed process environments/.test(error.message));
    // Deployed functions get --deployed-isolation: a thread shares the server's network.
    await assert.rejects(start({ functionNetwork: 'none', deployedIsolation: 'worker' }), (error: Error) => error instanceof ConfigError && /use --deployed-isolation process/.test(error.message));
    await assert.rejects(start({ functionNetwork: 'none', isolation: 'process', functions: { fn: { handler: 'net.handler', isolation: 'worker' } } }),
      (error: Error) => error instanceof ConfigError && /function "fn": network "none" \(from --function-network\)/.test(error.message));
  });
});

describe('sandboxed functions without a network', { skip: SANDBOX_UNUSABLE ?? false }, () => {
  let fx: FixtureServer;
  let outside: Server;
  let outsidePort: number;

  before(async () => {
    // A service of the host, on every address: loopback and the host's own.
    // A client that connects and leaves at once resets the connection: not an error here.
    outside = createServer((socket) => socket.on('error', () => {}).end('hello'));
    await new Promise<void>((resolve) => outside.listen(0, '0.0.0.0', resolve));
    outsidePort = (outside.address() as AddressInfo).port;
    fx = await startFixtureServer({
      config: undefined, root: ROOT, sandbox: 'on',
      functions: {
        isolated: { handler: 'net.handler', network: 'none', timeout: 30 },
        open: { handler: 'net.handler', isolation: 'process', timeout: 30 },
        threaded: { handler: 'net.handler', timeout: 30 },
        // An endpoint of its own configuration: the server must not pipe the sandbox there.
        configured: { handler: 'net.handler', network: 'none', timeout: 30, environment: { AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${outsidePort}` } },
        shell: { runtime: 'provided.al2023', handler: 'function.handler', network: 'none', timeout: 30, environment: { OUTSIDE_URL: `http://127.0.0.1:${outsidePort}/` } },
      },
    });
  });

  after(async () => {
    await fx.close();
    outside.close();
  });

  it('cannot connect to a service of the host, on loopback or beyond, yet answers', async () => {
    const targets: Array<[string, number]> = [['127.0.0.1', outsidePort]];
    const external = externalAddress();
    if (external !== undefined) targets.push([external, outsidePort]);
    const out = await fx.invoke('isolated', { connect: targets });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.equal(out.json.connect[0], 'ECONNREFUSED', 'the sandbox\'s own loopback has nothing on that port');
    if (external !== undefined) assert.equal(out.json.connect[1], 'ENETUNREACH', 'no route out of the namespace');
    // AWS's own Runtime API address: the sandbox's loopback is its own.
    assert.equal(out.json.runtimeApi, '127.0.0.1:9001');
  });

  it('cannot reach the host\'s abstract Unix sockets either (they belong to the network namespace)', async () => {
    const name = `serverfull-test-${process.pid}-${Date.now()}`;
    const abstract = createServer((socket) => socket.on('error', () => {}).end('hello'));
    await new Promise<void>((resolve) => abstract.listen(`\0${name}`, resolve));
    try {
      const out = await fx.invoke('isolated', { abstract: name });
      assert.equal(out.FunctionError, undefined, out.text);
      assert.equal(out.json.abstract, 'ECONNREFUSED');
    } finally {
      abstract.close();
    }
  });

  it('a function of the host\'s network still connects out', async () => {
    for (const name of ['open', 'threaded']) {
      const out = await fx.invoke(name, { connect: [['127.0.0.1', outsidePort]] });
      assert.equal(out.FunctionError, undefined, out.text);
      assert.deepEqual(out.json.connect, ['connected'], name);
    }
  });

  it('calls serverfull\'s Lambda API with the SDK, at AWS_ENDPOINT_URL_LAMBDA', async () => {
    const out = await fx.invoke('isolated', { invoke: 'open' });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.match(out.json.lambdaEndpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(out.json.invoked.status, 200, JSON.stringify(out.json.invoked));
    assert.equal(out.json.invoked.payload.from, 'inside');
    // Over and over, on the same environment.
    for (let round = 0; round < 3; round++) assert.equal((await fx.invoke('isolated', { invoke: 'open' })).json.invoked.status, 200);
  });

  it('an endpoint the function\'s configuration sets is not a way out', async () => {
    const out = await fx.invoke('configured', { invoke: 'open' });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.equal(out.json.lambdaEndpoint, `http://127.0.0.1:${outsidePort}`);
    assert.notEqual(out.json.invoked.status, 200, JSON.stringify(out.json.invoked));
    assert.match(out.json.invoked.message, /ECONNREFUSED/);
  });

  it('runs a shell custom runtime with curl, which reaches its Runtime API and nothing outside', async () => {
    const out = await fx.invoke('shell', { a: 1 });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.deepEqual(out.json, { outbound: 'curl exit 7', runtimeApi: '127.0.0.1:9001', event: { a: 1 } });
  });

  it('--function-network none: functions that do not choose, deployed ones included, have no network', async () => {
    const server = await startFixtureServer({
      config: undefined, root: ROOT, sandbox: 'on', isolation: 'process', functionNetwork: 'none',
      functions: { declared: { handler: 'net.handler', timeout: 30 }, chosen: { handler: 'net.handler', network: 'all', timeout: 30 } },
    });
    try {
      await server.lambda.send(new CreateFunctionCommand({
        FunctionName: 'deployed', Runtime: 'nodejs22.x', Handler: 'net.handler', Role: 'arn:aws:iam::000000000000:role/lambda', Timeout: 30,
        Code: { ZipFile: await createZip(ROOT) },
      }));
      for (const [name, expected] of [['declared', 'ECONNREFUSED'], ['deployed', 'ECONNREFUSED'], ['chosen', 'connected']] as const) {
        const out = await server.invoke(name, { connect: [['127.0.0.1', outsidePort]] });
        assert.equal(out.FunctionError, undefined, `${name}: ${out.text}`);
        assert.deepEqual(out.json.connect, [expected], name);
      }
    } finally {
      await server.close();
    }
  });
});
