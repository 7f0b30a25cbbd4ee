/**
 * @module runtime/batch-scheduling
 * Runtime processes and worker environments' threads run under Linux's `SCHED_BATCH` policy (`chrt`): the same share of
 * the CPU as any other thread at the same `nice`, but a runtime woken by its next event does not preempt the server thread
 * that woke it. Without it, on a host with fewer cores than busy threads, the server was switched out at nearly every hand-over
 * of an event, and finished its turn (the caller's answer, the next events) only after the runtime had run. Measured
 * at 32 connections, same rounds: process isolation about +18%, worker isolation about +23% requests per second (BENCHMARKS.md).
 * A runtime may set its policy back to the normal one (any process may); it gains nothing over other processes by it.
 * The server's own threads keep the normal policy (the log writer's under SCHED_BATCH measured no different).
 *
 * One helper shell per server process does the work: it tries `chrt` once, then sets the policy of each thread id it is
 * sent. It is started as a server starts (`startBatchScheduling`), not at the first cold start: forking the server and
 * waiting for the try held the server's thread for about 40 ms there, the first cold start's and every other caller's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Socket } from 'node:net';

/** Where util-linux's `chrt` is on the systems serverfull runs on. */
const CHRT_CANDIDATES = ['/usr/bin/chrt', '/bin/chrt'];

/**
 * Tries `chrt` (`$0`), says `ready` when it works, then runs it for each thread id it reads; it ends when its input
 * closes, that is with the server. A `chrt` that fails (a seccomp profile that forbids the policy) ends it at once:
 * a runtime started through it would not start.
 */
const HELPER_SCRIPT = '"$0" --batch 0 /bin/true || exit 1; echo ready; while read -r id; do "$0" --batch --pid 0 "$id"; done';

/** The helper: null once it has ended or could not start. */
let helper: ChildProcess | null | undefined;
/** The `chrt` executable once the helper has tried it; undefined where it is missing or fails. */
let available: Promise<string | undefined> | undefined;

/**
 * Starts the helper in the background, once per process, and resolves to the `chrt` executable once it has been tried
 * (undefined off Linux, where util-linux is not installed, or where the policy cannot be set).
 */
export function startBatchScheduling(): Promise<string | undefined> {
  available ??= new Promise((resolve) => {
    const chrt = process.platform === 'linux' ? CHRT_CANDIDATES.find(isExecutable) : undefined;
    if (chrt === undefined) {
      helper = null;
      return resolve(undefined);
    }
    // An empty environment; its answer is read until it comes, then nothing holds the server's process open.
    const started = spawn('/bin/sh', ['-c', HELPER_SCRIPT, chrt], { stdio: ['pipe', 'pipe', 'ignore'], env: {} });
    const stdin = started.stdin as Socket;
    const stdout = started.stdout as Socket;
    const stop = () => {
      helper = null;
      resolve(undefined);
    };
    started.on('error', stop).on('exit', stop);
    stdin.on('error', stop);
    stdout.on('error', stop);
    stdin.unref();
    started.unref();
    let answer = '';
    stdout.setEncoding('utf8').on('data', (text: string) => {
      answer += text;
      if (!answer.includes('\n')) return;
      stdout.unref();
      resolve(answer === 'ready\n' ? chrt : undefined);
    });
    helper = started;
  });
  return available;
}

/** What to spawn to run `file args` under `SCHED_BATCH` through `chrt` (from `startBatchScheduling`); unchanged without it. */
export function batchScheduled(chrt: string | undefined, file: string, args: readonly string[]): { readonly file: string; readonly args: readonly string[] } {
  // chrt stops reading options at the priority: the command's own arguments are passed as they are.
  return chrt === undefined ? { file, args } : { file: chrt, args: ['--batch', '0', file, ...args] };
}

/**
 * Puts thread `threadId` of this process under `SCHED_BATCH`, in the background (the helper reads the ids sent before
 * its try has ended once it has). Nothing happens where it cannot be done.
 */
export function batchScheduleThread(threadId: number): void {
  if (!Number.isSafeInteger(threadId) || threadId <= 0) return;
  void startBatchScheduling();
  helper?.stdin!.write(`${threadId}\n`);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
