/**
 * Process isolation through the AWS SDK: Node.js functions under serverfull's runtime
 * client and a shell-script custom runtime (`provided.al2023`), each environment a child
 * process pulling work from its own Runtime API. (The fault suites in faults.test.ts,
 * handler-semantics.test.ts and isolation.test.ts also run in process isolation.)
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { CreateFunctionCommand } from '@aws-sdk/client-lambda';
import { FIXTURES, REPO_ROOT, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createZip } from '../../src/deploy/zip-archive.js';
import { waitUntil } from '../helpers/wait-until.js';
import { DEFAULT_RUNTIME } from '../../src/registry/runtimes.js';
import { SANDBOXED } from '../helpers/sandbox-host.js';

/** The shell-script custom runtime, an example that is also this test's fixture. */
const CUSTOM_RUNTIME = join(REPO_ROOT, 'examples/custom-runtime');

/** A zip of `folder` without one of its files. */
async function zipWithout(folder: string, file: string): Promise<Buffer> {
  const copy = mkdtempSync(join(tmpdir(), 'serverfull-zip-'));
  try {
    cpSync(folder, copy, { recursive: true, filter: (source) => source !== join(folder, file) });
    return await createZip(copy);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** The `sleep 31.4159` processes of the shell runtime's `sleeps` handler under a runtime this process started (a descendant of it). */
function ownSleepers(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1') !== 'sleep\u000031.4159\u0000') continue;
      if (descendsFromThisProcess(Number(entry))) found.push(Number(entry));
    } catch {
      // Gone while looked at.
    }
  }
  return found;
}

/** Whether `pid`'s chain of parents reaches this process (a sandbox starts its own session, so the process group does not tell). */
function descendsFromThisProcess(pid: number): boolean {
  for (let current = pid; current > 1;) {
    const parent = Number(statFields(current)[1]);
    if (parent === process.pid) return true;
    current = parent;
  }
  return false;
}

/** The fields of /proc/PID/stat after the command name: state, parent, process group, ... flags (index 6). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Whether `pid` is gone, dead, exiting or has SIGKILL pending: what a SIGKILL sent to it leaves. */
function killedOrGone(pid: number): boolean {
  try {
    const [state, , , , , , flags] = statFields(pid);
    const PF_EXITING = 0x4;
    if (state === 'Z' || state === 'X' || (Number(flags) & PF_EXITING) !== 0) return true;
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const SIGKILL = 1n << 8n;
    return ['SigPnd', 'ShdPnd'].some((field) => (BigInt(`0x${new RegExp(`^${field}:\\s*([0-9a-f]+)`, 'm').exec(status)?.[1] ?? '0'}`) & SIGKILL) !== 0n);
  } catch {
    return true;
  }
}

