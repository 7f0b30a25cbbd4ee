/**
 * `serverfull deploy`, the real binary against a server in this process: create, update,
 * publish, aliases, configuration flags, and the failures that exit 2.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetAliasCommand, ListVersionsByFunctionCommand } from '@aws-sdk/client-lambda';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { freePort, runCli } from '../helpers/cli-process.js';
import { DEFAULT_RUNTIME } from '../../src/registry/runtimes.js';

/** Runs `serverfull deploy ...args` to the end; asynchronous, so that the server in this process can answer it. */
async function deploy(args: string[], env: NodeJS.ProcessEnv = {}) {
  const cli = runCli(['deploy', ...args], env);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

describe('serverfull deploy', () => {
  let fixture: FixtureServer;
  let app: string;
  const setVersion = (version: string) => {
    const file = join(app, 'index.mjs');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/const VERSION = '[^']*'/, `const VERSION = '${version}'`));
  };

  before(async () => {
    fixture = await startFixtureServer();
    app = mkdtempSync(join(tmpdir(), 'serverfull-deploy-app-'));
    cpSync(join(FIXTURES, 'deploy-app'), app, { recursive: true });
  });
  after(async () => {
    await fixture.close();
    rmSync(app, { recursive: true, force: true });
  });

  it('creates the function on the first deploy, with progress on stderr and the configuration on stdout', async () => {
    // Room for a cold start on a loaded machine (the default is 3 s).
    const result = await deploy([app, '--name', 'hello', '--endpoint', fixture.server.url, '--timeout', '30']);
    assert.equal(result.code, 0, result.stderr);
    const configuration = JSON.parse(result.stdout);
    assert.equal(configuration.FunctionName, 'hello');
    assert.equal(configuration.Version, '$LATEST');
    assert.equal(configuration.Runtime, DEFAULT_RUNTIME);
    assert.equal(configuration.Handler, 'index.handler');
    assert.match(result.stderr, new RegExp(`^Zipping ${escape(app)} \\.\\.\\. \\d+ B, CodeSha256 ${escape(configuration.CodeSha256)}\n`));
    assert.match(result.stderr, /\nCreating function hello \.\.\. done\n$/);

    const output = await fixture.invoke('hello');
    assert.deepEqual(output.json, { version: 'v1', greeting: null });
  });

  it('updates the code, publishes version 1 and creates the alias', async () => {
    setVersion('v2');
    const result = await deploy([app, '--name', 'hello', '--endpoint', fixture.server.url, '--publish', '--alias', 'live']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /\nUpdating code of hello \.\.\. done\nPublished version 1\nAlias live -> 1 \(created\)\n$/);
    assert.doesNotMatch(result.stderr, /configuration/);
    assert.equal(JSON.parse(result.stdout).Version, '1');

    const output = await fixture.invoke('hello', {}, { Qualifier: 'live' });
    assert.deepEqual(output.json, { version: 'v2', greeting: null });
    assert.equal(output.ExecutedVersion, '1');
  });

  it('moves the alias to the next published version', async () => {
    setVersion('v3');
    const result = await deploy([app, '--name', 'hello', '--endpoint', fixture.server.url, '--publish', '--alias', 'live']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /\nPublished version 2\nAlias live -> 2 \(was 1\)\n$/);

    const live = await fixture.invoke('hello', {}, { Qualifier: 'live' });
    assert.deepEqual([live.json.version, live.ExecutedVersion], ['v3', '2']);
    const previous = await fixture.invoke('hello', {}, { Qualifier: '1' });
    assert.equal(previous.json.version, 'v2');
  });

  it('--env with unchanged code updates the configuration, does not upload the code again, and publishes a version with it', async () => {
    const result = await deploy([app, '--name', 'hello', '--endpoint', fixture.server.url, '--env', 'GREETING=hi', '--publish', '--alias', 'live']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /\nUpdating configuration of hello \.\.\. done\nCode of hello unchanged\nPublished version 3\nAlias live -> 3 \(was 2\)\n$/);
    assert.deepEqual(JSON.parse(result.stdout).Environment, { Variables: { GREETING: 'hi' } });

    const live = await fixture.invoke('hello', {}, { Qualifier: 'live' });
    assert.deepEqual([live.json, live.ExecutedVersion], [{ version: 'v3', greeting: 'hi' }, '3']);
  });

  it('publishing again with nothing changed keeps the version and the alias', async () => {
    const result = await deploy([app, '--name', 'hello', '--endpoint', fixture.server.url, '--publish', '--alias', 'live']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /\nCode of hello unchanged\nPublished version 3\nAlias live -> 3 \(unchanged\)\n$/);
    const versions = await fixture.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'hello' }));
    assert.deepEqual(versions.Versions!.map((v) => v.Version), ['$LATEST', '1', '2', '3']);
  });

  it('creates with every configuration flag, publishing version 1 behind a new alias, with the endpoint from SERVERFULL_ENDPOINT', async () => {
    const result = await deploy(
      [app, '--name', 'greeter', '--env', 'GREETING=hello', '--env', 'EMPTY=', '--timeout', '5', '--memory-size', '256', '--description', 'says hello', '--publish', '--alias', 'live'],
      { SERVERFULL_ENDPOINT: `${fixture.server.url}/` },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /\nCreating function greeter \.\.\. done\nPublished version 1\nAlias live -> 1 \(created\)\n$/);
    const configuration = JSON.parse(result.stdout);
    assert.deepEqual(
      [configuration.Version, configuration.Timeout, configuration.MemorySize, configuration.Description, configuration.Environment],
      ['1', 5, 256, 'says hello', { Variables: { GREETING: 'hello', EMPTY: '' } }],
    );
    const live = await fixture.invoke('greeter', {}, { Qualifier: 'live' });
    assert.deepEqual([live.json.greeting, live.ExecutedVersion], ['hello', '1']);
  });

  it('moving an alias drops the weighted routing a canary left on it', async () => {
    setVersion('v4');
    const canary = await fetch(`${fixture.server.url}/2015-03-31/functions/hello/aliases/live`, {
      method: 'PUT',
      body: JSON.stringify({ FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: { '3': 0.5 } } }),
    });
    assert.equal(canary.status, 200, await canary.text());
    const result = await deploy([app, '--name', 'hello', '--endpoint', fixture.server.url, '--publish', '--alias', 'live']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /\nPublished version 4\nAlias live -> 4 \(was 2\)\n$/);
    const alias = await fixture.lambda.send(new GetAliasCommand({ FunctionName: 'hello', Name: 'live' }));
    assert.deepEqual([alias.FunctionVersion, alias.RoutingConfig], ['4', undefined]);
  });

  it('--alias without --publish exits 2 before deploying anything', async () => {
    const result = await deploy([app, '--name', 'unpublished', '--endpoint', fixture.server.url, '--alias', 'live']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^serverfull deploy: --alias needs --publish/);
    assert.equal((await fetch(`${fixture.server.url}/2015-03-31/functions/unpublished`)).status, 404);
  });

  it('a folder that does not exist exits 2', async () => {
    const missing = join(app, 'nope');
    const result = await deploy([missing, '--name', 'nope', '--endpoint', fixture.server.url]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`^Zipping ${escape(missing)} \\.\\.\\. \nserverfull deploy: Cannot zip ${escape(missing)}: ENOENT`));
  });

  it('a function of the manifest is refused with the service error, exit 2', async () => {
    const result = await deploy([app, '--name', 'echo', '--endpoint', fixture.server.url]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /\nUpdating code of echo \.\.\. \nserverfull deploy: ResourceConflictException: Function echo is declared in /);
  });

  it('a value the server refuses is reported with its error type, exit 2', async () => {
    const result = await deploy([app, '--name', 'hello', '--endpoint', fixture.server.url, '--timeout', '901']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /serverfull deploy: ValidationException: .*Member must have value less than or equal to 900/);
  });

  it('bad flags and an unreachable server exit 2 with one clear line', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[app], /^serverfull deploy: missing --name/],
      [['--name', 'x'], /^serverfull deploy: missing <dir>/],
      [[app, '--name', 'x', '--timeout', 'soon'], /^serverfull deploy: --timeout takes a whole number \(got "soon"\)/],
      [[app, '--name', 'x', '--env', 'GREETING'], /^serverfull deploy: --env takes KEY=VALUE \(got "GREETING"\)/],
      [[app, '--name', 'x', '--colour'], /^serverfull: Unknown option '--colour'/],
      [[app, '--name', 'x', '--endpoint', `http://127.0.0.1:${await freePort()}`], /\nserverfull deploy: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/],
    ];
    for (const [args, message] of cases) {
      const result = await deploy(args);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '');
    }
  });

  it('--help describes the options, and the command list names deploy', async () => {
    const help = await deploy(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--alias NAME .*needs --publish/);
    const cli = runCli(['--help']);
    assert.equal(await cli.exited, 0);
    assert.match(cli.stdout(), /\n {2}deploy {4}/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
