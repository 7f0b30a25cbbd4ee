/** The `serverfull` binary's first impressions: --version, start-up messages, a bad payload file, a second Ctrl-C. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SERVER_NODE_OPTIONS, SERVER_PRETENURING_OPTION, SERVER_SEMI_SPACE_OPTION } from '../../src/cli/server-heap.js';
import { CLI, listeningUrl, runCli, type CliProcess } from '../helpers/cli-process.js';
import { FIXTURES, REPO_ROOT } from '../helpers/fixture-server.js';
import { TEST_TIME_LIMIT_MS } from '../helpers/wait-until.js';

/** Resolves once the process has written a line matching `pattern` to `stream`; the test's timeout bounds the wait. */
async function outputMatching(cli: CliProcess, stream: 'stdout' | 'stderr', pattern: RegExp): Promise<string> {
  const text = () => (stream === 'stdout' ? cli.stdout() : cli.stderr());
  while (!pattern.test(text())) {
    if (cli.child.exitCode !== null) assert.fail(`exited (${cli.child.exitCode}) before printing ${pattern}:\n${cli.stdout()}\n${cli.stderr()}`);
    await Promise.race([once(cli.child[stream]!, 'data'), once(cli.child, 'exit')]);
  }
  return text();
}

async function occupiedPort(): Promise<[Server, number]> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return [server, (server.address() as { port: number }).port];
}

