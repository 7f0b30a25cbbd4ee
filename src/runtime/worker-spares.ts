/**
 * @module runtime/worker-spares
 * Started-but-unbound worker threads, kept ready per heap limit. Starting a thread costs
 * ~50 ms on a small machine; a spare turns a cold start into binding a ready thread and
 * running the function's init. Spares have an empty environment and no function code
 * until bound, so nothing leaks between functions.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerStartData } from './worker-protocol.js';

const THREAD_ENTRY = new URL('./worker-thread.js', import.meta.url);

/** Pre-started worker threads, `perSize` per memory size in use. */
export class WorkerSpares {
  private readonly spares = new Map<number, Worker[]>();
  private closed = false;
  private warmTypeScript = false;

  constructor(private readonly perSize: number) {}

  /** A thread with this heap limit: a spare if one is ready, else a new one; a replacement starts in the background. */
  take(memorySize: number): Worker {
    const ready = this.spares.get(memorySize);
    const worker = ready?.shift();
    if (worker) worker.removeAllListeners('exit');
    setImmediate(() => this.fill(memorySize));
    return worker ?? startThread(memorySize, this.warmTypeScript);
  }

  /** Starts spares for these memory sizes ahead of the first invocation; with TypeScript functions, spares warm up its compiler. */
  prepare(memorySizes: Iterable<number>, warmTypeScript: boolean): void {
    // Once TypeScript functions are served, spares keep warming its compiler: functions are only ever added.
    this.warmTypeScript ||= warmTypeScript;
    for (const size of memorySizes) this.fill(size);
  }

  /** Stops every spare; no new ones start. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.spares.values()].flat();
    this.spares.clear();
    await Promise.all(all.map((worker) => worker.terminate()));
  }

  private fill(memorySize: number): void {
    if (this.closed) return;
    let list = this.spares.get(memorySize);
    if (!list) this.spares.set(memorySize, (list = []));
    while (list.length < this.perSize) {
      const worker = startThread(memorySize, this.warmTypeScript);
      worker.unref();
      const spares = list;
      worker.once('exit', () => {
        const index = spares.indexOf(worker);
        if (index >= 0) spares.splice(index, 1);
      });
      list.push(worker);
    }
  }
}

function startThread(memorySize: number, warmTypeScript: boolean): Worker {
  const worker = new Worker(THREAD_ENTRY, {
    workerData: { warmTypeScript } satisfies WorkerStartData,
    env: {},
    resourceLimits: { maxOldGenerationSizeMb: memorySize },
    stdout: true,
    stderr: true,
  });
  // The thread's own stdout and stderr writes go to the invocation log (worker-thread's capture); anything that gets
  // past it is dropped, not mixed into the server's stdout. Destroyed rather than read: a read worker stream holds
  // the process alive even when the worker is unref'd, and an in-process server must let its script exit.
  worker.stdout.destroy();
  worker.stderr.destroy();
  return worker;
}
