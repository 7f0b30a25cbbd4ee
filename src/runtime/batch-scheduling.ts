/**
 * @module runtime/batch-scheduling
 * Runtime processes and worker environments' threads run under Linux's `SCHED_BATCH` policy (`chrt`): the same share of
 * the CPU as any other thread at the same `nice`, but a runtime woken by its next event does not preempt the server thread
 * that woke it. Without it, on a host with fewer cores than busy threads, the server was switched out at nearly every hand-over
 * of an event, and finished its turn (the caller's answer, the next events) only after the runtime had run. Measured
 * at 32 connections, same rounds: process isolation about +18%, worker isolation about +23% requests per second (BENCHMARKS.md).
 * A runtime may set its policy back to the normal one (any process may); it gains nothing over other processes by it.
 * The server's own threads keep the normal policy (the log writer's under SCHED_BATCH measured no different).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Socket } from 'node:net';

/** Where util-linux's `chrt` is on the systems serverfull runs on. */
const CHRT_CANDIDATES = ['/usr/bin/chrt', '/bin/chrt'];

let found: string | null | undefined;

/**
 * The `chrt` executable, looked up and tried once; undefined off Linux, where util-linux is not installed, or where the
 * policy cannot be set (a seccomp profile that forbids it): a runtime started through a `chrt` that fails would not start.
 */
export function chrtPath(): string | undefined {
  if (found === undefined) {
    found = null;
    if (process.platform === 'linux') {
      for (const candidate of CHRT_CANDIDATES) {
        try {
          accessSync(candidate, constants.X_OK);
        } catch {
          continue;
        }
        if (spawnSync(candidate, ['--batch', '0', '/bin/true'], { stdio: 'ignore', env: {} }).status === 0) found = candidate;
        break;
      }
    }
  }
  return found ?? undefined;
}

/** What to spawn to run `file args` under `SCHED_BATCH`; unchanged where `chrt` is not available. */
export function batchScheduled(file: string, args: readonly string[]): { readonly file: string; readonly args: readonly string[] } {
  const chrt = chrtPath();
  // chrt stops reading options at the priority: the command's own arguments are passed as they are.
  return chrt === undefined ? { file, args } : { file: chrt, args: ['--batch', '0', file, ...args] };
}

/** The shell that runs `chrt` for threads of this process, started with the first; null once it failed. */
let helper: ChildProcess | null | undefined;

/**
 * Puts thread `threadId` of this process under `SCHED_BATCH`, in the background. `chrt` is run by one small helper shell
 * kept for it: forking the server itself for each thread added about 3 ms to a worker cold start. Nothing happens where
 * it cannot be done.
 */
export function batchScheduleThread(threadId: number): void {
  const chrt = chrtPath();
  if (chrt === undefined || helper === null || !Number.isSafeInteger(threadId) || threadId <= 0) return;
  if (helper === undefined) {
    // An empty environment; the helper ends when the server does (its input closes).
    const started = spawn('/bin/sh', ['-c', 'while read -r id; do "$0" --batch --pid 0 "$id"; done', chrt], { stdio: ['pipe', 'ignore', 'ignore'], env: {} });
    const stop = () => {
      helper = null;
    };
    started.on('error', stop).on('exit', stop);
    started.stdin!.on('error', stop);
    started.unref();
    (started.stdin as Socket).unref();
    helper = started;
  }
  helper.stdin!.write(`${threadId}\n`);
}
