/** The Lambda management API through `@aws-sdk/client-lambda`: lifecycle, versions, aliases, persistence, pagination, preconditions. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand, CreateFunctionCommand, DeleteAliasCommand, DeleteFunctionCommand, DeleteFunctionConcurrencyCommand,
  GetAliasCommand, GetFunctionCommand, GetFunctionConcurrencyCommand, GetFunctionConfigurationCommand,
  ListAliasesCommand, ListFunctionsCommand, ListVersionsByFunctionCommand, PublishVersionCommand, PutFunctionConcurrencyCommand,
  UpdateAliasCommand, UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand, type LambdaClient, type ListVersionsByFunctionCommandOutput,
} from '@aws-sdk/client-lambda';
import { startFixtureServer, tempDataDir, type FixtureServer } from '../helpers/fixture-server.js';
import { gate } from '../helpers/gate.js';
import { handlerZip } from '../helpers/zip-fixture.js';

/** Creates `name` from a package labelled `label`, with a timeout no cold start on a loaded machine reaches. */
async function create(lambda: LambdaClient, name: string, label: string, extra: Record<string, unknown> = {}) {
  return lambda.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: 'arn:aws:iam::000000000000:role/test',
    Code: { ZipFile: await handlerZip(label) }, Timeout: 30, ...extra,
  }));
}

/** Expects `promise` to fail with the AWS error `name` (and message, when given). */
async function rejectsWith(promise: Promise<unknown>, name: string, message?: string | RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, name, `${error.name}: ${error.message}`);
    if (typeof message === 'string') assert.equal(error.message, message);
    else if (message) assert.match(error.message, message);
    return true;
  });
}

