/**
 * Handler strings that leave the function's code folder, through @aws-sdk/client-lambda over real
 * HTTP: CreateFunction and UpdateFunctionConfiguration refuse them with InvalidParameterValueException,
 * change nothing and store no code.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateFunctionCommand, GetFunctionConfigurationCommand, UpdateFunctionConfigurationCommand, type CreateFunctionCommandInput,
} from '@aws-sdk/client-lambda';
import { startFixtureServer, tempDataDir, type FixtureServer } from '../helpers/fixture-server.js';
import { handlerZip } from '../helpers/zip-fixture.js';

const ESCAPING = ['../../x.handler', '../index.handler', 'lib/../../index.handler', '/etc/passwd.handler', '/var/task/index.handler', '..\\index.handler'];

async function rejectsInvalid(promise: Promise<unknown>, handler: string): Promise<void> {
  await assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, 'InvalidParameterValueException', `${error.name}: ${error.message}`);
    assert.equal(error.$metadata?.httpStatusCode, 400);
    assert.ok(error.message.startsWith(`The handler ${handler} is not valid: `), error.message);
    return true;
  });
}

describe('handler containment', () => {
  let fx: FixtureServer;
  const dataDir = tempDataDir();
  let zip: Buffer;
  const input = (name: string, handler: string, runtime = 'nodejs20.x'): CreateFunctionCommandInput => ({
    FunctionName: name, Runtime: runtime as CreateFunctionCommandInput['Runtime'], Handler: handler,
    Role: 'arn:aws:iam::000000000000:role/test', Code: { ZipFile: zip }, Timeout: 30,
  });
  before(async () => {
    fx = await startFixtureServer({ dataDir });
    zip = await handlerZip('contained');
  });
  after(() => fx.close());

  for (const handler of ESCAPING) {
    it(`CreateFunction refuses ${JSON.stringify(handler)}, creating nothing`, async () => {
      await rejectsInvalid(fx.lambda.send(new CreateFunctionCommand(input('escapes', handler))), handler);
      await assert.rejects(fx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'escapes' })), { name: 'ResourceNotFoundException' });
      assert.deepEqual(readdirSync(join(dataDir, 'code')), [], 'no code stored');
    });
  }

  it('CreateFunction refuses it for a custom runtime too', async () => {
    await rejectsInvalid(fx.lambda.send(new CreateFunctionCommand(input('escapes', '../../bootstrap.x', 'provided.al2023'))), '../../bootstrap.x');
  });

  it('UpdateFunctionConfiguration refuses it, leaving the handler as it was', async () => {
    await fx.lambda.send(new CreateFunctionCommand(input('contained', 'index.handler')));
    for (const handler of ESCAPING) {
      await rejectsInvalid(fx.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'contained', Handler: handler })), handler);
    }
    const config = await fx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'contained' }));
    assert.equal(config.Handler, 'index.handler');
    assert.equal((await fx.invoke('contained', {})).json.label, 'contained');
  });
});
