/**
 * Code deployed through the management API runs in a process environment, sandboxed where the host allows it,
 * whatever the server's `--isolation`; the operator's own functions keep it. `deployedIsolation` chooses
 * otherwise, with a warning at start.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { resolveSettings } from '../../src/config/settings.js';
import { ConfigError } from '../../src/config/config-error.js';
import { createZip } from '../../src/deploy/zip-archive.js';
import type { Logger } from '../../src/log.js';
import type { IsolationKind } from '../../src/registry/function-definition.js';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { SANDBOXED } from '../helpers/sandbox-host.js';

const ROOT = join(FIXTURES, 'deployed-code');

/** A logger that keeps its lines. */
function recordingLogger(): Logger & { readonly lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  return { lines, enabled: () => true, log: (level, msg) => void lines.push({ level, msg }) };
}

async function deploy(lambda: LambdaClient, name: string): Promise<void> {
  await lambda.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: 'nodejs22.x', Handler: 'probe.handler', Role: 'arn:aws:iam::000000000000:role/lambda', Timeout: 30,
    Code: { ZipFile: await createZip(ROOT) },
  }));
}

describe('the deployedIsolation setting', () => {
  it('is process by default, and takes the isolation kinds only', () => {
    assert.equal(resolveSettings({}).deployedIsolation, 'process');
    assert.equal(resolveSettings({ env: { SERVERFULL_DEPLOYED_ISOLATION: 'worker' } }).deployedIsolation, 'worker');
    assert.equal(resolveSettings({ flags: { deployedIsolation: 'inline' } }).deployedIsolation, 'inline');
    assert.throws(() => resolveSettings({ env: { SERVERFULL_DEPLOYED_ISOLATION: 'none' } }), ConfigError);
  });
});

for (const isolation of ['inline', 'worker'] as const satisfies readonly IsolationKind[]) describe(`deployed code, server --isolation ${isolation}`, () => {
  let fx: FixtureServer;
  const logger = recordingLogger();

  before(async () => {
    fx = await startFixtureServer({ config: undefined, root: ROOT, isolation, logger, functions: { declared: { handler: 'probe.handler', timeout: 30 } } });
    await deploy(fx.lambda, 'deployed');
  });

  after(() => fx.close());

  it('runs in its own process, sandboxed where the host allows it', async () => {
    const out = await fx.invoke('deployed', { probe: 'where', serverPid: process.pid });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.notEqual(out.json.pid, process.pid);
    if (SANDBOXED) {
      assert.equal(out.json.taskRoot, '/var/task');
      // Another PID namespace, as nobody: the server is out of sight.
      assert.equal(out.json.seesServer, false);
      assert.equal(out.json.uid, 65534);
    }
  });

  it('while the operator\'s own function keeps the server\'s isolation', async () => {
    const out = await fx.invoke('declared', { probe: 'where', serverPid: process.pid });
    assert.equal(out.FunctionError, undefined, out.text);
    // Inline and worker environments share the server's process.
    assert.equal(out.json.pid, process.pid);
    assert.equal(out.json.seesServer, true);
  });

  it('cannot read the server\'s database, which the operator\'s function can', { skip: SANDBOXED ? false : 'unsandboxed here' }, async () => {
    const database = join(fx.server.settings.dataDir, 'serverfull.db');
    const deployed = await fx.invoke('deployed', { probe: 'read', path: database });
    assert.equal(deployed.FunctionError, undefined, deployed.text);
    assert.equal(deployed.json.read, 'ENOENT');
    assert.equal((await fx.invoke('declared', { probe: 'read', path: database })).json.read, 'succeeded');
  });

  it('gives no deployed-isolation warning', () => {
    assert.deepEqual(logger.lines.filter((l) => l.msg.includes('--deployed-isolation')), []);
  });
});

describe('deployedIsolation: inline', () => {
  let fx: FixtureServer;
  const logger = recordingLogger();

  before(async () => {
    fx = await startFixtureServer({ config: undefined, root: ROOT, isolation: 'inline', deployedIsolation: 'inline', logger, functions: {} });
    await deploy(fx.lambda, 'deployed');
  });

  after(() => fx.close());

  it('warns at start that deployed code runs with the server\'s rights', () => {
    const warning = logger.lines.find((l) => l.msg.includes('--deployed-isolation'));
    assert.ok(warning, JSON.stringify(logger.lines));
    assert.equal(warning.level, 'warn');
    assert.match(warning.msg, /code deployed through the Lambda API runs in inline isolation .* with the server's rights/);
  });

  it('runs deployed code inline, as chosen', async () => {
    const out = await fx.invoke('deployed', { probe: 'where', serverPid: process.pid });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.equal(out.json.pid, process.pid);
  });
});

describe('deployed code without a sandbox (--sandbox off, or a host without one)', () => {
  let fx: FixtureServer;

  before(async () => {
    fx = await startFixtureServer({ config: undefined, root: ROOT, isolation: 'inline', sandbox: 'off', functions: {} });
    await deploy(fx.lambda, 'deployed');
  });

  after(() => fx.close());

  it('still runs in a process of its own', async () => {
    const out = await fx.invoke('deployed', { probe: 'where', serverPid: process.pid });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.notEqual(out.json.pid, process.pid);
    assert.notEqual(out.json.taskRoot, '/var/task');
  });
});
