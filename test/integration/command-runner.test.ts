/**
 * The built-in command runner (`serverfull/command-runner`) through the Invoke API: pass and fail
 * as Lambda results, output streamed into the Tail log, the time budget, the commands file.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseHandlerString, resolveHandlerFile } from '../../src/handler/handler-loader.js';
import { handler, type CommandsSummary } from '../../src/testing/command-runner.js';
import { decodeLog, FIXTURES, REPO_ROOT, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { waitUntil } from '../helpers/wait-until.js';

const MANIFEST = join(FIXTURES, 'command-runner/serverfull.json');
const FILE_COMMANDS = ['echo "suite $SUITE in $(basename "$PWD")"', 'test -f commands.txt', `printf '%s\\n' "function $AWS_LAMBDA_FUNCTION_NAME" >&2`];

type Invocation = Awaited<ReturnType<FixtureServer['invoke']>>;

/** The summary a `CommandsFailed` error carries, after checking that the invocation failed that way. */
function failedSummary(out: Invocation): CommandsSummary {
  assert.equal(out.FunctionError, 'Unhandled', out.text);
  assert.equal(out.json.errorType, 'CommandsFailed', out.text);
  const summary = JSON.parse(out.json.errorMessage) as CommandsSummary;
  assert.equal(summary.passed, false);
  return summary;
}

/** Whether a process still runs (a zombie left to a container's non-reaping init counts as gone). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Starts `short` (3 s) once, so that the time-budget tests get a warm environment: a cold start on a loaded machine would eat their budget. */
async function warmShort(fx: FixtureServer): Promise<void> {
  assert.equal((await fx.invoke('short', { commands: ['true'] })).FunctionError, undefined);
}

