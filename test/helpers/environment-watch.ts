/**
 * @module test/helpers/environment-watch
 * The execution environments of a server running in the test's own process, seen from the
 * test: its worker threads and its runtime child processes. Lets a test wait until the server
 * has seen an environment end (an exit, a reaping) instead of sleeping and hoping it has.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';

/** Worker threads started in this process since `watchWorkers()`. */
export interface WorkerWatch {
  /** Whether the worker of this `threadId` has ended (its `exit` event has been emitted). */
  ended(threadId: number): boolean;
  /** How many of the watched workers have ended. */
  endedCount(): number;
  stop(): void;
}

/** Watches worker threads started from now on: call it before the server starts. */
export function watchWorkers(): WorkerWatch {
  const workers = new Map<number, Worker>();
  const onWorker = (worker: Worker) => workers.set(worker.threadId, worker);
  process.on('worker', onWorker);
  // A worker's resource limits read as {} from the moment Node emits its `exit` (and its listeners, the server's, have run).
  const hasEnded = (worker: Worker) => Object.keys(worker.resourceLimits ?? {}).length === 0;
  return {
    ended: (threadId) => {
      const worker = workers.get(threadId);
      if (!worker) throw new Error(`worker ${threadId} was not started while watched`);
      return hasEnded(worker);
    },
    endedCount: () => [...workers.values()].filter(hasEnded).length,
    stop: () => void process.off('worker', onWorker),
  };
}

/**
 * Process ids of the runtime processes this process runs for `functionName` (process
 * isolation): its running children whose environment names the function. List them while they
 * run; to wait for one to end, wait until `processExists` is false.
 */
export function runtimeProcesses(functionName: string): number[] {
  const wanted = `\0AWS_LAMBDA_FUNCTION_NAME=${functionName}\0`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== process.pid) continue;
      if (`\0${readFileSync(`/proc/${entry}/environ`, 'latin1')}`.includes(wanted)) found.push(Number(entry));
    } catch {
      // Gone while listed.
    }
  }
  return found;
}

/**
 * Whether a process of this id still exists, a zombie not yet reaped included. For a child of
 * this process: false once Node has reaped it, and has emitted its `exit` with that.
 */
export function processExists(pid: number): boolean {
  try {
    readFileSync(`/proc/${pid}/stat`);
    return true;
  } catch {
    return false;
  }
}
