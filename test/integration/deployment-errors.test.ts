/** Bad deployment input gets AWS's errors, and changes nothing: zips, limits, names, parameters, unknown resources. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand, CreateFunctionCommand, DeleteAliasCommand, DeleteFunctionCommand, GetAliasCommand, GetFunctionCommand,
  ListFunctionsCommand, PublishVersionCommand, UpdateAliasCommand, UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand,
  type CreateFunctionCommandInput,
} from '@aws-sdk/client-lambda';
import { startFixtureServer, tempDataDir, type FixtureServer } from '../helpers/fixture-server.js';
import { handlerZip, zerosZip, zipOf } from '../helpers/zip-fixture.js';

const COULD_NOT_UNZIP = 'Could not unzip uploaded file. Please check your file, then try to upload again.';

describe('deployment errors', () => {
  let fixture: FixtureServer;
  const dataDir = tempDataDir();
  let goodZip: Buffer;
  before(async () => {
    fixture = await startFixtureServer({ dataDir });
    goodZip = await handlerZip('ok');
    await fixture.lambda.send(new CreateFunctionCommand(input('existing')));
    await fixture.lambda.send(new PublishVersionCommand({ FunctionName: 'existing' }));
  });
  after(() => fixture.close());

  function input(name: string, extra: Partial<CreateFunctionCommandInput> = {}): CreateFunctionCommandInput {
    // A timeout no cold start on a loaded machine reaches (the default 3 s does, with the whole suite running).
    return { FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: 'arn:aws:iam::000000000000:role/test', Code: { ZipFile: goodZip }, Timeout: 30, ...extra };
  }

  async function refused(promise: Promise<unknown>, name: string, message?: string | RegExp, status?: number): Promise<void> {
    await assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.name, name, `${error.name}: ${error.message}`);
      if (typeof message === 'string') assert.equal(error.message, message);
      else if (message) assert.match(error.message, message);
      if (status) assert.equal(error.$metadata?.httpStatusCode, status);
      return true;
    });
  }

  /** Nothing was created, and no package is left on disk but those of `existing`. */
  async function nothingCreated(name: string): Promise<void> {
    await refused(fixture.lambda.send(new GetFunctionCommand({ FunctionName: name })), 'ResourceNotFoundException');
    const packages = readdirSync(join(dataDir, 'code')).filter((entry) => !entry.endsWith('.zip'));
    assert.equal(packages.length, 1, `unexpected packages: ${packages.join(', ')}`);
  }

  it('refuses a file that is not a zip, and a truncated zip', async () => {
    await refused(fixture.lambda.send(new CreateFunctionCommand(input('bad-zip', { Code: { ZipFile: Buffer.from('not a zip at all') } }))),
      'InvalidParameterValueException', COULD_NOT_UNZIP, 400);
    await refused(fixture.lambda.send(new CreateFunctionCommand(input('bad-zip', { Code: { ZipFile: goodZip.subarray(0, goodZip.length - 30) } }))),
      'InvalidParameterValueException', COULD_NOT_UNZIP, 400);
    await nothingCreated('bad-zip');
    await refused(fixture.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'existing', ZipFile: goodZip.subarray(0, 40) })),
      'InvalidParameterValueException', COULD_NOT_UNZIP);
    assert.equal((await fixture.invoke('existing', {})).json.label, 'ok', 'a refused update leaves the function as it was');
  });

  it('refuses zip-slip paths and writes nothing outside the package', async () => {
    // yazl refuses to write such a name: write a placeholder of the same length, then swap it in both headers.
    const evil = Buffer.from('x/../../../escaped.js');
    const placeholder = Buffer.from('x'.repeat(evil.length));
    const slip = await zipOf({ 'index.mjs': 'export const handler = async () => 1;', [placeholder.toString()]: 'owned' });
    for (let at = slip.indexOf(placeholder); at !== -1; at = slip.indexOf(placeholder, at + 1)) evil.copy(slip, at);
    await refused(fixture.lambda.send(new CreateFunctionCommand(input('slip', { Code: { ZipFile: slip } }))), 'InvalidParameterValueException', COULD_NOT_UNZIP);
    assert.ok(!readdirSync(dataDir).includes('escaped.js'));
    assert.ok(!readdirSync(join(dataDir, '..')).includes('escaped.js'));
    await nothingCreated('slip');
  });

  it('refuses a zip bomb over 250 MB unzipped', async () => {
    const bomb = zerosZip('export const handler = async () => 1;', 262_144_001);
    assert.ok(bomb.length < 1_000_000, 'the bomb is small zipped');
    await refused(fixture.lambda.send(new CreateFunctionCommand(input('bomb', { Code: { ZipFile: bomb } }))),
      'InvalidParameterValueException', 'Unzipped size must be smaller than 262144000 bytes', 400);
    await nothingCreated('bomb');
  });

  it('refuses a zip over 50 MB, and a request over the CreateFunction limit', async () => {
    const big = Buffer.alloc(52_428_801, 1);
    await refused(fixture.lambda.send(new CreateFunctionCommand(input('big', { Code: { ZipFile: big } }))),
      'RequestEntityTooLargeException', 'Zipped size must be smaller than 52428800 bytes', 413);
    const response = await fetch(`${fixture.server.url}/2015-03-31/functions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(70_167_212, 0x20),
    });
    assert.equal(response.status, 413);
    assert.equal(response.headers.get('x-amzn-errortype'), 'RequestEntityTooLargeException');
    assert.equal(((await response.json()) as { message: string }).message, 'Request must be smaller than 70167211 bytes for the CreateFunction operation');
    await nothingCreated('big');
  });

  it('reports a missing handler file at invoke as Runtime.ImportModuleError, as AWS does', async () => {
    const zip = await zipOf({ 'other.mjs': 'export const handler = async () => 1;' });
    await fixture.lambda.send(new CreateFunctionCommand(input('no-handler', { Code: { ZipFile: zip } })));
    const result = await fixture.invoke('no-handler', {});
    assert.equal(result.FunctionError, 'Unhandled');
    assert.equal(result.json.errorType, 'Runtime.ImportModuleError');
    await fixture.lambda.send(new DeleteFunctionCommand({ FunctionName: 'no-handler' }));
  });

  it('refuses names and parameters outside AWS patterns and ranges', async () => {
    const { lambda } = fixture;
    await refused(lambda.send(new CreateFunctionCommand(input('bad name!'))), 'ValidationException', /at 'functionName' failed to satisfy constraint/);
    await refused(lambda.send(new CreateFunctionCommand(input('a'.repeat(65)))), 'InvalidParameterValueException', /Member must have length less than or equal to 64/);
    await refused(lambda.send(new CreateFunctionCommand(input('t', { Timeout: 901 }))), 'ValidationException',
      "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900");
    await refused(lambda.send(new CreateFunctionCommand(input('t', { MemorySize: 64 }))), 'ValidationException', /'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128/);
    await refused(lambda.send(new CreateFunctionCommand(input('t', { Runtime: 'non-existent-runtime' as never }))), 'InvalidParameterValueException',
      /^Value non-existent-runtime at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: \[.*\] or be a valid ARN$/);
    await refused(lambda.send(new CreateFunctionCommand(input('t', { Runtime: 'python3.9' }))), 'InvalidParameterValueException', /python3\.9 is not supported by serverfull/);
    await refused(lambda.send(new CreateFunctionCommand(input('t', { Handler: undefined }))), 'InvalidParameterValueException',
      'Runtime and Handler are mandatory parameters for functions created with deployment packages.');
    await refused(lambda.send(new CreateFunctionCommand(input('t', { Role: 'r1' }))), 'ValidationException', /Value 'r1' at 'role'/);
    await refused(lambda.send(new CreateFunctionCommand(input('t', { Environment: { Variables: { AWS_REGION: 'x' } } }))), 'InvalidParameterValueException',
      /contains reserved keys .* Reserved keys used in this request: AWS_REGION$/);
    await refused(lambda.send(new CreateFunctionCommand(input('t', { Environment: { Variables: { BIG: 'x'.repeat(5000) } } }))), 'InvalidParameterValueException',
      /exceeded the 4KB limit/);
    await refused(lambda.send(new CreateFunctionCommand(input('t', { Architectures: ['x86_64', 'arm64'] }))), 'ValidationException',
      /Member must have length less than or equal to 1/);
    await refused(lambda.send(new CreateFunctionCommand(input('t', { Layers: ['arn:aws:lambda:us-east-1:000000000000:layer:l:1'] }))), 'InvalidParameterValueException',
      'Layers is not supported by serverfull.');
    await refused(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'existing', Timeout: 0 })), 'ValidationException');
    await refused(lambda.send(new CreateAliasCommand({ FunctionName: 'existing', Name: '2024', FunctionVersion: '1' })), 'ValidationException',
      /Value '2024' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: \(\?!\^\[0-9\]\+\$\)\(\[a-zA-Z0-9-_\]\+\)/);
    const names = (await lambda.send(new ListFunctionsCommand({}))).Functions!.map((f) => f.FunctionName);
    assert.ok(!names.includes('t'), 'no refused function was created');
  });

  it('refuses duplicates with ResourceConflictException', async () => {
    await refused(fixture.lambda.send(new CreateFunctionCommand(input('existing'))), 'ResourceConflictException', 'Function already exist: existing', 409);
    await fixture.lambda.send(new CreateAliasCommand({ FunctionName: 'existing', Name: 'dup', FunctionVersion: '1' }));
    await refused(fixture.lambda.send(new CreateAliasCommand({ FunctionName: 'existing', Name: 'dup', FunctionVersion: '1' })), 'ResourceConflictException',
      'Alias already exists: arn:aws:lambda:us-east-1:000000000000:function:existing:dup');
  });

  it('answers unknown functions, versions and aliases with ResourceNotFoundException', async () => {
    const { lambda } = fixture;
    const arn = 'arn:aws:lambda:us-east-1:000000000000:function';
    await refused(lambda.send(new GetFunctionCommand({ FunctionName: 'nope' })), 'ResourceNotFoundException', `Function not found: ${arn}:nope`, 404);
    await refused(lambda.send(new GetFunctionCommand({ FunctionName: 'existing', Qualifier: '1221' })), 'ResourceNotFoundException', `Function not found: ${arn}:existing:1221`);
    await refused(lambda.send(new DeleteFunctionCommand({ FunctionName: 'nope' })), 'ResourceNotFoundException', `Function not found: ${arn}:nope`);
    await refused(lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'nope', ZipFile: goodZip })), 'ResourceNotFoundException');
    await refused(lambda.send(new PublishVersionCommand({ FunctionName: 'nope' })), 'ResourceNotFoundException');
    await refused(lambda.send(new GetAliasCommand({ FunctionName: 'existing', Name: 'missing' })), 'ResourceNotFoundException', `Cannot find alias arn: ${arn}:existing:missing`);
    await refused(lambda.send(new UpdateAliasCommand({ FunctionName: 'existing', Name: 'missing', FunctionVersion: '1' })), 'ResourceNotFoundException',
      `Alias not found: ${arn}:existing:missing`);
    await lambda.send(new DeleteAliasCommand({ FunctionName: 'existing', Name: 'missing' }));
    await refused(lambda.send(new CreateAliasCommand({ FunctionName: 'existing', Name: 'ten', FunctionVersion: '10' })), 'ResourceNotFoundException',
      `Function not found: ${arn}:existing:10`);
    await refused(fixture.invoke('existing:missing', {}), 'ResourceNotFoundException', `Function not found: ${arn}:existing:missing`);
    await refused(lambda.send(new DeleteFunctionCommand({ FunctionName: 'existing', Qualifier: '$LATEST' })), 'InvalidParameterValueException',
      '$LATEST version cannot be deleted without deleting the function.');
  });

  it('refuses invalid routing configurations with AWS messages', async () => {
    const { lambda } = fixture;
    const alias = (weights: Record<string, number>, version = '1') =>
      lambda.send(new CreateAliasCommand({ FunctionName: 'existing', Name: 'weighted', FunctionVersion: version, RoutingConfig: { AdditionalVersionWeights: weights } }));
    await refused(alias({ 2: 0.1, 3: 0.1 }), 'InvalidParameterValueException', 'Number of items in AdditionalVersionWeights cannot be greater than 1');
    await refused(alias({ 2: 2 }), 'ValidationException', /Value '\{2=2\.0\}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint/);
    await refused(alias({ 1: 0.5 }), 'InvalidParameterValueException', 'Invalid function version 1. Function version 1 is already included in routing configuration.');
    await refused(alias({ 10: 0.5 }), 'ResourceNotFoundException', 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:existing:10');
    await refused(alias({ 1: 0.5 }, '$LATEST'), 'InvalidParameterValueException', '$LATEST is not supported for an alias pointing to more than 1 version');
  });
});