describe('command runner (worker)', () => {
  let fx: FixtureServer;
  before(async () => {
    fx = await startFixtureServer({ config: MANIFEST });
    await warmShort(fx);
  });
  after(() => fx.close());

  it('passing commands: a green result, each command reported, output streamed into the log', async () => {
    const commands = ['echo hello', 'printf "one\\ntwo\\n"; echo oops >&2', 'echo "suite=$SUITE"'];
    const out = await fx.invoke('runner', { commands }, { LogType: 'Tail' });
    assert.equal(out.FunctionError, undefined, out.text);
    const summary = out.json as CommandsSummary;
    assert.equal(summary.passed, true);
    assert.deepEqual(summary.results.map((r) => r.command), commands);
    assert.deepEqual(summary.results.map((r) => r.outputTail), ['hello\n', 'one\ntwo\noops\n', 'suite=given\n']);
    for (const result of summary.results) {
      assert.deepEqual(Object.keys(result).sort(), ['command', 'durationMs', 'exitCode', 'outputTail', 'passed', 'signal']);
      assert.equal(result.passed, true);
      assert.equal(result.exitCode, 0);
      assert.equal(result.signal, null);
      assert.ok(Number.isInteger(result.durationMs) && result.durationMs >= 0 && result.durationMs < 5000, String(result.durationMs));
    }
    const log = decodeLog(out.LogResult);
    assert.match(log, /\tINFO\t\[cmd 1\] \$ echo hello\n/);
    assert.match(log, /\tINFO\t\[cmd 1\] hello\n/);
    assert.match(log, /\tINFO\t\[cmd 1\] exit code 0 \(\d+ ms\)\n/);
    assert.match(log, /\tINFO\t\[cmd 2\] one\n\[cmd 2\] two\n/);
    assert.match(log, /\tERROR\t\[cmd 2\] oops\n/);
    assert.match(log, /\[cmd 3\] suite=given\n/);
    assert.match(log, /PASSED: 3 of 3 commands passed, 0 failed, 0 skipped/);
  });

  it('a failing command fails the invocation with CommandsFailed; the commands after it still run', async () => {
    const out = await fx.invoke('runner', { commands: ['echo before', 'echo broken; exit 3', 'no-such-binary --flag', 'echo after'] }, { LogType: 'Tail' });
    const summary = failedSummary(out);
    assert.deepEqual(summary.results.map((r) => [r.passed, r.exitCode, r.signal]), [[true, 0, null], [false, 3, null], [false, 127, null], [true, 0, null]]);
    assert.equal(summary.results[1]!.outputTail, 'broken\n');
    assert.match(summary.results[2]!.outputTail, /no-such-binary: .*not found/);
    assert.equal(summary.results[3]!.outputTail, 'after\n');
    assert.equal(summary.results[1]!.reason, undefined);
    const log = decodeLog(out.LogResult);
    assert.match(log, /\[cmd 2\] exit code 3 \(\d+ ms\)/);
    assert.match(log, /FAILED: 2 of 4 commands passed, 2 failed, 0 skipped/);
  });

  it('a command killed by a signal reports the signal and no exit code', async () => {
    const summary = failedSummary(await fx.invoke('runner', { commands: ['echo dying; kill -9 $$; echo unreachable'] }));
    const [result] = summary.results;
    assert.equal(result!.command, 'echo dying; kill -9 $$; echo unreachable');
    assert.equal(result!.exitCode, null);
    assert.equal(result!.signal, 'SIGKILL');
    assert.equal(result!.outputTail, 'dying\n');
    assert.equal(result!.passed, false);
  });

  it('heavy output: only the last 2 KB is kept in the result, the log shows its end, the invocation passes', async () => {
    const out = await fx.invoke('runner', { commands: ['seq 1 200000'] }, { LogType: 'Tail' });
    assert.equal(out.FunctionError, undefined, out.text.slice(0, 500));
    const [result] = (out.json as CommandsSummary).results;
    assert.equal(result!.exitCode, 0);
    assert.ok(Buffer.byteLength(result!.outputTail) <= 2048, String(Buffer.byteLength(result!.outputTail)));
    assert.ok(Buffer.byteLength(result!.outputTail) > 2000);
    assert.ok(result!.outputTail.endsWith('\n199999\n200000\n'));
    assert.ok(out.text.length < 4096, 'the payload stays small');
    const log = decodeLog(out.LogResult);
    assert.ok(Buffer.byteLength(log) <= 4096);
    assert.match(log, /\[cmd 1\] 199999\n\[cmd 1\] 200000\n/);
    assert.match(log, /\[cmd 1\] exit code 0/);
  });

  it('the commands file (COMMANDS_FILE) when the event has none: comments and blank lines skipped, run in the task root with the function environment', async () => {
    const out = await fx.invoke('system-tests', {}, { LogType: 'Tail' });
    assert.equal(out.FunctionError, undefined, out.text);
    const summary = out.json as CommandsSummary;
    assert.equal(summary.passed, true);
    assert.deepEqual(summary.results.map((r) => r.command), FILE_COMMANDS);
    assert.deepEqual(summary.results.map((r) => r.outputTail), ['suite smoke in command-runner\n', '', 'function system-tests\n']);
    assert.match(decodeLog(out.LogResult), /\tERROR\t\[cmd 3\] function system-tests\n/);
  });

  it('commands in the event win over the commands file', async () => {
    const out = await fx.invoke('system-tests', { commands: ['echo from-event'] });
    assert.deepEqual((out.json as CommandsSummary).results.map((r) => r.outputTail), ['from-event\n']);
  });

  it('a command that would outlive the time budget is killed in time to report; the next one is skipped', async () => {
    const out = await fx.invoke('short', { commands: ['echo waiting; sleep 10', 'echo never'] }, { LogType: 'Tail' });
    // CommandsFailed, not Sandbox.Timedout: the runner answered inside the function's 3 s.
    const summary = failedSummary(out);
    const [killed, skipped] = summary.results;
    assert.equal(killed!.exitCode, null);
    assert.equal(killed!.signal, 'SIGTERM');
    assert.equal(killed!.outputTail, 'waiting\n');
    assert.equal(killed!.reason, 'out of time: stopped with 1000 ms left to report');
    assert.ok(Number.isInteger(killed!.durationMs) && killed!.durationMs > 0, String(killed!.durationMs));
    // Stopped no earlier than the budget said: by then no more than the reserve was left, so the next command could not start.
    assert.ok(Number(/(\d+) ms remaining/.exec(skipped!.reason ?? '')?.[1]) <= 1000, skipped!.reason);
    assert.deepEqual({ ...skipped!, reason: undefined }, {
      command: 'echo never', passed: false, exitCode: null, signal: null, durationMs: 0, outputTail: '', skipped: true, reason: undefined,
    });
    assert.match(skipped!.reason!, /^not enough time left: \d+ ms remaining, 1000 ms reserved$/);
    const log = decodeLog(out.LogResult);
    assert.match(log, /\[cmd 1\] killed by SIGTERM \(\d+ ms\) - out of time: stopped with 1000 ms left to report\n/);
    assert.match(log, /\[cmd 2\] skipped: not enough time left/);
    assert.match(log, /FAILED: 0 of 2 commands passed, 1 failed, 1 skipped/);
  });

  it('a command that ignores SIGTERM gets SIGKILL, with everything it started', async () => {
    // A reserve of 3 s: after the 500 ms grace and SIGKILL, the runner still has seconds to report on a loaded machine.
    const out = await fx.invoke('stubborn', { commands: ["trap '' TERM; sleep 30 & echo \"child $!\"; wait"] });
    const [result] = failedSummary(out).results;
    assert.equal(result!.signal, 'SIGKILL');
    const child = Number(/child (\d+)/.exec(result!.outputTail)?.[1]);
    assert.ok(child > 0, result!.outputTail);
    await waitUntil(() => !running(child), `background process ${child} ends`);
  });

  const invalid: Array<[string, string, unknown, string, RegExp]> = [
    ['no commands anywhere', 'runner', {}, 'InvalidCommands', /^no commands: give \{"commands"/],
    ['commands not an array', 'runner', { commands: 'echo hi' }, 'InvalidCommands', /"commands" must be an array of non-empty strings/],
    ['a command not a string', 'runner', { commands: ['echo hi', 7] }, 'InvalidCommands', /"commands" must be an array of non-empty strings/],
    ['an empty list', 'runner', { commands: [] }, 'InvalidCommands', /"commands" is empty/],
    ['an unreadable commands file', 'missing-file', {}, 'InvalidCommands', /^cannot read COMMANDS_FILE .*no-such-commands\.txt: ENOENT/],
    ['a bad time reserve', 'bad-reserve', { commands: ['true'] }, 'InvalidConfiguration', /COMMANDS_TIME_RESERVE_MS must be a whole number/],
  ];
  for (const [title, name, event, errorType, message] of invalid) {
    it(`invalid input: ${title}`, async () => {
      const out = await fx.invoke(name, event);
      assert.equal(out.FunctionError, 'Unhandled', out.text);
      assert.equal(out.json.errorType, errorType);
      assert.match(out.json.errorMessage, message);
    });
  }
});

describe('command runner (inline)', () => {
  let fx: FixtureServer;
  before(async () => {
    fx = await startFixtureServer({ config: MANIFEST, isolation: 'inline' });
    await warmShort(fx);
  });
  after(() => fx.close());

  it('runs the commands file with the function environment and captures the streamed output', async () => {
    const out = await fx.invoke('runner-inline', {}, { LogType: 'Tail' });
    assert.equal(out.FunctionError, undefined, out.text);
    const summary = out.json as CommandsSummary;
    assert.deepEqual(summary.results.map((r) => r.command), FILE_COMMANDS);
    assert.deepEqual(summary.results.map((r) => r.outputTail), ['suite inline in command-runner\n', '', 'function runner-inline\n']);
    const log = decodeLog(out.LogResult);
    assert.match(log, /\tINFO\t\[cmd 1\] suite inline in command-runner\n/);
    assert.match(log, /\tERROR\t\[cmd 3\] function runner-inline\n/);
  });

  it('a failing command is a CommandsFailed function error', async () => {
    const summary = failedSummary(await fx.invoke('runner-inline', { commands: ['echo x; exit 3', 'true'] }));
    assert.deepEqual(summary.results.map((r) => r.exitCode), [3, 0]);
  });

  it('the time budget holds although inline code cannot be interrupted', async () => {
    // CommandsFailed, not Sandbox.Timedout: the runner answered inside the function's 3 s.
    const summary = failedSummary(await fx.invoke('short', { commands: ['sleep 10', 'echo never'] }));
    assert.deepEqual(summary.results.map((r) => [r.signal, r.skipped]), [['SIGTERM', undefined], [null, true]]);
  });
});

describe('serverfull/command-runner as a handler string', () => {
  it('parses with or without ".handler"; other serverfull/ paths are untouched', () => {
    assert.deepEqual(parseHandlerString('serverfull/command-runner'), { modulePath: 'serverfull/command-runner', exportPath: ['handler'] });
    assert.deepEqual(parseHandlerString('serverfull/command-runner.handler'), { modulePath: 'serverfull/command-runner', exportPath: ['handler'] });
    assert.equal(parseHandlerString('serverfull/other'), undefined);
  });

  it('resolves to the built-in module unless the task root has a file of that name, as AWS tries the task root first', () => {
    const root = mkdtempSync(join(tmpdir(), 'serverfull-runner-'));
    try {
      assert.equal(resolveHandlerFile(root, 'serverfull/command-runner'), join(REPO_ROOT, 'dist/src/testing/command-runner.js'));
      assert.equal(resolveHandlerFile(root, 'serverfull/other'), undefined);
      mkdirSync(join(root, 'serverfull'));
      writeFileSync(join(root, 'serverfull/command-runner.mjs'), 'export const handler = async () => "own";\n');
      assert.equal(resolveHandlerFile(root, 'serverfull/command-runner'), join(root, 'serverfull/command-runner.mjs'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('called directly (as when re-exported on AWS): with too little time every command is skipped', async () => {
    await assert.rejects(handler({ commands: ['echo a', 'echo b'] }, { getRemainingTimeInMillis: () => 600 }), (error: Error) => {
      assert.equal(error.name, 'CommandsFailed');
      const summary = JSON.parse(error.message) as CommandsSummary;
      assert.deepEqual(summary.results.map((r) => [r.skipped, r.reason]), [
        [true, 'not enough time left: 600 ms remaining, 1000 ms reserved'],
        [true, 'not enough time left: 600 ms remaining, 1000 ms reserved'],
      ]);
      return true;
    });
  });

  it('called directly: a command that cannot be started fails with the reason', async () => {
    const saved = process.env.LAMBDA_TASK_ROOT;
    process.env.LAMBDA_TASK_ROOT = join(tmpdir(), 'serverfull-no-such-task-root');
    try {
      await assert.rejects(handler({ commands: ['true'] }, { getRemainingTimeInMillis: () => 60_000 }), (error: Error) => {
        const [result] = (JSON.parse(error.message) as CommandsSummary).results;
        assert.deepEqual({ ...result!, durationMs: 0 }, {
          command: 'true', passed: false, exitCode: null, signal: null, durationMs: 0, outputTail: '', reason: 'could not start: spawn /bin/sh ENOENT',
        });
        return true;
      });
    } finally {
      if (saved === undefined) delete process.env.LAMBDA_TASK_ROOT;
      else process.env.LAMBDA_TASK_ROOT = saved;
    }
  });
});