describe('management API: function lifecycle', () => {
  let fixture: FixtureServer;
  // Gates (test/helpers/gate.ts) are folders of the test's, which a sandboxed function cannot see: deployed code runs unsandboxed here.
  before(async () => (fixture = await startFixtureServer({ sandbox: 'off' })));
  after(() => fixture.close());

  it('creates, invokes, updates, publishes, aliases, switches, rolls back and deletes', async () => {
    const { lambda } = fixture;
    const zip = await handlerZip('v1');
    const created = await lambda.send(new CreateFunctionCommand({
      FunctionName: 'shop', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: 'arn:aws:iam::000000000000:role/test',
      Code: { ZipFile: zip }, Environment: { Variables: { GREETING: 'hello' } }, Description: 'the shop', Timeout: 30, MemorySize: 256,
    }));
    assert.equal(created.$metadata.httpStatusCode, 201);
    assert.equal(created.FunctionName, 'shop');
    assert.equal(created.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:shop');
    assert.equal(created.CodeSha256, createHash('sha256').update(zip).digest('base64'));
    assert.equal(created.CodeSize, zip.length);
    assert.equal(created.Version, '$LATEST');
    assert.equal(created.State, 'Pending');
    assert.equal(created.Runtime, 'nodejs20.x');
    assert.equal(created.Timeout, 30);
    assert.equal(created.MemorySize, 256);
    assert.deepEqual(created.Environment?.Variables, { GREETING: 'hello' });
    assert.match(created.RevisionId!, /^[0-9a-f-]{36}$/);
    assert.match(created.LastModified!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);

    const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'shop' }));
    assert.equal(got.Configuration?.State, 'Active');
    assert.equal(got.Configuration?.LastUpdateStatus, 'Successful');
    assert.equal(got.Code?.RepositoryType, 'S3');
    const download = await fetch(got.Code!.Location!);
    assert.equal(download.status, 200);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), zip);

    let result = await fixture.invoke('shop', {});
    assert.deepEqual(result.json, { label: 'v1', greeting: 'hello', version: '$LATEST' });
    assert.equal(result.ExecutedVersion, '$LATEST');

    const updated = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'shop', ZipFile: await handlerZip('v2') }));
    assert.equal(updated.LastUpdateStatus, 'InProgress');
    assert.notEqual(updated.CodeSha256, created.CodeSha256);
    assert.notEqual(updated.RevisionId, created.RevisionId);
    result = await fixture.invoke('shop', {});
    assert.equal(result.json.label, 'v2', 'the next invocation after an update runs the new code');

    const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: 'shop', Description: 'first' }));
    assert.equal(v1.$metadata.httpStatusCode, 201);
    assert.equal(v1.Version, '1');
    assert.equal(v1.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:shop:1');
    assert.equal(v1.Description, 'first');
    const again = await lambda.send(new PublishVersionCommand({ FunctionName: 'shop' }));
    assert.equal(again.Version, '1', 'publishing an unchanged $LATEST returns the last version');

    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'shop', ZipFile: await handlerZip('v3') }));
    const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: 'shop' }));
    assert.equal(v2.Version, '2');

    // Versions are immutable snapshots: a later configuration change does not reach them.
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'shop', Environment: { Variables: { GREETING: 'changed' } } }));
    assert.deepEqual((await fixture.invoke('shop', {}, { Qualifier: '1' })).json, { label: 'v2', greeting: 'hello', version: '1' });
    assert.deepEqual((await fixture.invoke('shop:2', {})).json, { label: 'v3', greeting: 'hello', version: '2' });
    assert.deepEqual((await fixture.invoke('shop', {})).json, { label: 'v3', greeting: 'changed', version: '$LATEST' });

    const alias = await lambda.send(new CreateAliasCommand({ FunctionName: 'shop', Name: 'live', FunctionVersion: '1', Description: 'production' }));
    assert.equal(alias.$metadata.httpStatusCode, 201);
    assert.equal(alias.AliasArn, 'arn:aws:lambda:us-east-1:000000000000:function:shop:live');
    result = await fixture.invoke('shop:live', {});
    assert.equal(result.json.label, 'v2');
    assert.equal(result.ExecutedVersion, '1');

    const switched = await lambda.send(new UpdateAliasCommand({ FunctionName: 'shop', Name: 'live', FunctionVersion: '2' }));
    assert.notEqual(switched.RevisionId, alias.RevisionId);
    result = await fixture.invoke('shop', {}, { Qualifier: 'live' });
    assert.equal(result.json.label, 'v3');
    assert.equal(result.ExecutedVersion, '2');

    await lambda.send(new UpdateAliasCommand({ FunctionName: 'shop', Name: 'live', FunctionVersion: '1' }));
    result = await fixture.invoke('shop:live', {});
    assert.equal(result.ExecutedVersion, '1', 'moving the alias back is the rollback');

    const viaAlias = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'shop', Qualifier: 'live' }));
    assert.equal(viaAlias.Version, '1');
    assert.equal(viaAlias.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:shop:live');

    await rejectsWith(lambda.send(new DeleteFunctionCommand({ FunctionName: 'shop', Qualifier: '1' })), 'ResourceConflictException',
      'Unable to delete version because the following aliases reference it: [live]');
    await lambda.send(new DeleteAliasCommand({ FunctionName: 'shop', Name: 'live' }));
    await rejectsWith(lambda.send(new GetAliasCommand({ FunctionName: 'shop', Name: 'live' })), 'ResourceNotFoundException',
      'Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:shop:live');
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'shop', Qualifier: '1' }));
    await rejectsWith(fixture.invoke('shop:1', {}), 'ResourceNotFoundException');
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'shop' }));
    assert.deepEqual(versions.Versions?.map((v) => v.Version), ['$LATEST', '2']);

    const v3 = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'shop', ZipFile: await handlerZip('v4'), Publish: true }));
    assert.equal(v3.Version, '3', 'version numbers are never reused');
    const same = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'shop', ZipFile: await handlerZip('v4'), Publish: true }));
    assert.equal(same.Version, '3', 'the same code and configuration again publish no new version');
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'shop', Timeout: 30 }));
    assert.equal((await lambda.send(new PublishVersionCommand({ FunctionName: 'shop' }))).Version, '3', 'an update that changes nothing neither');

    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'shop' }));
    await rejectsWith(fixture.invoke('shop', {}), 'ResourceNotFoundException', 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:shop:$LATEST');
    await rejectsWith(lambda.send(new GetFunctionCommand({ FunctionName: 'shop' })), 'ResourceNotFoundException',
      'Function not found: arn:aws:lambda:us-east-1:000000000000:function:shop');
  });

  it('creates with Publish: version 1 at once', async () => {
    const created = await create(fixture.lambda, 'published', 'p', { Publish: true });
    assert.equal(created.Version, '1');
    assert.equal((await fixture.invoke('published:1', {})).ExecutedVersion, '1');
  });

  it('lets invocations in flight finish on the old code', async () => {
    await create(fixture.lambda, 'inflight', 'old');
    await fixture.invoke('inflight', {});
    const held = gate();
    const slow = fixture.invoke('inflight', { gate: held.dir });
    await held.arrived();
    await fixture.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'inflight', ZipFile: await handlerZip('new') }));
    const fresh = await fixture.invoke('inflight', {});
    assert.equal(fresh.json.label, 'new');
    held.open();
    assert.equal((await slow).json.label, 'old');
    held.remove();
  });

  it('lists manifest functions with the deployed ones, and refuses to change them', async () => {
    const echo = await fixture.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo' }));
    assert.equal(echo.FunctionName, 'echo');
    assert.equal(echo.Version, '$LATEST');
    await rejectsWith(create(fixture.lambda, 'echo', 'x'), 'ResourceConflictException', /Function already exist: echo/);
    await rejectsWith(fixture.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'echo', ZipFile: await handlerZip('x') })),
      'ResourceConflictException', /declared in .*serverfull\.json/);
    await rejectsWith(fixture.lambda.send(new DeleteFunctionCommand({ FunctionName: 'echo' })), 'ResourceConflictException');
  });

  it('honours RevisionId as a precondition', async () => {
    const { lambda } = fixture;
    const created = await create(lambda, 'guarded', 'a');
    const current = (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'guarded' }))).RevisionId!;
    const stale = '00000000-0000-0000-0000-000000000000';
    const message = 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id';
    await rejectsWith(lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'guarded', ZipFile: await handlerZip('b'), RevisionId: stale })),
      'PreconditionFailedException', message);
    await rejectsWith(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'guarded', Timeout: 9, RevisionId: stale })),
      'PreconditionFailedException', message);
    await rejectsWith(lambda.send(new PublishVersionCommand({ FunctionName: 'guarded', RevisionId: stale })), 'PreconditionFailedException', message);
    assert.equal((await fixture.invoke('guarded', {})).json.label, 'a', 'a refused change changed nothing');

    const updated = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'guarded', Timeout: 9, RevisionId: current }));
    assert.equal(updated.Timeout, 9);
    assert.notEqual(updated.RevisionId, created.RevisionId);
    await rejectsWith(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'guarded', Timeout: 10, RevisionId: current })),
      'PreconditionFailedException');

    await rejectsWith(lambda.send(new PublishVersionCommand({ FunctionName: 'guarded', CodeSha256: 'bogus' })), 'InvalidParameterValueException',
      `CodeSHA256 (bogus) is different from current CodeSHA256 in $LATEST (${created.CodeSha256}). Please try again with the CodeSHA256 in $LATEST.`);
    const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: 'guarded', CodeSha256: created.CodeSha256, RevisionId: updated.RevisionId }));
    const alias = await lambda.send(new CreateAliasCommand({ FunctionName: 'guarded', Name: 'live', FunctionVersion: v1.Version }));
    await rejectsWith(lambda.send(new UpdateAliasCommand({ FunctionName: 'guarded', Name: 'live', Description: 'x', RevisionId: stale })),
      'PreconditionFailedException', message);
    const moved = await lambda.send(new UpdateAliasCommand({ FunctionName: 'guarded', Name: 'live', Description: 'x', RevisionId: alias.RevisionId }));
    assert.equal(moved.Description, 'x');
  });

  it('manages reserved concurrency, shared by all versions, and throttles at 0', async () => {
    const { lambda } = fixture;
    await create(lambda, 'reserved-fn', 'a', { Publish: true });
    assert.deepEqual((await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'reserved-fn' }))).ReservedConcurrentExecutions, undefined);
    const put = await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'reserved-fn', ReservedConcurrentExecutions: 0 }));
    assert.equal(put.ReservedConcurrentExecutions, 0);
    assert.equal((await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'reserved-fn' }))).ReservedConcurrentExecutions, 0);
    assert.equal((await lambda.send(new GetFunctionCommand({ FunctionName: 'reserved-fn' }))).Concurrency?.ReservedConcurrentExecutions, 0);
    await rejectsWith(fixture.invoke('reserved-fn', {}), 'TooManyRequestsException');
    await rejectsWith(fixture.invoke('reserved-fn:1', {}), 'TooManyRequestsException');
    await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'reserved-fn' }));
    assert.equal((await fixture.invoke('reserved-fn:1', {})).json.label, 'a');

    await rejectsWith(lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'reserved-fn:1', ReservedConcurrentExecutions: 1 })),
      'InvalidParameterValueException', /permitted on Lambda functions only/);
    await rejectsWith(lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'reserved-fn', ReservedConcurrentExecutions: 100 })),
      'InvalidParameterValueException', /below its minimum value of \[10\]/);
    await rejectsWith(lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'nope', ReservedConcurrentExecutions: 1 })), 'ResourceNotFoundException');
  });
});

