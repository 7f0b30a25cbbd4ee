/**
 * `serverfull/parameters`, the caching client: values kept for their TTL, a stale one checked by version
 * without decryption (a changed SecureString decrypted once), paths cached as a whole, `invalidate`, and a
 * function that sees a changed value once it invalidates its cache.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { serve, type RunningServer } from '../../src/index.js';
import { ParameterCache, ParameterStoreError } from '../../src/parameters-client/parameter-cache.js';
import { FIXTURES, tempDataDir } from '../helpers/fixture-server.js';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('serverfull/parameters', { timeout: 60_000 }, () => {
  const dataDir = tempDataDir();
  let server: RunningServer;
  let ssm: SSMClient;
  let lambda: LambdaClient;
  let clock = 1_000_000;
  /** The SSM calls the cache makes, as `Operation:WithDecryption`. */
  const calls: string[] = [];
  let cache: ParameterCache;
  const fetchOf = globalThis.fetch;
  const put = (Name: string, Value: string, Type: 'String' | 'SecureString' = 'String') => ssm.send(new PutParameterCommand({ Name, Value, Type, Overwrite: true }));

  before(async () => {
    server = await serve({ port: 0, logLevel: 'silent', env: {}, dataDir, root: FIXTURES, isolation: 'worker', functions: { reader: { handler: 'functions/cached-parameter.handler', timeout: 30 } } });
    ssm = new SSMClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
    lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
    // Counts the cache's own requests: its fetch goes through this one.
    cache = new ParameterCache({ endpoint: server.url, credentials: CREDENTIALS, ttlSeconds: 60, now: () => clock });
    globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      const target = headers.get('x-amz-target');
      if (target?.startsWith('AmazonSSM.')) calls.push(`${target.slice(10)}:${JSON.parse(String(init!.body)).WithDecryption}`);
      return fetchOf(input, init);
    }) as typeof fetch;
    await put('/app/common/stack', 'blue');
    await put('/app/common/secret', 'one', 'SecureString');
  });
  after(async () => {
    globalThis.fetch = fetchOf;
    ssm.destroy();
    lambda.destroy();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps a value for its TTL, then checks its version without decrypting it', async () => {
    assert.equal(await cache.get('/app/common/secret'), 'one');
    assert.deepEqual(calls.splice(0), ['GetParameter:false', 'GetParameter:true']);
    await put('/app/common/secret', 'two', 'SecureString');
    assert.equal(await cache.get('/app/common/secret'), 'one');
    assert.deepEqual(calls.splice(0), []);
    clock += 61_000;
    assert.equal(await cache.get('/app/common/secret'), 'two');
    assert.deepEqual(calls.splice(0), ['GetParameter:false', 'GetParameter:true']);
    clock += 61_000;
    assert.equal(await cache.get('/app/common/secret'), 'two');
    // Unchanged: one read, without decryption.
    assert.deepEqual(calls.splice(0), ['GetParameter:false']);
  });

  it('drops an entry on invalidate, and shares one read among concurrent callers', async () => {
    const [a, b] = await Promise.all([cache.get('/app/common/stack'), cache.get('/app/common/stack')]);
    assert.deepEqual([a, b], ['blue', 'blue']);
    assert.deepEqual(calls.splice(0), ['GetParameter:false']);
    await put('/app/common/stack', 'green');
    cache.invalidate('/app/common/stack');
    assert.equal(await cache.get('/app/common/stack'), 'green');
  });

  it('caches a path as a whole, read again when a version under it changes', async () => {
    assert.deepEqual(await cache.getByPath('/app'), { '/app/common/secret': 'two', '/app/common/stack': 'green' });
    clock += 61_000;
    assert.deepEqual(await cache.getByPath('/app'), { '/app/common/secret': 'two', '/app/common/stack': 'green' });
    await put('/app/common/stack', 'red');
    clock += 61_000;
    assert.equal((await cache.getByPath('/app'))['/app/common/stack'], 'red');
  });

  it('fails with the Parameter Store\'s error type', async () => {
    await assert.rejects(cache.get('/app/none'), (error: Error) => error instanceof ParameterStoreError && error.name === 'ParameterNotFound');
  });

  it('in a function, reaches serverfull from its environment alone, and sees a change once invalidated', async () => {
    const read = async (event: unknown) => JSON.parse(Buffer.from((await lambda.send(new InvokeCommand({ FunctionName: 'reader', Payload: JSON.stringify(event) }))).Payload!).toString());
    assert.deepEqual(await read({ name: '/app/common/stack' }), { value: 'red' });
    await put('/app/common/stack', 'violet');
    assert.deepEqual(await read({ name: '/app/common/stack' }), { value: 'red' });
    assert.deepEqual(await read({ name: '/app/common/stack', invalidate: true }), { value: 'violet' });
  });
});
