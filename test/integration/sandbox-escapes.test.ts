/**
 * Sandboxed process environments (`--sandbox`): every way out of a process environment that an
 * unsandboxed one leaves open, tried by a fixture function (test/fixtures/sandbox/escape.mjs) and
 * proven to fail; and what functions do every day (Node.js, TypeScript, a shell runtime with curl,
 * /tmp, calls to local services) still working. Skipped only where the host cannot sandbox.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand } from '@aws-sdk/client-lambda';
import { resolveSettings } from '../../src/config/settings.js';
import { ConfigError } from '../../src/config/config-error.js';
import { createZip } from '../../src/deploy/zip-archive.js';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { SANDBOX_UNUSABLE } from '../helpers/sandbox-host.js';
import { waitUntil } from '../helpers/wait-until.js';

const ROOT = join(FIXTURES, 'sandbox');
/** Set in the server's own environment: a sandboxed function must not find it anywhere. */
const DB_PASSWORD = 'server-db-password-6f1c';
const VICTIM_SECRET = 'victim-secret-93ab';

/** Files under `folder`, recursively. */
function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** Processes on the host whose command line is exactly `argv`. */
function processesRunning(argv: readonly string[]): number[] {
  const wanted = `${argv.join('\u0000')}\u0000`;
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1') === wanted && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'latin1'));
    } catch {
      return false;
    }
  }).map(Number);
}

/** This server's environment cgroups still present (of every controller, or of one). */
function ownCgroups(only?: string): string[] {
  return (only === undefined ? ['memory', 'pids', 'cpu', 'freezer'] : [only]).flatMap((controller) => {
    const parent = `/sys/fs/cgroup/${controller}/serverfull`;
    return existsSync(parent) ? readdirSync(parent).filter((name) => name.startsWith(`${process.pid}-`)) : [];
  });
}

describe('the sandbox setting', () => {
  it('is auto by default, and takes on, off and auto only', () => {
    assert.equal(resolveSettings({}).sandbox, 'auto');
    assert.equal(resolveSettings({ env: { SERVERFULL_SANDBOX: 'off' } }).sandbox, 'off');
    assert.equal(resolveSettings({ manifest: { sandbox: 'on' } }).sandbox, 'on');
    assert.throws(() => resolveSettings({ env: { SERVERFULL_SANDBOX: 'yes' } }), ConfigError);
  });
});