describe('management API: weighted aliases', () => {
  let fixture: FixtureServer;
  before(async () => (fixture = await startFixtureServer({ isolation: 'inline' })));
  after(() => fixture.close());

  it('splits traffic between two versions by weight', async () => {
    const { lambda } = fixture;
    await create(lambda, 'canary', 'one', { Publish: true });
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'canary', ZipFile: await handlerZip('two'), Publish: true }));
    const alias = await lambda.send(new CreateAliasCommand({
      FunctionName: 'canary', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { 2: 0.3 } },
    }));
    assert.deepEqual(alias.RoutingConfig?.AdditionalVersionWeights, { 2: 0.3 });

    const total = 600;
    const counts = { '1': 0, '2': 0 } as Record<string, number>;
    for (let i = 0; i < total; i++) {
      const result = await fixture.invoke('canary:live', {});
      counts[result.ExecutedVersion!]!++;
      assert.equal(result.json.label, result.ExecutedVersion === '1' ? 'one' : 'two', 'the executed version is the one that ran');
    }
    // 600 draws at p = 0.3: the standard deviation is about 11, so ±60 is over five of them.
    assert.ok(Math.abs(counts['2']! - total * 0.3) < 60, `version 2 got ${counts['2']} of ${total}`);
    assert.equal(counts['1']! + counts['2']!, total);

    const cleared = await lambda.send(new UpdateAliasCommand({ FunctionName: 'canary', Name: 'live', RoutingConfig: { AdditionalVersionWeights: {} } }));
    assert.equal(cleared.RoutingConfig, undefined);
    for (let i = 0; i < 20; i++) assert.equal((await fixture.invoke('canary:live', {})).ExecutedVersion, '1');
  });
});

