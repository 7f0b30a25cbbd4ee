/**
 * Failed invocations in the log, as AWS writes them, through the SDK with `LogType: Tail` and in
 * the server's own log: the Node.js runtime's `Invoke Error` and `Uncaught Exception` lines, the
 * platform's timeout, runtime-exit and INIT_REPORT lines, in every isolation mode, for custom
 * runtimes (which write their own logs), mocks and lambda mode; and function output lines in
 * the server log with their level and message alone, whatever the isolation.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, type InvocationType } from '@aws-sdk/client-lambda';
import { createLogger, type Logger } from '../../src/index.js';
import { runCli, type CliProcess } from '../helpers/cli-process.js';
import { decodeLog, FIXTURES, REPO_ROOT, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startRuntimeApiStandIn } from '../helpers/runtime-api-stand-in.js';

const ROOT = join(FIXTURES, 'error-logs');
const CUSTOM_RUNTIME = join(REPO_ROOT, 'examples/custom-runtime');
const TIME = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';

/** One line of the server's JSON log. */
interface LogEntry {
  readonly level: string;
  readonly msg: string;
  readonly function?: string;
  readonly requestId?: string;
  readonly functionError?: string;
}

/** A logger that keeps every server log line, parsed. */
function capturingLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return { entries, logger: createLogger({ level: 'debug', format: 'json', write: (line) => void entries.push(JSON.parse(line)) }) };
}

/** The server log's error lines of one invocation. */
const errorsOf = (entries: readonly LogEntry[], requestId: string) => entries.filter((e) => e.level === 'error' && e.requestId === requestId);

/** How many times `text` occurs in `log`. */
const count = (log: string, text: string) => log.split(text).length - 1;

/** The REPORT line of a Tail log. */
const reportLine = (log: string) => /^REPORT .*$/m.exec(log)?.[0] ?? '';

