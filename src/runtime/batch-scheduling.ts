/**
 * @module runtime/batch-scheduling
 * Runtime processes and worker environments' threads run under Linux's `SCHED_BATCH` policy (`chrt`): the same share of
 * the CPU as any other thread at the same `nice`, but a runtime woken by its next event does not preempt the server thread
 * that woke it. Without it, on a host with fewer cores than busy threads, the server was switched out at nearly every hand-over
 * of an event, and finished its turn (the caller's answer, the next events) only after the runtime had run. Measured
 * at 32 connections, same rounds: process isolation +17%, worker isolation +15-27% invocations per second (BENCHMARKS.md).
 * A runtime may set its policy back to the normal one (any process may); it gains nothing over other processes by it.
 * The server's own threads (and the log writer's, measured slower so) keep the normal policy.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, readlinkSync } from 'node:fs';

/** Where util-linux's `chrt` is on the systems serverfull runs on. */
const CHRT_CANDIDATES = ['/usr/bin/chrt', '/bin/chrt'];

let found: string | null | undefined;

/** The `chrt` executable, looked up once; undefined off Linux or where util-linux is not installed. */
export function chrtPath(): string | undefined {
  if (found === undefined) {
    found = null;
    if (process.platform === 'linux') {
      for (const candidate of CHRT_CANDIDATES) {
        try {
          accessSync(candidate, constants.X_OK);
          found = candidate;
          break;
        } catch {
          // Not there: the next one.
        }
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

/**
 * Puts the calling thread under `SCHED_BATCH`: `chrt` is run on its thread id, in the background (the thread goes on at once,
 * and its first invocations may run before the change). Nothing happens where it cannot be done.
 */
export function batchScheduleThisThread(): void {
  const chrt = chrtPath();
  if (chrt === undefined) return;
  let threadId: string;
  try {
    threadId = readlinkSync('/proc/thread-self').split('/').pop()!;
  } catch {
    return;
  }
  // An empty environment: the thread's may already be a function's.
  const child = spawn(chrt, ['--batch', '--pid', '0', threadId], { stdio: 'ignore', env: {} });
  child.on('error', () => undefined);
  child.unref();
}
