/**
 * The SSM Parameter Store API over a real server, driven by `@aws-sdk/client-ssm`: versions, labels,
 * selectors, types, paths, filters and pages, AWS's errors, SecureString sealed at rest, and every
 * acknowledged change kept across a restart.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DeleteParameterCommand, DeleteParametersCommand, DescribeParametersCommand, GetParameterCommand, GetParameterHistoryCommand, GetParametersByPathCommand,
  GetParametersCommand, LabelParameterVersionCommand, PutParameterCommand, SSMClient, type Parameter,
} from '@aws-sdk/client-ssm';
import { serve, type RunningServer } from '../../src/index.js';
import { tempDataDir } from '../helpers/fixture-server.js';

/** The error an SDK call fails with: its name and message. */
async function failure(call: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await call;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  assert.fail('the call succeeded');
}

describe('Parameter Store API', { timeout: 60_000 }, () => {
  const dataDir = tempDataDir();
  let server: RunningServer;
  let ssm: SSMClient;
  const start = async () => {
    server = await serve({ port: 0, logLevel: 'silent', env: {}, dataDir, functions: { noop: async () => 'ok' } });
    ssm = new SSMClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  };
  const put = (Name: string, Value: string, extra: Partial<ConstructorParameters<typeof PutParameterCommand>[0]> = {}) =>
    ssm.send(new PutParameterCommand({ Name, Value, Type: 'String', ...extra }));

  before(start);
  after(async () => {
    ssm.destroy();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates a parameter at version 1, refuses to replace it without Overwrite, and counts versions up with it', async () => {
    assert.deepEqual((await put('/orders/common/db-url', 'postgres://one')).Version, 1);
    const refused = await failure(put('/orders/common/db-url', 'postgres://two'));
    assert.equal(refused.name, 'ParameterAlreadyExists');
    assert.equal(refused.status, 400);
    assert.equal(refused.message, 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
    const second = await ssm.send(new PutParameterCommand({ Name: '/orders/common/db-url', Value: 'postgres://two', Overwrite: true }));
    assert.equal(second.Version, 2);
    assert.equal(second.Tier, 'Standard');
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: '/orders/common/db-url' }));
    assert.equal(Parameter?.Value, 'postgres://two');
    assert.equal(Parameter?.Version, 2);
    assert.equal(Parameter?.Type, 'String');
    assert.equal(Parameter?.ARN, 'arn:aws:ssm:us-east-1:000000000000:parameter/orders/common/db-url');
    assert.ok(Parameter?.LastModifiedDate instanceof Date);
    assert.equal(Parameter?.DataType, 'text');
  });

  it('reads a version or a label with a selector, and moves a label between versions', async () => {
    const first = await ssm.send(new GetParameterCommand({ Name: '/orders/common/db-url:1' }));
    assert.equal(first.Parameter?.Value, 'postgres://one');
    assert.equal(first.Parameter?.Selector, ':1');
    const labelled = await ssm.send(new LabelParameterVersionCommand({ Name: '/orders/common/db-url', ParameterVersion: 1, Labels: ['stable', '1bad', 'awsx'] }));
    assert.deepEqual(labelled, { ...labelled, InvalidLabels: ['1bad', 'awsx'], ParameterVersion: 1 });
    assert.equal((await ssm.send(new GetParameterCommand({ Name: '/orders/common/db-url:stable' }))).Parameter?.Value, 'postgres://one');
    await ssm.send(new LabelParameterVersionCommand({ Name: '/orders/common/db-url', Labels: ['stable'] }));
    assert.equal((await ssm.send(new GetParameterCommand({ Name: '/orders/common/db-url:stable' }))).Parameter?.Version, 2);
    const missing = await failure(ssm.send(new GetParameterCommand({ Name: '/orders/common/db-url:7' })));
    assert.deepEqual(missing, { name: 'ParameterVersionNotFound', message: 'Systems Manager could not find version 7 of /orders/common/db-url. Verify the version and try again.', status: 400 });
    const history = await ssm.send(new GetParameterHistoryCommand({ Name: '/orders/common/db-url' }));
    assert.deepEqual(history.Parameters?.map((p) => [p.Version, p.Value, p.Labels]), [[1, 'postgres://one', []], [2, 'postgres://two', ['stable']]]);
    assert.equal(history.Parameters?.[0]?.LastModifiedUser, 'arn:aws:iam::000000000000:root');
  });

  it('answers ParameterNotFound for a name that does not exist, GetParameters names it in InvalidParameters', async () => {
    assert.equal((await failure(ssm.send(new GetParameterCommand({ Name: '/nothing/here' })))).name, 'ParameterNotFound');
    const both = await ssm.send(new GetParametersCommand({ Names: ['/orders/common/db-url', '/nothing/here', '/orders/common/db-url:9'] }));
    assert.deepEqual(both.Parameters?.map((p) => p.Name), ['/orders/common/db-url']);
    assert.deepEqual(both.InvalidParameters, ['/nothing/here', '/orders/common/db-url:9']);
  });

  it('keeps SecureString values sealed at rest and returns them in plain text only WithDecryption', async () => {
    await put('/orders/checkout/api-key', 'sk_live_very_secret_value', { Type: 'SecureString' });
    const sealed = await ssm.send(new GetParameterCommand({ Name: '/orders/checkout/api-key' }));
    assert.notEqual(sealed.Parameter?.Value, 'sk_live_very_secret_value');
    const plain = await ssm.send(new GetParameterCommand({ Name: '/orders/checkout/api-key', WithDecryption: true }));
    assert.equal(plain.Parameter?.Value, 'sk_live_very_secret_value');
    const described = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: ['/orders/checkout/api-key'] }] }));
    assert.equal(described.Parameters?.[0]?.KeyId, 'alias/aws/ssm');
    for (const file of ['parameters.db', 'parameters.db-wal']) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(dataDir, file));
      } catch {
        continue;
      }
      assert.equal(bytes.includes('sk_live_very_secret_value'), false, `${file} holds the value in plain text`);
    }
    const changed = await failure(put('/orders/checkout/api-key', 'plain', { Overwrite: true, Type: 'String' }));
    assert.equal(changed.name, 'HierarchyTypeMismatchException');
  });

  it('lists a path one level down or recursively, filtered by type or label, page by page', async () => {
    await put('/orders/common/region', 'eu-west-1');
    await put('/orders/common/deep/one', '1');
    await put('/orders/common/deep/two', '2', { Type: 'StringList' });
    await put('/orderstoo/x', 'not under /orders');
    const names = async (input: ConstructorParameters<typeof GetParametersByPathCommand>[0]) => {
      const all: Parameter[] = [];
      let NextToken: string | undefined;
      do {
        const page = await ssm.send(new GetParametersByPathCommand({ ...input, NextToken }));
        all.push(...page.Parameters!);
        NextToken = page.NextToken;
      } while (NextToken);
      return all.map((p) => p.Name);
    };
    assert.deepEqual(await names({ Path: '/orders/common' }), ['/orders/common/db-url', '/orders/common/region']);
    assert.deepEqual(await names({ Path: '/orders/', Recursive: true, MaxResults: 2 }), [
      '/orders/checkout/api-key', '/orders/common/db-url', '/orders/common/deep/one', '/orders/common/deep/two', '/orders/common/region',
    ]);
    assert.deepEqual(await names({ Path: '/orders', Recursive: true, ParameterFilters: [{ Key: 'Type', Values: ['StringList'] }] }), ['/orders/common/deep/two']);
    const labelled = await ssm.send(new GetParametersByPathCommand({ Path: '/orders/common', ParameterFilters: [{ Key: 'Label', Values: ['stable'] }] }));
    assert.deepEqual(labelled.Parameters?.map((p) => [p.Name, p.Version]), [['/orders/common/db-url', 2]]);
    const badKey = await failure(ssm.send(new GetParametersByPathCommand({ Path: '/orders', ParameterFilters: [{ Key: 'Name', Values: ['x'] }] })));
    assert.equal(badKey.name, 'InvalidFilterKey');
    const badToken = await failure(ssm.send(new GetParametersByPathCommand({ Path: '/orders', NextToken: 'nope' })));
    assert.equal(badToken.name, 'InvalidNextToken');
  });

  it('describes parameters by name, path and type, in pages', async () => {
    const all: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await ssm.send(new DescribeParametersCommand({ MaxResults: 2, NextToken, ParameterFilters: [{ Key: 'Path', Option: 'Recursive', Values: ['/orders'] }] }));
      all.push(...page.Parameters!.map((p) => p.Name!));
      NextToken = page.NextToken;
    } while (NextToken);
    assert.equal(all.length, 5);
    const secure = await ssm.send(new DescribeParametersCommand({ Filters: [{ Key: 'Type', Values: ['SecureString'] }] }));
    assert.deepEqual(secure.Parameters?.map((p) => p.Name), ['/orders/checkout/api-key']);
    const both = await failure(ssm.send(new DescribeParametersCommand({ Filters: [{ Key: 'Type', Values: ['String'] }], ParameterFilters: [{ Key: 'Type', Values: ['String'] }] })));
    assert.equal(both.name, 'ValidationException');
  });

  it('enforces names, hierarchy depth, value size, types and AllowedPattern as AWS does', async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [() => put('/aws/reserved', 'x'), 'AccessDeniedException'],
      [() => put('ssm-thing', 'x'), 'ValidationException'],
      [() => put('/has space', 'x'), 'ValidationException'],
      [() => put('no/leading-slash', 'x'), 'ValidationException'],
      [() => put(`/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`, 'x'), 'HierarchyLevelLimitExceededException'],
      [() => put('/big', 'x'.repeat(4097)), 'ValidationException'],
      [() => put('/typed', 'x', { Type: 'Number' as never }), 'ValidationException'],
      [() => ssm.send(new PutParameterCommand({ Name: '/untyped', Value: 'x' })), 'ValidationException'],
      [() => put('/digits', 'abc', { AllowedPattern: '^\\d+$' }), 'ParameterPatternMismatchException'],
      [() => put('/redos', 'aaaa', { AllowedPattern: '^(a+)+$' }), 'InvalidAllowedPatternException'],
      [() => put('/advanced', 'x', { Tier: 'Advanced' }), 'ValidationException'],
    ];
    for (const [call, expected] of cases) assert.equal((await failure(call())).name, expected);
    assert.equal((await put(`/${Array.from({ length: 15 }, (_, i) => `l${i}`).join('/')}`, 'x')).Version, 1);
    assert.equal((await put('/digits', '123', { AllowedPattern: '^\\d+$' })).Version, 1);
  });

  it('deletes one parameter, or several naming those it did not find', async () => {
    await ssm.send(new DeleteParameterCommand({ Name: '/orderstoo/x' }));
    assert.equal((await failure(ssm.send(new DeleteParameterCommand({ Name: '/orderstoo/x' })))).name, 'ParameterNotFound');
    const many = await ssm.send(new DeleteParametersCommand({ Names: ['/digits', '/never'] }));
    assert.deepEqual([many.DeletedParameters, many.InvalidParameters], [['/digits'], ['/never']]);
    // Created again, a deleted parameter starts over at version 1.
    assert.equal((await put('/digits', '5')).Version, 1);
  });

  it('refuses a malformed body and an unknown operation in the JSON 1.1 shape', async () => {
    const send = (target: string, body: string) => fetch(server.url, { method: 'POST', headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': target }, body });
    const garbled = await send('AmazonSSM.GetParameter', '{not json');
    assert.equal(garbled.status, 400);
    assert.equal((await garbled.json() as { __type: string }).__type, 'SerializationException');
    const wrongType = await send('AmazonSSM.GetParameter', '{"Name": 12}');
    assert.equal((await wrongType.json() as { __type: string }).__type, 'SerializationException');
    const unknown = await send('AmazonSSM.SendCommand', '{}');
    assert.equal((await unknown.json() as { __type: string }).__type, 'UnknownOperationException');
    const proto = await send('AmazonSSM.__proto__', '{}');
    assert.equal((await proto.json() as { __type: string }).__type, 'UnknownOperationException');
  });

  it('keeps every acknowledged parameter across a restart, SecureStrings still readable', async () => {
    ssm.destroy();
    await server.close();
    await start();
    assert.equal((await ssm.send(new GetParameterCommand({ Name: '/orders/checkout/api-key', WithDecryption: true }))).Parameter?.Value, 'sk_live_very_secret_value');
    assert.equal((await ssm.send(new GetParameterCommand({ Name: '/orders/common/db-url:stable' }))).Parameter?.Version, 2);
  });
});