describe('sandboxed process environments', { skip: SANDBOX_UNUSABLE ?? false }, () => {
  let fx: FixtureServer;
  let local: Server;
  let localUrl: string;
  let dataDir: string;

  before(async () => {
    process.env.DB_PASSWORD = DB_PASSWORD;
    local = createServer((_request, response) => response.end('hello from a local service'));
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
    localUrl = `http://127.0.0.1:${(local.address() as AddressInfo).port}/`;
    const node = (extra: Record<string, unknown> = {}) => ({ handler: 'escape.handler', timeout: 30, ...extra });
    fx = await startFixtureServer({
      config: undefined,
      root: ROOT,
      isolation: 'process',
      sandbox: 'on',
      functions: {
        escape: node(),
        victim: node({ environment: { VICTIM_SECRET } }),
        hangs: node({ timeout: 2 }),
        small: node({ memorySize: 128 }),
        // Room for a thousand processes' memory: the process limit, not the memory limit, is what must stop them.
        forks: node({ memorySize: 1024, timeout: 90 }),
        typed: { handler: 'typed.handler', timeout: 30 },
        shell: { runtime: 'provided.al2023', handler: 'function.handler', timeout: 30 },
      },
    });
    dataDir = fx.server.settings.dataDir;
    // A deployed function: its code unpacked in the data directory, next to the database.
    await fx.lambda.send(new CreateFunctionCommand({
      FunctionName: 'deployed', Runtime: 'nodejs22.x', Handler: 'escape.handler', Role: 'arn:aws:iam::000000000000:role/lambda', Timeout: 30,
      Code: { ZipFile: await createZip(ROOT) },
    }));
  });

  after(async () => {
    delete process.env.DB_PASSWORD;
    await fx.close();
    local.close();
  });

  it('cannot read the server\'s environment, nor any other process\'s', async () => {
    await fx.invoke('victim', { attempt: 'work' });
    for (const needle of [DB_PASSWORD, VICTIM_SECRET]) {
      const out = await fx.invoke('escape', { attempt: 'environ', pid: process.pid, needle });
      assert.equal(out.FunctionError, undefined, out.text);
      assert.deepEqual(out.json.found, [], `${needle} found in /proc/*/environ`);
      assert.notEqual(out.json.serverEnviron, 'succeeded');
    }
  });

  it('has none of the server\'s variables', async () => {
    const out = await fx.invoke('escape', { attempt: 'work' });
    assert.ok(!out.json.env.includes('DB_PASSWORD'));
    assert.ok(!out.json.env.includes('VICTIM_SECRET'));
  });

  it('cannot read the data directory\'s database', async () => {
    const database = join(dataDir, 'serverfull.db');
    assert.ok(existsSync(database));
    const out = await fx.invoke('escape', { attempt: 'read', path: database });
    assert.equal(out.json.read, 'ENOENT');
  });

  it('cannot overwrite another function\'s code, nor its own', async () => {
    const target = filesUnder(join(dataDir, 'code')).find((path) => path.endsWith('escape.mjs'));
    assert.ok(target, 'the deployed function\'s unpacked code');
    const before = readFileSync(target);
    const out = await fx.invoke('escape', { attempt: 'write', path: target });
    assert.notEqual(out.json.write, 'succeeded');
    assert.equal(out.json.ownCode, 'EROFS');
    assert.deepEqual(readFileSync(target), before);
  });

  it('cannot take another environment\'s events from its Runtime API', async () => {
    const { runtimeApi } = (await fx.invoke('victim', { attempt: 'work' })).json;
    assert.match(runtimeApi, /^127\.0\.0\.1:\d+$/);
    const out = await fx.invoke('escape', { attempt: 'runtimeApi', address: runtimeApi });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.equal(out.json.status, 403);
    assert.equal(out.json.requestId, null);
    // Nor can any other process of the host: the test's own.
    const direct = await fetch(`http://${runtimeApi}/2018-06-01/runtime/invocation/next`);
    assert.equal(direct.status, 403);
    await direct.text();
    // The environment itself still gets its events.
    assert.equal((await fx.invoke('victim', { attempt: 'work' })).FunctionError, undefined);
  });

  it('cannot kill the server: it is not in the sandbox\'s PID namespace', async () => {
    const out = await fx.invoke('escape', { attempt: 'kill', pid: process.pid });
    assert.equal(out.json.kill, 'ESRCH');
    assert.notEqual(out.json.ppid, process.pid);
    assert.equal((await fx.invoke('escape', { attempt: 'work' })).FunctionError, undefined);
  });

  it('a detached child does not survive its function\'s timeout', async () => {
    // Warm first, so that the handler surely runs (and starts its child) before the 2-second timeout.
    assert.equal((await fx.invoke('hangs', { attempt: 'work' })).FunctionError, undefined);
    const out = await fx.invoke('hangs', { attempt: 'detach' });
    assert.equal(out.json.errorType, 'Sandbox.Timedout');
    await waitUntil(() => processesRunning(['sleep', '271.828']).length === 0, 'the detached sleep is gone');
  });

  it('allocating 1 GB in a 128 MB function: Runtime.OutOfMemory, and the next call works', async () => {
    const out = await fx.invoke('small', { attempt: 'allocate', megabytes: 1024 });
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(out.json.errorType, 'Runtime.OutOfMemory', out.text);
    assert.equal((await fx.invoke('small', { attempt: 'work' })).FunctionError, undefined);
  });

  it('a fork bomb is contained by the sandbox\'s process limit', async () => {
    // Until the bomb nears the limit of 1024 (it fills it within moments on an idle machine), however loaded the machine is.
    const out = await fx.invoke('forks', { attempt: 'bomb', watchMs: 60_000, enough: 1000 });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.ok(out.json.most > 1, 'the bomb ran');
    // Its forks failed at the environment's process limit (the kernel counts them in pids.events).
    const refusedForks = ownCgroups('pids').map((name) => Number(/^max (\d+)/m.exec(readFileSync(`/sys/fs/cgroup/pids/serverfull/${name}/pids.events`, 'utf8'))?.[1] ?? 0));
    assert.ok(refusedForks.some((count) => count > 0), `forks refused: ${refusedForks.join(', ')}`);
    // The host still starts processes and serves other functions.
    assert.equal((await fx.invoke('escape', { attempt: 'work' })).FunctionError, undefined);
  });

  it('all sandboxes together weigh one busy process per core in the CPU scheduler (cgroup v1)', { skip: !existsSync('/sys/fs/cgroup/cpu/serverfull/cpu.shares') }, () => {
    // With the default 1024, dozens of runtimes would share what one process of the host gets.
    assert.equal(readFileSync('/sys/fs/cgroup/cpu/serverfull/cpu.shares', 'utf8').trim(), String(1024 * availableParallelism()));
  });

  it('runs a Node.js function at /var/task, unprivileged, with /tmp and the host\'s network', async () => {
    const out = await fx.invoke('escape', { attempt: 'work', url: localUrl });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.equal(out.json.outbound, 'hello from a local service');
    assert.equal(out.json.scratch, 1024 * 1024);
    assert.equal(out.json.uid, 65534);
    assert.equal(out.json.cwd, '/var/task');
    assert.equal(out.json.taskRoot, '/var/task');
    // The host's folders outside the system and the runtime are not there: the function's own folder by its host path, home folders.
    assert.ok(!out.json.visible.includes('root') && !out.json.visible.includes('home'), JSON.stringify(out.json.visible));
    assert.equal((await fx.invoke('escape', { attempt: 'read', path: join(ROOT, 'escape.mjs') })).json.read, 'ENOENT');
  });

  it('names /var/task in an error\'s stack trace, as AWS does', async () => {
    const out = await fx.invoke('escape', { attempt: 'throw' });
    assert.equal(out.FunctionError, 'Unhandled');
    assert.match(out.json.trace.join('\n'), /\/var\/task\/escape\.mjs:\d+/);
  });

  it('runs a TypeScript handler', async () => {
    const out = await fx.invoke('typed', { name: 'sandbox' });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.deepEqual(out.json, { greeting: 'hello sandbox', root: '/var/task' });
  });

  it('runs a shell custom runtime that talks to its Runtime API with curl', async () => {
    const out = await fx.invoke('shell', { a: 1 });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.deepEqual(out.json, { pwd: '/var/task', uid: 65534, event: { a: 1 } });
  });

  it('runs a deployed function from the data directory', async () => {
    const out = await fx.invoke('deployed', { attempt: 'work' });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.equal(out.json.taskRoot, '/var/task');
  });

  it('leaves no cgroup behind once the server has stopped', async () => {
    const server = await startFixtureServer({ config: undefined, root: ROOT, isolation: 'process', sandbox: 'on', functions: { once: { handler: 'escape.handler', timeout: 30 } } });
    const before = new Set(ownCgroups());
    assert.equal((await server.invoke('once', { attempt: 'work' })).FunctionError, undefined);
    const made = ownCgroups().filter((name) => !before.has(name));
    assert.ok(made.length > 0, 'the environment has cgroups');
    await server.close();
    await waitUntil(() => made.every((name) => !ownCgroups().includes(name)), 'the environment\'s cgroups are removed');
    assert.ok(statSync('/sys/fs/cgroup/memory/serverfull').isDirectory());
  });
});