describe('management API: pagination', () => {
  let fixture: FixtureServer;
  before(async () => (fixture = await startFixtureServer()));
  after(() => fixture.close());

  it('pages functions, versions and aliases with Marker and MaxItems', async () => {
    const { lambda } = fixture;
    for (let i = 0; i < 7; i++) await create(lambda, `page-${i}`, `p${i}`);
    const all = (await lambda.send(new ListFunctionsCommand({}))).Functions!.map((f) => f.FunctionName!);
    assert.ok(all.includes('echo') && all.includes('page-6'), 'manifest and deployed functions are listed');
    assert.deepEqual(all, [...all].sort());

    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await lambda.send(new ListFunctionsCommand({ MaxItems: 3, Marker: marker }));
      assert.ok(page.Functions!.length <= 3);
      seen.push(...page.Functions!.map((f) => f.FunctionName!));
      marker = page.NextMarker;
      pages++;
    } while (marker);
    assert.deepEqual(seen, all);
    assert.equal(pages, Math.ceil(all.length / 3));

    for (let i = 0; i < 4; i++) {
      await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'page-0', Description: `d${i}` }));
      await lambda.send(new PublishVersionCommand({ FunctionName: 'page-0' }));
      await lambda.send(new CreateAliasCommand({ FunctionName: 'page-0', Name: `alias-${i}`, FunctionVersion: String(i + 1) }));
    }
    const versionPages: string[][] = [];
    marker = undefined;
    do {
      const page: ListVersionsByFunctionCommandOutput = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'page-0', MaxItems: 2, Marker: marker }));
      versionPages.push(page.Versions!.map((v) => v.Version!));
      marker = page.NextMarker;
    } while (marker);
    assert.deepEqual(versionPages, [['$LATEST', '1'], ['2', '3'], ['4']]);

    const first = await lambda.send(new ListAliasesCommand({ FunctionName: 'page-0', MaxItems: 3 }));
    assert.deepEqual(first.Aliases!.map((a) => a.Name), ['alias-0', 'alias-1', 'alias-2']);
    const second = await lambda.send(new ListAliasesCommand({ FunctionName: 'page-0', MaxItems: 3, Marker: first.NextMarker }));
    assert.deepEqual(second.Aliases!.map((a) => a.Name), ['alias-3']);
    assert.equal(second.NextMarker, undefined);
    const forVersion = await lambda.send(new ListAliasesCommand({ FunctionName: 'page-0', FunctionVersion: '2' }));
    assert.deepEqual(forVersion.Aliases!.map((a) => a.Name), ['alias-1']);

    const withVersions = (await lambda.send(new ListFunctionsCommand({ FunctionVersion: 'ALL', MaxItems: 1000 }))).Functions!;
    assert.deepEqual(withVersions.filter((f) => f.FunctionName === 'page-0').map((f) => f.Version), ['$LATEST', '1', '2', '3', '4']);

    await rejectsWith(lambda.send(new ListFunctionsCommand({ MaxItems: 0 })), 'ValidationException');
  });
});

