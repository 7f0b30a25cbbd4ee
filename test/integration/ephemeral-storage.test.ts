/**
 * `EphemeralStorage`: a function's `/tmp` size, 512 to 10240 MB as in AWS; set through the API, the manifest or a
 * template, reported everywhere AWS reports it, kept across restarts, and the size of a sandboxed function's `/tmp`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateFunctionCommand, GetFunctionCommand, GetFunctionConfigurationCommand, ListFunctionsCommand, PublishVersionCommand,
  UpdateFunctionConfigurationCommand, type CreateFunctionCommandInput, type LambdaClient,
} from '@aws-sdk/client-lambda';
import { createZip } from '../../src/deploy/zip-archive.js';
import { FIXTURES, startFixtureServer, tempDataDir, type FixtureServer } from '../helpers/fixture-server.js';
import { SANDBOX_UNUSABLE } from '../helpers/sandbox-host.js';

const ROOT = join(FIXTURES, 'deployed-code');

async function create(lambda: LambdaClient, name: string, extra: Partial<CreateFunctionCommandInput> = {}) {
  return lambda.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: 'nodejs22.x', Handler: 'probe.handler', Role: 'arn:aws:iam::000000000000:role/lambda', Timeout: 60,
    Code: { ZipFile: await createZip(ROOT) }, ...extra,
  }));
}

/** Expects `promise` to fail with the AWS error `name` and `message`. */
async function rejectsWith(promise: Promise<unknown>, name: string, message: string): Promise<void> {
  await assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, name, `${error.name}: ${error.message}`);
    assert.equal(error.message, message);
    assert.equal(error.$metadata?.httpStatusCode, 400);
    return true;
  });
}

describe('EphemeralStorage through the management API', () => {
  let fx: FixtureServer;
  const dataDir = tempDataDir();

  before(async () => {
    fx = await startFixtureServer({ config: undefined, root: ROOT, dataDir, functions: { declared: { handler: 'probe.handler', ephemeralStorage: 3072 } } });
  });

  after(() => fx.close());

  it('is 512 MB unless given', async () => {
    const created = await create(fx.lambda, 'plain');
    assert.deepEqual(created.EphemeralStorage, { Size: 512 });
  });

  it('is kept as given and reported by every read, published versions included', async () => {
    const created = await create(fx.lambda, 'roomy', { EphemeralStorage: { Size: 1024 } });
    assert.deepEqual(created.EphemeralStorage, { Size: 1024 });
    assert.deepEqual((await fx.lambda.send(new GetFunctionCommand({ FunctionName: 'roomy' }))).Configuration?.EphemeralStorage, { Size: 1024 });
    const updated = await fx.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'roomy', EphemeralStorage: { Size: 10_240 } }));
    assert.deepEqual(updated.EphemeralStorage, { Size: 10_240 });
    // A change of configuration that does not name it keeps it.
    await fx.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'roomy', Description: 'more room' }));
    assert.deepEqual((await fx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'roomy' }))).EphemeralStorage, { Size: 10_240 });
    const published = await fx.lambda.send(new PublishVersionCommand({ FunctionName: 'roomy' }));
    assert.deepEqual(published.EphemeralStorage, { Size: 10_240 });
    assert.deepEqual((await fx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'roomy', Qualifier: published.Version }))).EphemeralStorage, { Size: 10_240 });
    const listed = await fx.lambda.send(new ListFunctionsCommand({}));
    assert.deepEqual(listed.Functions?.find((f) => f.FunctionName === 'roomy')?.EphemeralStorage, { Size: 10_240 });
  });

  it('a manifest function reports its own', async () => {
    assert.deepEqual((await fx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'declared' }))).EphemeralStorage, { Size: 3072 });
  });

  it('outside 512 to 10240 MB is AWS\'s ValidationException', async () => {
    await rejectsWith(create(fx.lambda, 'small', { EphemeralStorage: { Size: 100 } }), 'ValidationException',
      '1 validation error detected: Value \'100\' at \'ephemeralStorage.size\' failed to satisfy constraint: Member must have value greater than or equal to 512');
    await rejectsWith(create(fx.lambda, 'huge', { EphemeralStorage: { Size: 10_241 } }), 'ValidationException',
      '1 validation error detected: Value \'10241\' at \'ephemeralStorage.size\' failed to satisfy constraint: Member must have value less than or equal to 10240');
    await rejectsWith(fx.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'plain', EphemeralStorage: { Size: 511 } })), 'ValidationException',
      '1 validation error detected: Value \'511\' at \'ephemeralStorage.size\' failed to satisfy constraint: Member must have value greater than or equal to 512');
    // Nothing was changed or created by the refused requests.
    assert.deepEqual((await fx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'plain' }))).EphemeralStorage, { Size: 512 });
    assert.equal((await fx.lambda.send(new ListFunctionsCommand({}))).Functions?.some((f) => f.FunctionName === 'small' || f.FunctionName === 'huge'), false);
  });

  it('is kept across a restart', async () => {
    await fx.server.close();
    fx.lambda.destroy();
    fx = await startFixtureServer({ config: undefined, root: ROOT, dataDir, functions: {} });
    assert.deepEqual((await fx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'roomy' }))).EphemeralStorage, { Size: 10_240 });
    assert.deepEqual((await fx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'roomy', Qualifier: '1' }))).EphemeralStorage, { Size: 10_240 });
  });
});

describe('a sandboxed function\'s /tmp', { skip: SANDBOX_UNUSABLE ?? false }, () => {
  let fx: FixtureServer;

  before(async () => {
    fx = await startFixtureServer({ config: undefined, root: ROOT, functions: {} });
    // tmpfs pages count against the function's memory: room for the full /tmp and the runtime.
    await create(fx.lambda, 'default-tmp', { MemorySize: 1024 });
    await create(fx.lambda, 'large-tmp', { MemorySize: 2048, EphemeralStorage: { Size: 1024 } });
  });

  after(() => fx.close());

  it('holds 512 MB by default, and no more', async () => {
    const out = await fx.invoke('default-tmp', { probe: 'fill', upToMB: 600 });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.equal(out.json.stopped, 'ENOSPC');
    assert.ok(out.json.writtenMB >= 500 && out.json.writtenMB <= 520, `wrote ${out.json.writtenMB} MB`);
  });

  it('holds what EphemeralStorage gives', async () => {
    const out = await fx.invoke('large-tmp', { probe: 'fill', upToMB: 1100 });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.equal(out.json.stopped, 'ENOSPC');
    assert.ok(out.json.writtenMB >= 1000 && out.json.writtenMB <= 1030, `wrote ${out.json.writtenMB} MB`);
  });
});
