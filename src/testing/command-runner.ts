/**
 * @module testing/command-runner
 * A ready-made Lambda handler that runs shell commands (test binaries, smoke checks) inside
 * the function's own network and reports them as a Lambda result: green when every command
 * exits 0, a `CommandsFailed` function error otherwise, so a pipeline that invokes it sees
 * red for red. Output is streamed into the invocation log as it arrives, and the function's
 * time budget is respected: a command that would outlive it is killed early enough for the
 * summary still to be returned, and the commands after it are skipped.
 *
 * Serve it as the handler `serverfull/command-runner` (or `serverfull/command-runner.handler`);
 * on AWS Lambda deploy a file containing `export { handler } from 'serverfull/command-runner';`.
 * Only Node.js built-ins are imported, so it bundles and deploys on its own.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Context } from 'aws-lambda';

/** The invocation event: the commands to run; without them the `COMMANDS_FILE` is read. */
export interface CommandsEvent {
  readonly commands?: readonly string[];
}

/** What happened to one command. */
export interface CommandResult {
  /** The command line as given, run through `/bin/sh -c`. */
  readonly command: string;
  /** Whether the command ran and exited 0. */
  readonly passed: boolean;
  /** The exit code; null when killed by a signal, not started or skipped. */
  readonly exitCode: number | null;
  /** The signal that ended the command (`SIGKILL`, ...); null unless it was killed. */
  readonly signal: string | null;
  readonly durationMs: number;
  /** The last ~2 KB of stdout and stderr, interleaved as they arrived. */
  readonly outputTail: string;
  /** Present when the command was not run because the time budget was spent. */
  readonly skipped?: true;
  /** Why the command failed when the exit code alone does not say: killed for time, could not start, skipped. */
  readonly reason?: string;
}

/** The invocation's result (and, as JSON, the `errorMessage` of a `CommandsFailed` error). */
export interface CommandsSummary {
  readonly passed: boolean;
  readonly results: CommandResult[];
}

/** The time left at which no new command starts and a running one is killed, unless `COMMANDS_TIME_RESERVE_MS` says otherwise. */
export const DEFAULT_TIME_RESERVE_MS = 1000;
/** Bytes of combined output each result keeps. */
export const OUTPUT_TAIL_BYTES = 2048;

// After SIGTERM a command gets this long (at most half the reserve) to clean up before SIGKILL.
const MAX_KILL_GRACE_MS = 500;
// A line longer than this is logged in pieces, so a command that never prints a newline still shows progress.
const MAX_PENDING_LINE = 8192;
// The pipes normally close right after exit; a grandchild that left the process group may hold them open.
const PIPE_CLOSE_WAIT_MS = 200;

/** Runs the event's commands (or those of `COMMANDS_FILE`) in order; throws `CommandsFailed` unless all pass. */
export async function handler(event: CommandsEvent | null | undefined, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<CommandsSummary> {
  const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const reserveMs = timeReserve(process.env.COMMANDS_TIME_RESERVE_MS);
  const commands = await commandsToRun(event, taskRoot, process.env.COMMANDS_FILE);
  const results: CommandResult[] = [];
  for (const [index, command] of commands.entries()) {
    const label = `[cmd ${index + 1}]`;
    const remaining = context.getRemainingTimeInMillis();
    if (remaining <= reserveMs) {
      const reason = `not enough time left: ${remaining} ms remaining, ${reserveMs} ms reserved`;
      console.log(`${label} $ ${command}\n${label} skipped: ${reason}`);
      results.push({ command, passed: false, exitCode: null, signal: null, durationMs: 0, outputTail: '', skipped: true, reason });
      continue;
    }
    results.push(await runCommand(command, label, { cwd: taskRoot, killInMs: remaining - reserveMs, reserveMs }));
  }
  const summary: CommandsSummary = { passed: results.every((r) => r.passed), results };
  const failed = results.filter((r) => !r.passed && !r.skipped).length;
  const skipped = results.filter((r) => r.skipped).length;
  console.log(`${summary.passed ? 'PASSED' : 'FAILED'}: ${results.length - failed - skipped} of ${results.length} commands passed, ${failed} failed, ${skipped} skipped`);
  if (!summary.passed) throw namedError('CommandsFailed', JSON.stringify(summary));
  return summary;
}

/** An error whose `name` becomes the Lambda `errorType`. */
function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  // The stack's first line repeats the message; for CommandsFailed that would double the payload.
  error.stack = `${name}\n${(error.stack ?? '').split('\n').slice(1).join('\n')}`;
  return error;
}

function timeReserve(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_TIME_RESERVE_MS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw namedError('InvalidConfiguration', `COMMANDS_TIME_RESERVE_MS must be a whole number of milliseconds, 0 or more (got ${JSON.stringify(raw)})`);
  }
  return value;
}