describe('management API: persistence', () => {
  it('keeps functions, versions, aliases and concurrency across a restart on the same data directory', async () => {
    const dataDir = tempDataDir();
    try {
      const first = await startFixtureServer({ dataDir });
      await create(first.lambda, 'durable', 'one', { Publish: true, Environment: { Variables: { GREETING: 'hi' } } });
      await first.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'durable', ZipFile: await handlerZip('two'), Publish: true }));
      await first.lambda.send(new CreateAliasCommand({ FunctionName: 'durable', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { 2: 0.5 } } }));
      await first.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'durable', ReservedConcurrentExecutions: 5 }));
      const before = await first.lambda.send(new GetFunctionCommand({ FunctionName: 'durable' }));
      await assert.rejects(startFixtureServer({ dataDir }), /in use by another serverfull server/);
      await first.close();

      const second = await startFixtureServer({ dataDir });
      try {
        const after = await second.lambda.send(new GetFunctionCommand({ FunctionName: 'durable' }));
        assert.deepEqual(after.Configuration, before.Configuration);
        assert.equal(after.Concurrency?.ReservedConcurrentExecutions, 5);
        assert.deepEqual((await second.invoke('durable:1', {})).json, { label: 'one', greeting: 'hi', version: '1' });
        assert.equal((await second.invoke('durable', {})).json.label, 'two');
        const alias = await second.lambda.send(new GetAliasCommand({ FunctionName: 'durable', Name: 'live' }));
        assert.deepEqual(alias.RoutingConfig?.AdditionalVersionWeights, { 2: 0.5 });
        const next = await second.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'durable', ZipFile: await handlerZip('three'), Publish: true }));
        assert.equal(next.Version, '3');
      } finally {
        await second.close();
      }
      await assert.rejects(
        startFixtureServer({ dataDir, config: undefined, functions: { durable: async () => 1 } }),
        /function "durable" is declared in serve\(\) and also deployed/,
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