/** Whether a process still runs (a zombie left to a container's non-reaping init counts as gone). */
function running(pid: number): boolean {
  try {
    return statFields(pid)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The decoded Tail log of an invocation. */
const tail = (out: { LogResult?: string }) => Buffer.from(out.LogResult ?? '', 'base64').toString();

describe('process isolation: Node.js functions', () => {
  let fx: FixtureServer;
  before(async () => {
    // Set in the server's own environment: no function may see it.
    process.env.SERVER_ONLY = 'server secret';
    fx = await startFixtureServer({ isolation: 'process' });
  });
  after(async () => {
    delete process.env.SERVER_ONLY;
    await fx.close();
  });

  it('runs the handler in a child process with the Lambda environment and its Runtime API', async () => {
    const out = await fx.invoke('process-info', { n: 1 });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.equal(out.json.event.n, 1);
    assert.notEqual(out.json.pid, process.pid);
    assert.match(out.json.env.AWS_LAMBDA_RUNTIME_API, /^127\.0\.0\.1:\d+$/);
    if (SANDBOXED) {
      // In its sandbox the runtime sees its own PID namespace (the server is not in it) and its code at /var/task, as in AWS.
      assert.notEqual(out.json.ppid, process.pid);
      assert.equal(out.json.env.LAMBDA_TASK_ROOT, '/var/task');
    } else {
      assert.equal(out.json.ppid, process.pid);
      assert.equal(out.json.env.LAMBDA_TASK_ROOT, FIXTURES);
    }
    assert.equal(out.json.env._HANDLER, 'functions/process-info.handler');
    assert.equal(out.json.env.AWS_EXECUTION_ENV, `AWS_Lambda_${DEFAULT_RUNTIME}`);
    assert.equal(out.json.env.SERVER_ONLY, undefined);
    assert.equal(out.json.requestId, out.$metadata.requestId);
    // serverfull's own runtime takes its events over a socket pair (fd 3), not HTTP; the variable naming it is gone from the handler's view.
    assert.match(out.json.fd3, /^socket:\[\d+\]$/);
    assert.equal(out.json.env._SERVERFULL_RUNTIME_CHANNEL_FD, undefined);
  });

  it('reuses a warm process, with its module state', async () => {
    const first = await fx.invoke('process-info', {});
    const second = await fx.invoke('process-info', {});
    assert.equal(second.json.pid, first.json.pid);
    assert.equal(second.json.invocations, first.json.invocations + 1);
  });

  it('gives the Tail log the function output with its request id, and a REPORT with the process memory', async () => {
    const out = await fx.invoke('logs', { who: 'a process' }, { LogType: 'Tail' });
    const log = tail(out);
    assert.match(log, new RegExp(`\\t${out.$metadata.requestId}\\tINFO\\t`));
    assert.match(log, /\tINFO\thello from a process\n/);
    assert.match(log, /REPORT RequestId: .*Max Memory Used: [1-9]\d* MB/);
  });

  it('passes the client context to the handler', async () => {
    const context = { custom: { tenant: 'acme' } };
    const out = await fx.invoke('echo', {}, { ClientContext: Buffer.from(JSON.stringify(context)).toString('base64') });
    assert.deepEqual(out.json.clientContext, context);
  });
});

describe('process isolation: a shell-script custom runtime (provided.al2023)', () => {
  let fx: FixtureServer;
  before(async () => {
    // Generous for the functions that answer (a cold start on a loaded machine can take seconds); `sleeps` never answers in time.
    const custom = (handler: string, timeout = 30) => ({ runtime: 'provided.al2023', handler, timeout });
    fx = await startFixtureServer({
      config: undefined,
      root: CUSTOM_RUNTIME,
      functions: {
        shell: custom('function.handler'),
        'shell-fails': custom('function.fails'),
        'shell-sleeps': custom('function.sleeps', 1),
        'shell-missing': custom('nothing.handler'),
      },
    });
  });
  after(() => fx.close());

  it('runs the bootstrap, which answers through the Runtime API', async () => {
    const out = await fx.invoke('shell', { a: 1 }, { LogType: 'Tail' });
    assert.equal(out.FunctionError, undefined, out.text);
    assert.deepEqual(out.json, { shell: true, event: { a: 1 }, function: 'shell' });
    const log = tail(out);
    assert.match(log, /shell runtime ready: handler/, 'init output goes to the first invocation');
    assert.match(log, /handling \{"a":1\}/);
    assert.match(log, /Init Duration: /);
  });

  it('reports the error the runtime posts, and serves again', async () => {
    const out = await fx.invoke('shell-fails', {});
    assert.equal(out.FunctionError, 'Unhandled');
    assert.deepEqual(out.json, { errorType: 'Function.ShellError', errorMessage: 'fails exited with status 3' });
    assert.equal((await fx.invoke('shell', { b: 2 })).json.event.b, 2);
  });

  it('reports an init error on every call', async () => {
    for (let i = 0; i < 2; i++) {
      const out = await fx.invoke('shell-missing', {});
      assert.equal(out.FunctionError, 'Unhandled');
      assert.deepEqual(out.json, { errorType: 'Runtime.ImportModuleError', errorMessage: 'cannot find nothing.sh' });
    }
  });

  it('a timeout kills the whole process tree, and the next call gets a fresh process', async () => {
    // The handler's `sleep` is a grandchild of the server. Seen while the invocation runs (a slow start may time out
    // before the handler runs: then again), it must have been sent SIGKILL by the time the timeout is answered.
    const sleepers = new Set<number>();
    await waitUntil(async () => {
      let settled = false;
      const invocation = fx.invoke('shell-sleeps', {}).finally(() => (settled = true));
      while (!settled) {
        for (const pid of ownSleepers()) sleepers.add(pid);
        await setImmediate();
      }
      assert.equal((await invocation).json.errorType, 'Sandbox.Timedout');
      return sleepers.size > 0;
    }, 'an invocation of shell-sleeps runs its sleep');
    for (const pid of sleepers) assert.ok(killedOrGone(pid), `the sleeping grandchild ${pid} was not killed`);
    for (const pid of sleepers) await waitUntil(() => killedOrGone(pid) && !running(pid), `the sleeping grandchild ${pid} ends`);
    assert.equal((await fx.invoke('shell', { c: 3 })).json.event.c, 3);
  });

  it('deploys a provided.al2023 zip through CreateFunction and runs its bootstrap', async () => {
    await fx.lambda.send(new CreateFunctionCommand({
      FunctionName: 'deployed-shell',
      Runtime: 'provided.al2023',
      Handler: 'function.handler',
      Role: 'arn:aws:iam::000000000000:role/lambda',
      Timeout: 30,
      Code: { ZipFile: await createZip(CUSTOM_RUNTIME) },
    }));
    const out = await fx.invoke('deployed-shell', { d: 4 });
    assert.deepEqual(out.json, { shell: true, event: { d: 4 }, function: 'deployed-shell' });
  });

  it('a package without a bootstrap: Runtime.InvalidEntrypoint', async () => {
    await fx.lambda.send(new CreateFunctionCommand({
      FunctionName: 'no-bootstrap',
      Runtime: 'provided.al2023',
      Handler: 'function.handler',
      Role: 'arn:aws:iam::000000000000:role/lambda',
      Timeout: 30,
      Code: { ZipFile: await zipWithout(CUSTOM_RUNTIME, 'bootstrap') },
    }));
    const out = await fx.invoke('no-bootstrap', {});
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(out.json.errorType, 'Runtime.InvalidEntrypoint');
    assert.match(out.json.errorMessage, /^RequestId: \S+ Error: Couldn't find valid bootstrap\(s\): \[.*\/bootstrap\]$/);
  });
});