async function commandsToRun(event: CommandsEvent | null | undefined, taskRoot: string, commandsFile: string | undefined): Promise<string[]> {
  const given = event !== null && typeof event === 'object' ? event.commands : undefined;
  if (given !== undefined) {
    if (!Array.isArray(given) || given.some((c) => typeof c !== 'string' || c.trim() === '')) {
      throw namedError('InvalidCommands', '"commands" must be an array of non-empty strings, each a command line with its flags');
    }
    if (given.length === 0) throw namedError('InvalidCommands', '"commands" is empty: nothing to run');
    return [...given];
  }
  if (!commandsFile) {
    throw namedError('InvalidCommands', 'no commands: give {"commands": ["cmd --flag", ...]} in the event, or set COMMANDS_FILE to a file of commands, one per line');
  }
  const path = isAbsolute(commandsFile) ? commandsFile : resolve(taskRoot, commandsFile);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw namedError('InvalidCommands', `cannot read COMMANDS_FILE ${path}: ${(error as Error).message}`);
  }
  const commands = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  if (commands.length === 0) throw namedError('InvalidCommands', `COMMANDS_FILE ${path} holds no commands`);
  return commands;
}

interface RunOptions {
  readonly cwd: string;
  /** When to kill the command so the summary can still be returned. */
  readonly killInMs: number;
  readonly reserveMs: number;
}

function runCommand(command: string, label: string, options: RunOptions): Promise<CommandResult> {
  console.log(`${label} $ ${command}`);
  const started = performance.now();
  const tail = new OutputTail();
  return new Promise((done) => {
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, reason?: string) => {
      const durationMs = Math.round(performance.now() - started);
      const outcome = exitCode !== null ? `exit code ${exitCode}` : signal ? `killed by ${signal}` : 'not run';
      console.log(`${label} ${outcome} (${durationMs} ms)${reason ? ` - ${reason}` : ''}`);
      done({ command, passed: exitCode === 0 && !reason, exitCode, signal, durationMs, outputTail: tail.text(), ...(reason ? { reason } : {}) });
    };
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      // Its own process group (detached), so a kill reaches everything the command started.
      child = spawn('/bin/sh', ['-c', command], { cwd: options.cwd, env: { ...process.env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      // Most spawn failures arrive as an 'error' event, but some (E2BIG, ...) are thrown.
      finish(null, null, `could not start: ${(error as Error).message}`);
      return;
    }
    const streams = [streamLines(child.stdout, label, tail, (text) => console.log(text)), streamLines(child.stderr, label, tail, (text) => console.error(text))];
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // Already gone.
      }
    };
    let killedForTime = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const deadlineTimer = setTimeout(() => {
      killedForTime = true;
      killGroup('SIGTERM');
      graceTimer = setTimeout(() => killGroup('SIGKILL'), Math.min(MAX_KILL_GRACE_MS, Math.floor(options.reserveMs / 2)));
    }, options.killInMs);
    let settled = false;
    const settle = (exitCode: number | null, signal: NodeJS.Signals | null, reason?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadlineTimer);
      clearTimeout(graceTimer);
      for (const stream of streams) stream.flush();
      child.stdout.destroy();
      child.stderr.destroy();
      finish(exitCode, signal, reason);
    };
    child.once('error', (error) => settle(null, null, `could not start: ${error.message}`));
    child.once('exit', (exitCode, signal) => {
      // Let the pipes drain, but do not wait on a descendant that escaped the kill and keeps them open.
      const closed = Promise.all(streams.map((s) => s.closed));
      const waited = new Promise((r) => setTimeout(r, PIPE_CLOSE_WAIT_MS).unref());
      void Promise.race([closed, waited]).then(() => {
        settle(exitCode, signal, killedForTime ? `out of time: stopped with ${options.reserveMs} ms left to report` : undefined);
      });
    });
  });
}

/** Logs a stream line by line, each line prefixed with its command's label, batching what arrives together. */
function streamLines(stream: Readable, label: string, tail: OutputTail, write: (text: string) => void): { closed: Promise<void>; flush(): void } {
  let pending = '';
  const emit = (lines: string[]) => {
    if (lines.length > 0) write(lines.map((line) => `${label} ${line}`).join('\n'));
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    tail.add(chunk);
    const lines = (pending + chunk).split('\n');
    pending = lines.pop()!;
    if (pending.length > MAX_PENDING_LINE) {
      lines.push(pending);
      pending = '';
    }
    emit(lines);
  });
  const closed = new Promise<void>((r) => stream.once('close', () => r()));
  return {
    closed,
    flush() {
      if (pending !== '') emit([pending]);
      pending = '';
    },
  };
}

/** The last `OUTPUT_TAIL_BYTES` of the output, without keeping all of it. */
class OutputTail {
  private buffer = '';

  add(chunk: string): void {
    this.buffer += chunk;
    // Characters are at least one byte each, so this many always covers the byte tail.
    if (this.buffer.length > OUTPUT_TAIL_BYTES * 4) this.buffer = this.buffer.slice(-OUTPUT_TAIL_BYTES);
  }

  text(): string {
    const bytes = Buffer.from(this.buffer);
    let start = Math.max(0, bytes.length - OUTPUT_TAIL_BYTES);
    // Do not start in the middle of a multi-byte character.
    while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
    return bytes.subarray(start).toString('utf8');
  }
}
