/**
 * `serverfull bundle`: the package it writes is deployed to serverfull itself through
 * CreateFunction and invoked with the SDK, as `provided.al2023` (its bootstrap runs lambda
 * mode against the environment's Runtime API) and as `nodejs20.x` (`index.handler`).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand, type Runtime } from '@aws-sdk/client-lambda';
import { extractZip } from '../../src/deploy/zip-archive.js';
import { FIXTURE_MANIFEST, FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { runCli } from '../helpers/cli-process.js';

const MOCK_MANIFEST = join(FIXTURES, 'mock/serverfull.json');

describe('serverfull bundle', () => {
  let fx: FixtureServer;
  let dir: string;

  /** Runs `serverfull bundle` and returns the zip it wrote. */
  async function bundle(args: string[]): Promise<Buffer> {
    const out = join(dir, `${args.join('-').replace(/[^\w-]/g, '_')}.zip`);
    const cli = runCli(['bundle', ...args, '--out', out]);
    assert.equal(await cli.exited, 0, cli.stderr());
    assert.match(cli.stdout(), /\.zip: \d+ kB \(bootstrap, runtime\.mjs/);
    return readFileSync(out);
  }

  async function deploy(name: string, zip: Buffer, runtime: Runtime, handler: string, variables?: Record<string, string>): Promise<void> {
    await fx.lambda.send(new CreateFunctionCommand({
      FunctionName: name, Runtime: runtime, Handler: handler, Role: 'arn:aws:iam::000000000000:role/lambda', Code: { ZipFile: zip }, Timeout: 30,
      ...(variables ? { Environment: { Variables: variables } } : {}),
    }));
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'serverfull-bundle-test-'));
    fx = await startFixtureServer();
  });
  after(async () => {
    await fx.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes an executable bootstrap, the lambda-mode runtime and the bare handler', async () => {
    const zip = await bundle(['--config', FIXTURE_MANIFEST, '--function', 'echo']);
    const unpacked = join(dir, 'unpacked');
    mkdirSync(unpacked);
    await extractZip(zip, unpacked);
    assert.ok(statSync(join(unpacked, 'bootstrap')).mode & 0o100, 'bootstrap is executable');
    const runtime = readFileSync(join(unpacked, 'runtime.mjs'), 'utf8');
    assert.doesNotMatch(runtime, /from ['"](?!node:)[^'"]+['"]/, 'runtime.mjs imports nothing but Node.js built-ins');
    assert.match(readFileSync(join(unpacked, 'index.mjs'), 'utf8'), /export\s*\{[^}]*handler/);
  });

  it('runs as provided.al2023: the bootstrap serves the function through the Runtime API', async () => {
    await deploy('bundled-echo', await bundle(['--config', FIXTURE_MANIFEST, '--function', 'echo']), 'provided.al2023', 'anything');
    const out = await fx.invoke('bundled-echo', { hello: 'bundle' }, { LogType: 'Tail' });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.deepEqual(out.json.event, { hello: 'bundle' });
    assert.equal(out.json.requestId, out.$metadata.requestId);
    assert.equal(out.json.env.AWS_LAMBDA_FUNCTION_NAME, 'bundled-echo');
    assert.equal(out.json.env.SECRET, 'echo-secret', "the manifest's environment is built in");
    assert.match(Buffer.from(out.LogResult!, 'base64').toString(), /Init Duration/);
    // Warm: the same process answers again.
    assert.deepEqual((await fx.invoke('bundled-echo', { again: true })).json.event, { again: true });
  });

  it('runs as nodejs20.x with index.handler; the function configuration wins over the built-in environment', async () => {
    await deploy('bundled-echo-node', await bundle(['--config', FIXTURE_MANIFEST, '--function', 'echo']), 'nodejs20.x', 'index.handler', { SECRET: 'from the configuration' });
    const out = await fx.invoke('bundled-echo-node', { n: 2 });
    assert.deepEqual(out.json.event, { n: 2 });
    assert.equal(out.json.env.SECRET, 'from the configuration');
  });

  it('bundles a TypeScript handler', async () => {
    await deploy('bundled-typed', await bundle(['--config', FIXTURE_MANIFEST, '--function', 'typed']), 'provided.al2023', 'x');
    const out = await fx.invoke('bundled-typed', { id: 7, items: ['a', 'b'] });
    assert.deepEqual(out.json, { id: 7, count: 2, fn: 'bundled-typed' });
  });

  it('reports an error thrown at import as the init error', async () => {
    await deploy('bundled-import-error', await bundle(['--config', FIXTURE_MANIFEST, '--function', 'import-error']), 'provided.al2023', 'x');
    const out = await fx.invoke('bundled-import-error', {});
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(out.json.errorMessage, 'cannot initialise: missing configuration');
  });

  it('a mocked function answers its declared example in lambda mode, without its code', async () => {
    const zip = await bundle(['--config', MOCK_MANIFEST, '--function', 'order']);
    await deploy('bundled-mock', zip, 'provided.al2023', 'x');
    const out = await fx.invoke('bundled-mock', {});
    assert.deepEqual(out.json, { orderId: 7, status: 'shipped', items: [{ sku: 'TEA-0001', qty: 2 }] });
  });

  it('refuses an unknown function with a clear message', async () => {
    const cli = runCli(['bundle', '--config', FIXTURE_MANIFEST, '--function', 'nope', '--out', join(dir, 'nope.zip')]);
    assert.equal(await cli.exited, 2);
    assert.match(cli.stderr(), /no function "nope" is declared/);
  });
});
