/**
 * The Parameters and Secrets extension's local interface: one listener for every environment, the caller
 * known by its `X-Aws-Parameters-Secrets-Token`, GetParameter's JSON, the extension's cache per function
 * (`SSM_PARAMETER_STORE_TTL`), and a sandbox without a network reaching it at the same port.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { serve, type RunningServer } from '../../src/index.js';
import { FIXTURES, tempDataDir } from '../helpers/fixture-server.js';
import { SANDBOX_UNUSABLE } from '../helpers/sandbox-host.js';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const reader = { handler: 'functions/read-parameters.handler', timeout: 30 };

describe('the Parameters and Secrets extension interface', { timeout: 60_000 }, () => {
  const dataDir = tempDataDir();
  let server: RunningServer;
  let lambda: LambdaClient;
  let ssm: SSMClient;
  const read = async (fn: string, names: string[]) =>
    JSON.parse(Buffer.from((await lambda.send(new InvokeCommand({ FunctionName: fn, Payload: JSON.stringify({ extension: names }) }))).Payload!).toString()).extension;

  before(async () => {
    server = await serve({
      port: 0, logLevel: 'silent', env: {}, dataDir, root: FIXTURES, isolation: 'worker',
      functions: {
        cached: reader,
        uncached: { ...reader, environment: { SSM_PARAMETER_STORE_TTL: '0' } },
        referencing: { ...reader, environment: { RESOLVED: '{{resolve:ssm:/global/later}}' } },
        ...(SANDBOX_UNUSABLE === undefined ? { isolated: { ...reader, isolation: 'process', network: 'none' } } : {}),
      },
    });
    lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
    ssm = new SSMClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
    await ssm.send(new PutParameterCommand({ Name: '/global/active-stack', Value: 'blue', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: '/global/db-password', Value: 'hunter2', Type: 'SecureString' }));
  });
  after(async () => {
    lambda.destroy();
    ssm.destroy();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers GetParameter\'s JSON, decrypted when asked', async () => {
    const [stack, password, missing] = await read('cached', ['/global/active-stack', '/global/db-password', '/global/none']);
    assert.equal(stack.status, 200);
    assert.equal(stack.body.Parameter.Name, '/global/active-stack');
    assert.equal(stack.body.Parameter.Value, 'blue');
    assert.equal(stack.body.Parameter.Version, 1);
    assert.equal(stack.body.Parameter.ARN, 'arn:aws:ssm:us-east-1:000000000000:parameter/global/active-stack');
    assert.equal(password.body.Parameter.Value, 'hunter2');
    assert.equal(missing.status, 400);
    assert.equal(missing.body.__type, 'ParameterNotFound');
  });

  it('caches per function for SSM_PARAMETER_STORE_TTL: a change shows at once only where the TTL is 0', async () => {
    assert.equal((await read('uncached', ['/global/active-stack']))[0].body.Parameter.Value, 'blue');
    await ssm.send(new PutParameterCommand({ Name: '/global/active-stack', Value: 'green', Overwrite: true }));
    assert.equal((await read('cached', ['/global/active-stack']))[0].body.Parameter.Value, 'blue');
    assert.equal((await read('uncached', ['/global/active-stack']))[0].body.Parameter.Version, 2);
  });

  it('refuses a request without a token, or with one this server did not mint', async () => {
    const url = await extensionUrl();
    const none = await fetch(`${url}/systemsmanager/parameters/get?name=/global/active-stack`);
    assert.equal(none.status, 403);
    assert.equal(((await none.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException');
    const forged = await fetch(`${url}/systemsmanager/parameters/get?name=/global/active-stack`, { headers: { 'X-Aws-Parameters-Secrets-Token': 'eyJrIjoiQVNJQSJ9.AAAA' } });
    assert.equal(forged.status, 403);
    assert.equal(((await forged.json()) as { __type: string }).__type, 'UnrecognizedClientException');
    assert.equal((await fetch(`${url}/secretsmanager/get?secretId=x`)).status, 404);
  });

  it('reaches a sandbox without a network at the same port, in its own namespace', { skip: SANDBOX_UNUSABLE ?? false }, async () => {
    const [stack] = await read('isolated', ['/global/active-stack']);
    assert.equal(stack.status, 200, JSON.stringify(stack));
    assert.equal(stack.body.Parameter.Version, 2);
  });

  it('fails the start of an environment whose {{resolve:ssm:...}} names a missing parameter, and resolves it once it exists', async () => {
    const call = () => lambda.send(new InvokeCommand({ FunctionName: 'referencing', Payload: '{}' }));
    const failed = await call();
    assert.equal(failed.FunctionError, 'Unhandled');
    assert.equal(JSON.parse(Buffer.from(failed.Payload!).toString()).errorType, 'Runtime.InitError');
    assert.match(JSON.parse(Buffer.from(failed.Payload!).toString()).errorMessage, /environment variable RESOLVED: cannot resolve \{\{resolve:ssm:\/global\/later\}\}: ParameterNotFound$/);
    await ssm.send(new PutParameterCommand({ Name: '/global/later', Value: 'arrived', Type: 'String' }));
    const resolved = await call();
    assert.equal(resolved.FunctionError, undefined);
    assert.equal(JSON.parse(Buffer.from(resolved.Payload!).toString()).resolved, 'arrived');
  });

  /** The interface's address, as a function sees it. */
  async function extensionUrl(): Promise<string> {
    const out = JSON.parse(Buffer.from((await lambda.send(new InvokeCommand({ FunctionName: 'uncached', Payload: '{"port":true}' }))).Payload!).toString());
    return `http://127.0.0.1:${out.port}`;
  }
});