// A bound that fails a hang, not a slow machine: its tests start a dozen servers, and took 60 s together on a loaded one.
describe('serverfull CLI start-up', { timeout: 3 * TEST_TIME_LIMIT_MS }, () => {
  it('--version and -v print the version', () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const result = spawnSync(process.execPath, [CLI, flag], { encoding: 'utf8' });
      assert.equal(result.status, 0);
      assert.equal(result.stdout, `serverfull ${version}\n`);
    }
  });

  it('invoke --payload @missing.json: one line, exit 2', () => {
    const result = spawnSync(process.execPath, [CLI, 'invoke', 'echo', '--endpoint', 'http://127.0.0.1:9', '--payload', '@/nonexistent/missing.json'], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.equal(result.stderr, 'serverfull invoke: cannot read the payload file /nonexistent/missing.json: no such file\n');
  });

  it('a taken API Gateway port names --http-port; a taken Lambda API port names --port', async () => {
    const [blocker, port] = await occupiedPort();
    try {
      const gateway = runCli(['start', '--config', join(FIXTURES, 'gateway/serverfull.json'), '--port', '0', '--http-port', String(port)]);
      assert.equal(await gateway.exited, 2);
      assert.equal(gateway.stderr(), `serverfull: port ${port} on 127.0.0.1, for the API Gateway, is already in use: choose another with --http-port (SERVERFULL_HTTP_PORT), or 0 for any free port\n`);
      const api = runCli(['start', '--config', join(FIXTURES, 'serverfull.json'), '--port', String(port)]);
      assert.equal(await api.exited, 2);
      assert.match(api.stderr(), /for the Lambda API, is already in use: choose another with --port \(SERVERFULL_PORT\)/);
    } finally {
      blocker.close();
    }
  });

  it('with no manifest, no template and nothing deployed, says so and how to add a function', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'serverfull-empty-'));
    // From this process's directory (the repository root, which has no serverfull.json).
    const cli = runCli(['start', '--port', '0', '--log-format', 'json'], { SERVERFULL_DATA_DIR: join(empty, 'data') });
    try {
      const out = await outputMatching(cli, 'stdout', /no functions to serve/);
      const line = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: string; msg: string }).find((l) => l.msg.startsWith('no functions'))!;
      assert.equal(line.level, 'warn');
      assert.match(line.msg, /--config PATH .* --template PATH .* serverfull deploy DIR --name NAME/);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });

  it('--sandbox on without bubblewrap refuses to start in one line; auto starts and warns that deployed code runs unsandboxed', async () => {
    // SERVERFULL_BWRAP (for tests only) points at no bubblewrap: a host without it.
    const withoutBwrap = { SERVERFULL_BWRAP: '/nonexistent/bwrap' };
    const args = ['start', '--config', join(FIXTURES, 'serverfull.json'), '--port', '0', '--http-port', '0', '--log-format', 'json'];
    const on = runCli([...args, '--sandbox', 'on'], withoutBwrap);
    assert.equal(await on.exited, 2);
    assert.equal(on.stdout(), '');
    assert.equal(on.stderr(), 'serverfull: --sandbox on (SERVERFULL_SANDBOX): cannot sandbox process environments: bubblewrap (bwrap) is not installed; '
      + 'install bubblewrap and run where cgroups (v1, or v2 with memory, pids and cpu) are writable, or use --sandbox auto or off\n');

    const auto = runCli([...args, '--sandbox', 'auto'], withoutBwrap);
    try {
      const out = await outputMatching(auto, 'stdout', /serverfull listening on/);
      const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: string; msg: string; reason?: string });
      const unavailable = lines.find((l) => l.msg.startsWith('sandbox unavailable'));
      assert.ok(unavailable, out);
      assert.equal(unavailable.level, 'warn');
      assert.match(unavailable.msg, /code deployed through the Lambda API included/);
      assert.equal(unavailable.reason, 'bubblewrap (bwrap) is not installed');
    } finally {
      auto.child.kill('SIGTERM');
      await auto.exited;
    }
  });

  it('start gives the server its V8 options in the same process, but for those the operator chose', async () => {
    const args = ['start', '--config', join(FIXTURES, 'serverfull.json'), '--port', '0'];
    const cases = [
      { nodeArgs: [], env: {}, expected: [SERVER_SEMI_SPACE_OPTION, SERVER_PRETENURING_OPTION] },
      { nodeArgs: [], env: { NODE_OPTIONS: '--max-semi-space-size=8' }, expected: [SERVER_PRETENURING_OPTION] },
      // V8 reads an option's underscores as dashes; Node.js refuses this one in NODE_OPTIONS, so it comes on the command line.
      { nodeArgs: ['--allocation_site_pretenuring'], env: {}, expected: [SERVER_SEMI_SPACE_OPTION, '--allocation_site_pretenuring'] },
      { nodeArgs: [...SERVER_NODE_OPTIONS], env: {}, expected: [...SERVER_NODE_OPTIONS] },
    ];
    for (const { nodeArgs, env, expected } of cases) {
      const cli = runCli(args, env, nodeArgs);
      try {
        const url = await listeningUrl(cli);
        // The pid spawned is the server's: the CLI replaced itself (execve), it did not start a child.
        const commandLine = readFileSync(`/proc/${cli.child.pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
        assert.deepEqual(commandLine, [process.execPath, ...expected, CLI, ...args], `${nodeArgs.join(' ')} NODE_OPTIONS=${env.NODE_OPTIONS ?? ''}`);
        const invoked = await fetch(`${url}/2015-03-31/functions/echo/invocations`, { method: 'POST', body: '{"n":1}' });
        assert.equal(invoked.status, 200);
      } finally {
        cli.child.kill('SIGTERM');
      }
      assert.equal(await cli.exited, 0);
    }
  });

  it('npm start passes the server\'s V8 options to node itself, so that node starts once', () => {
    const { scripts } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
    assert.ok(scripts.start.startsWith(`node ${SERVER_NODE_OPTIONS.join(' ')} bin/serverfull.js start `), scripts.start);
  });

  it('a second Ctrl-C says it abandons the invocations in flight, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-sigint-'));
    writeFileSync(join(dir, 'hang.mjs'), "export const handler = async () => { console.log('started'); await new Promise((resolve) => setTimeout(resolve, 60_000)); };\n");
    writeFileSync(join(dir, 'serverfull.json'), JSON.stringify({ functions: { hang: { handler: 'hang.handler', timeout: 120 } } }));
    const cli = runCli(['start', '--config', join(dir, 'serverfull.json'), '--port', '0', '--log-format', 'json']);
    const url = await listeningUrl(cli);
    const call = fetch(`${url}/2015-03-31/functions/hang/invocations`, { method: 'POST', body: '{}' }).catch(() => undefined);
    await outputMatching(cli, 'stdout', /"msg":"started"/);
    cli.child.kill('SIGINT');
    await outputMatching(cli, 'stderr', /SIGINT received, finishing invocations in flight/);
    cli.child.kill('SIGINT');
    assert.equal(await cli.exited, 1);
    assert.match(cli.stderr(), /SIGINT received again, exiting now and abandoning 1 invocation\(s\) in flight\n$/);
    await call;
  });
});
