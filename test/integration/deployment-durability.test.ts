/** Kill -9 while deployments are under way: every acknowledged change survives, nothing is half-written. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  CreateFunctionCommand, GetAliasCommand, GetFunctionCommand, InvokeCommand, ListFunctionsCommand, ListVersionsByFunctionCommand, PublishVersionCommand,
  UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { listeningUrl, runCli, type CliProcess } from '../helpers/cli-process.js';
import { lambdaClient, tempDataDir } from '../helpers/fixture-server.js';
import { waitUntil } from '../helpers/wait-until.js';
import { handlerZip } from '../helpers/zip-fixture.js';

async function startServer(dataDir: string): Promise<{ cli: CliProcess; url: string }> {
  const cli = runCli(['start', '--port', '0', '--isolation', 'inline'], { SERVERFULL_DATA_DIR: dataDir });
  return { cli, url: await listeningUrl(cli) };
}

describe('deployment durability', () => {
  it('keeps every acknowledged change through kill -9, and nothing half-written', async () => {
    const dataDir = tempDataDir();
    /** The label each function's $LATEST was last acknowledged with, and its acknowledged published versions. */
    const acknowledged = new Map<string, { label: string; versions: Set<string> }>();
    try {
      for (let round = 0; round < 3; round++) {
        const { cli, url } = await startServer(dataDir);
        const lambda = lambdaClient(url);
        let killed = false;
        // Several writers at once, each creating and updating its own functions until the server dies.
        const writer = async (id: number) => {
          for (let i = 0; !killed; i++) {
            const name = `r${round}-w${id}-f${i}`;
            const label = `${name}-a`;
            try {
              await lambda.send(new CreateFunctionCommand({
                FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: 'arn:aws:iam::000000000000:role/test', Code: { ZipFile: await handlerZip(label) }, Timeout: 30,
              }));
              acknowledged.set(name, { label, versions: new Set() });
              const updated = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: await handlerZip(`${name}-b`), Publish: true }));
              acknowledged.set(name, { label: `${name}-b`, versions: new Set([updated.Version!]) });
            } catch {
              return; // the server was killed mid-request: that change was never acknowledged
            }
          }
        };
        const writers = [0, 1, 2].map(writer);
        // Killed once this round has had changes acknowledged (and more under way), however slowly they come.
        const before = acknowledged.size;
        await waitUntil(() => acknowledged.size >= before + 3, `round ${round} has changes acknowledged`);
        killed = true;
        cli.child.kill('SIGKILL');
        await Promise.all([cli.exited, ...writers]);
        lambda.destroy();
      }
      assert.ok(acknowledged.size > 5, `only ${acknowledged.size} functions were acknowledged before the kills`);

      const { cli, url } = await startServer(dataDir);
      const lambda = lambdaClient(url);
      try {
        for (const [name, expected] of acknowledged) {
          const fn = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
          assert.equal(fn.Configuration?.FunctionName, name);
          const versions = (await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }))).Versions!.map((v) => v.Version!);
          for (const version of expected.versions) assert.ok(versions.includes(version), `${name}: version ${version} was acknowledged`);
        }
        // Every function that exists, acknowledged or not, is whole: its code runs and says who it is.
        const all = (await lambda.send(new ListFunctionsCommand({ MaxItems: 10_000 }))).Functions!;
        for (const { FunctionName: name } of all) {
          const output = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: '{}' }));
          assert.equal(output.FunctionError, undefined, `${name}: ${Buffer.from(output.Payload!).toString()}`);
          const label = JSON.parse(Buffer.from(output.Payload!).toString()).label as string;
          assert.ok(label.startsWith(`${name}-`), `${name} runs its own code (${label})`);
          const expected = acknowledged.get(name!);
          if (expected?.versions.size) assert.equal(label, expected.label);
        }
        const leftovers = readdirSync(join(dataDir, 'code')).filter((entry) => entry.startsWith('.tmp-'));
        assert.deepEqual(leftovers, [], 'temporaries are swept at start');
      } finally {
        lambda.destroy();
        cli.child.kill('SIGTERM');
        await cli.exited;
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('data directories written by earlier versions', () => {
  it('opens one written by serverfull 0.1 (better-sqlite3), crashed with its changes only in the WAL', async () => {
    const dataDir = tempDataDir();
    // A copy: opening the fixture in place would checkpoint its WAL into it.
    await cp(fileURLToPath(new URL('../../../test/fixtures/data-dir-0.1', import.meta.url)), dataDir, { recursive: true });
    const { cli, url } = await startServer(dataDir);
    const lambda = lambdaClient(url);
    try {
      const latest = await lambda.send(new GetFunctionCommand({ FunctionName: 'legacy' }));
      assert.equal(latest.Configuration?.Description, 'written by 0.1');
      assert.deepEqual(latest.Configuration?.Environment?.Variables, { STAGE: 'v2' });
      assert.deepEqual(latest.Tags, { team: 'platform' });
      // Written before EphemeralStorage was kept: AWS's default, and nothing new to publish for it.
      assert.deepEqual(latest.Configuration?.EphemeralStorage, { Size: 512 });
      assert.equal((await lambda.send(new PublishVersionCommand({ FunctionName: 'legacy' }))).Version, '2');
      assert.equal(latest.Concurrency?.ReservedConcurrentExecutions, 7);
      const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'legacy' }));
      assert.deepEqual(versions.Versions?.map((v) => [v.Version, v.Environment?.Variables?.STAGE]), [['$LATEST', 'v2'], ['1', 'v1'], ['2', 'v2']]);
      const alias = await lambda.send(new GetAliasCommand({ FunctionName: 'legacy', Name: 'live' }));
      assert.equal(alias.FunctionVersion, '1');
      assert.deepEqual(alias.RoutingConfig?.AdditionalVersionWeights, { 2: 0.25 });
      const result = await lambda.send(new InvokeCommand({ FunctionName: 'legacy:1', Payload: JSON.stringify({ name: 'again' }) }));
      assert.deepEqual(JSON.parse(Buffer.from(result.Payload!).toString()),
        { greeting: 'hello again', from: 'a data directory written by serverfull 0.1 on better-sqlite3' });
      // And it takes new writes, numbering on from where it was.
      await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'legacy', Environment: { Variables: { STAGE: 'v3' } } }));
      const published = await lambda.send(new PublishVersionCommand({ FunctionName: 'legacy' }));
      assert.equal(published.Version, '3');
    } finally {
      lambda.destroy();
      cli.child.kill('SIGTERM');
      await cli.exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