for (const isolation of ['inline', 'worker', 'process'] as const) {
  describe(`error logs (${isolation})`, () => {
    let fx: FixtureServer;
    const { logger, entries } = capturingLogger();
    before(async () => {
      fx = await startFixtureServer({
        config: undefined,
        root: ROOT,
        isolation,
        logger,
        functions: {
          // Room for a cold start on a loaded machine; the timeout itself is `hangs-briefly`'s.
          errors: { handler: 'errors.handler', timeout: 30 },
          'hangs-briefly': { handler: 'errors.handler', timeout: 1 },
          'broken-init': { handler: 'broken-init.handler' },
        },
      });
    });
    after(() => fx.close());

    it('a thrown error: one Invoke Error line in the Tail log, one error line in the server log', async () => {
      const out = await fx.invoke('errors', { fault: 'throw' }, { LogType: 'Tail' });
      const id = out.$metadata.requestId!;
      assert.equal(out.FunctionError, 'Unhandled');
      const log = decodeLog(out.LogResult);
      const line = new RegExp(`^${TIME}\\t${id}\\tERROR\\tInvoke Error \\t(\\{.*\\})$`, 'm').exec(log);
      assert.ok(line, log);
      const logged = JSON.parse(line[1]);
      assert.equal(logged.errorType, 'TeapotError');
      assert.equal(logged.errorMessage, "I'm a teapot");
      assert.equal(logged.statusCode, 418, 'the error\'s own fields are logged');
      assert.match(logged.stack[0], /^TeapotError: I'm a teapot/);
      assert.equal(logged.trace, undefined, 'the log has the stack, the payload the trace');
      assert.equal(count(log, 'Invoke Error'), 1, log);
      assert.doesNotMatch(reportLine(log), /Status:/);
      const errors = errorsOf(entries, id);
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.equal(errors[0].function, 'errors');
      assert.match(errors[0].msg, /^Invoke Error \t\{"errorType":"TeapotError","errorMessage":"I'm a teapot"/);
    });

    it('a timeout: the platform line "Task timed out", REPORT with Status: timeout', async () => {
      const out = await fx.invoke('hangs-briefly', { fault: 'hang' }, { LogType: 'Tail' });
      const id = out.$metadata.requestId!;
      assert.equal(out.json.errorType, 'Sandbox.Timedout');
      const log = decodeLog(out.LogResult);
      assert.match(log, new RegExp(`^${TIME} ${id} Task timed out after 1\\.00 seconds\\nEND RequestId: ${id}\\n`, 'm'));
      assert.match(reportLine(log), /\tStatus: timeout\t$/);
      assert.equal(count(log, 'Invoke Error'), 0);
      const errors = errorsOf(entries, id);
      assert.deepEqual(errors.map((e) => e.msg), ['Task timed out after 1.00 seconds']);
    });

    it('process.exit: the platform lines of a runtime exit, REPORT with the error type', async () => {
      const out = await fx.invoke('errors', { fault: 'exit' }, { LogType: 'Tail' });
      const id = out.$metadata.requestId!;
      assert.equal(out.json.errorType, 'Runtime.ExitError');
      const log = decodeLog(out.LogResult);
      assert.match(log, new RegExp(`^RequestId: ${id} Error: Runtime exited with error: exit status 3\\nRuntime\\.ExitError\\nEND RequestId: ${id}\\n`, 'm'));
      assert.match(reportLine(log), /\tStatus: error\tError Type: Runtime\.ExitError\t$/);
      assert.equal(count(log, 'Invoke Error'), 0);
      const errors = errorsOf(entries, id);
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.equal(errors[0].msg, `RequestId: ${id} Error: Runtime exited with error: exit status 3 (Runtime.ExitError)`);
    });

    it('an init error: Uncaught Exception outside the invocation, INIT_REPORT, on every call', async () => {
      for (let i = 0; i < 2; i++) {
        const out = await fx.invoke('broken-init', {}, { LogType: 'Tail' });
        const id = out.$metadata.requestId!;
        assert.equal(out.json.errorType, 'Error');
        const log = decodeLog(out.LogResult);
        const line = new RegExp(`^${TIME}\\tundefined\\tERROR\\tUncaught Exception \\t(\\{.*\\})$`, 'm').exec(log);
        assert.ok(line, log);
        const logged = JSON.parse(line[1]);
        assert.equal(logged.errorType, 'Error');
        assert.equal(logged.errorMessage, 'cannot initialise: broken on purpose');
        assert.ok(Array.isArray(logged.stack));
        assert.match(log, /^INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: invoke\tStatus: error\tError Type: Error\n/m);
        const report = reportLine(log);
        assert.match(report, /\tStatus: error\tError Type: Error\t$/);
        assert.doesNotMatch(report, /Init Duration/, 'the failed init is reported by INIT_REPORT');
        assert.equal(count(log, 'Uncaught Exception'), 1, log);
        const errors = errorsOf(entries, id).map((e) => e.msg);
        assert.equal(errors.length, 2, JSON.stringify(errors));
        assert.match(errors[0], /^Uncaught Exception \t\{"errorType":"Error"/);
        assert.match(errors[1], /^INIT_REPORT Init Duration: /);
      }
    });

    it('function output in the server log: the level and the message alone; the Tail log keeps the lines', async () => {
      const out = await fx.invoke('errors', { fault: 'logs' }, { LogType: 'Tail' });
      const id = out.$metadata.requestId!;
      assert.equal(out.FunctionError, undefined, out.text);
      const mine = entries.filter((e) => e.requestId === id && e.msg !== 'request');
      const find = (msg: string) => mine.find((e) => e.msg === msg);
      assert.equal(find('an error line')?.level, 'error', JSON.stringify(mine));
      assert.equal(find('a warning')?.level, 'warn');
      assert.equal(find('first\nsecond')?.level, 'info', 'a multi-line message is one entry');
      // Inline environments capture console output only.
      if (isolation !== 'inline') assert.equal(find('raw write')?.level, 'info');
      assert.ok(!mine.some((e) => /\t(INFO|WARN|ERROR)\t/.test(e.msg)), 'no raw runtime line as a message');
      const log = decodeLog(out.LogResult);
      assert.match(log, new RegExp(`^${TIME}\\t${id}\\tERROR\\tan error line\\n`, 'm'));
      // serverfull's Node.js runtime client writes a message's newlines as \r, as AWS's does; in-process environments keep them.
      const newline = isolation === 'process' ? '\\r' : '\\n';
      assert.match(log, new RegExp(`^${TIME}\\t${id}\\tINFO\\tfirst${newline}second\\n`, 'm'));
    });
  });
}

describe('error logs: a custom runtime writes its own', () => {
  let fx: FixtureServer;
  const { logger, entries } = capturingLogger();
  before(async () => {
    const custom = (handler: string, timeout = 30) => ({ runtime: 'provided.al2023', handler, timeout });
    fx = await startFixtureServer({
      config: undefined,
      root: CUSTOM_RUNTIME,
      logger,
      functions: { 'shell-fails': custom('function.fails'), 'shell-sleeps': custom('function.sleeps', 1), 'shell-missing': custom('nothing.handler') },
    });
  });
  after(() => fx.close());

  it('a posted error: no invented Invoke Error line in the Tail log; one error line in the server log', async () => {
    const out = await fx.invoke('shell-fails', {}, { LogType: 'Tail' });
    const id = out.$metadata.requestId!;
    assert.equal(out.json.errorType, 'Function.ShellError');
    const log = decodeLog(out.LogResult);
    assert.match(log, /^about to fail\n/m);
    assert.equal(count(log, 'Invoke Error'), 0, log);
    assert.doesNotMatch(reportLine(log), /Status:/);
    assert.equal(entries.find((e) => e.requestId === id && e.msg === 'about to fail')?.level, 'info', 'a line in no known format stays info, as it is');
    const errors = errorsOf(entries, id);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0].functionError, 'Function.ShellError');
    assert.match(errors[0].msg, /^function error: \{"errorType":"Function.ShellError"/);
  });

  it('a timeout: the platform line', async () => {
    const out = await fx.invoke('shell-sleeps', {}, { LogType: 'Tail' });
    const id = out.$metadata.requestId!;
    const log = decodeLog(out.LogResult);
    assert.match(log, new RegExp(`^${TIME} ${id} Task timed out after 1\\.00 seconds\\n`, 'm'));
    assert.match(reportLine(log), /\tStatus: timeout\t$/);
    assert.deepEqual(errorsOf(entries, id).map((e) => e.msg), ['Task timed out after 1.00 seconds']);
  });

  it('an init error: INIT_REPORT from the platform, no runtime line invented', async () => {
    const out = await fx.invoke('shell-missing', {}, { LogType: 'Tail' });
    const log = decodeLog(out.LogResult);
    assert.match(log, /^INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: invoke\tStatus: error\tError Type: Runtime\.ImportModuleError\n/m);
    assert.equal(count(log, 'Uncaught Exception'), 0, log);
  });
});

describe('error logs: a mock’s declared error', () => {
  let fx: FixtureServer;
  const { logger, entries } = capturingLogger();
  before(async () => {
    fx = await startFixtureServer({ config: join(FIXTURES, 'mock/serverfull.json'), logger });
  });
  after(() => fx.close());

  it('is logged as the Invoke Error of the error it stands for', async () => {
    const command = new InvokeCommand({ FunctionName: 'order', InvocationType: 'Error' as InvocationType, LogType: 'Tail' });
    command.middlewareStack.add((next) => (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-error-type'] = 'ThrottledError';
      return next(args);
    }, { step: 'build', name: 'mockErrorType' });
    const out = await fx.lambda.send(command);
    const id = out.$metadata.requestId!;
    const log = decodeLog(out.LogResult);
    assert.match(log, new RegExp(`^${TIME}\\t${id}\\tERROR\\tInvoke Error \\t\\{"errorType":"ThrottledError","errorMessage":"ThrottledError \\(a mock error\\)"\\}\\n`, 'm'));
    assert.equal(errorsOf(entries, id).length, 1);
  });
});

describe('error logs: lambda mode (the same runtime client, on stdout)', () => {
  /** Resolves once the child's stdout matches `pattern`. */
  function stdoutMatching(cli: CliProcess, pattern: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(cli.stdout());
        if (!match) return false;
        cli.child.stdout!.off('data', onData);
        resolve(match[0]);
        return true;
      };
      // Registered after runCli's own listener: the output it collected includes this chunk.
      const onData = () => void check();
      cli.child.stdout!.on('data', onData);
      cli.child.once('close', () => check() || reject(new Error(`no match for ${pattern} in: ${cli.stdout()}`)));
      check();
    });
  }

  it('writes the Invoke Error line before posting the error, once', async () => {
    const api = await startRuntimeApiStandIn();
    const cli = runCli(['lambda', '--function', 'fail', '--config', join(FIXTURES, 'lambda-mode/serverfull.json')], { AWS_LAMBDA_RUNTIME_API: api.address });
    try {
      const failed = await api.invoke({});
      assert.equal(failed.kind, 'error');
      const line = await stdoutMatching(cli, new RegExp(`^${TIME}\\t${failed.requestId}\\tERROR\\tInvoke Error \\t\\{.*\\}$`, 'm'));
      const logged = JSON.parse(line.slice(line.indexOf('\t{') + 1));
      assert.equal(logged.errorType, 'TeapotError');
      assert.equal(logged.errorMessage, 'I am a teapot');
      assert.equal(count(cli.stdout(), 'Invoke Error'), 1);
    } finally {
      cli.child.kill('SIGKILL');
      await cli.exited;
      await api.close();
    }
  });
});
