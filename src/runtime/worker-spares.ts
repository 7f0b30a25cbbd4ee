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

/** A ready thread, and whether it has loaded the TypeScript compiler. */
interface Spare {
  readonly worker: Worker;
  readonly typeScript: boolean;
}

/**
 * Pre-started worker threads: one per memory size in use from the start, `perSize` once a size has had a cold
 * start (a burst of cold starts then finds several ready; a size never invoked costs one idle thread, not more).
 */
export class WorkerSpares {
  private readonly spares = new Map<number, Spare[]>();
  /** Memory sizes of TypeScript functions: one spare of each loads the compiler while it waits. */
  private readonly typeScriptSizes = new Set<number>();
  private closed = false;

  constructor(private readonly perSize: number) {}

  /**
   * A thread with this heap limit: a spare if one is ready, else a new one; a replacement starts in the background.
   * A TypeScript function takes the spare that has loaded the compiler; any other function leaves it for one.
   */
  take(memorySize: number, typeScript: boolean): Worker {
    const ready = this.spares.get(memorySize) ?? [];
    const preferred = ready.findIndex((spare) => spare.typeScript === typeScript);
    const [spare] = ready.splice(preferred >= 0 ? preferred : 0, 1);
    spare?.worker.removeAllListeners('exit');
    setImmediate(() => this.fill(memorySize, this.perSize));
    return spare?.worker ?? startThread(memorySize, false);
  }

  /** Starts a spare for each of these memory sizes ahead of the first invocation; for the sizes of TypeScript functions, it loads the compiler. */
  prepare(memorySizes: Iterable<number>, typeScriptSizes: Iterable<number>): void {
    // Functions are only ever added: a size that served TypeScript keeps a compiler-ready spare.
    for (const size of typeScriptSizes) this.typeScriptSizes.add(size);
    for (const size of memorySizes) this.fill(size, 1);
  }

  /** Stops every spare; no new ones start. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.spares.values()].flat();
    this.spares.clear();
    await Promise.all(all.map((spare) => spare.worker.terminate()));
  }

  private fill(memorySize: number, count: number): void {
    if (this.closed) return;
    let list = this.spares.get(memorySize);
    if (!list) this.spares.set(memorySize, (list = []));
    while (list.length < count) {
      // Only one per size: each compiler costs a thread its own esbuild process, mostly for functions that never need it.
      const typeScript = this.typeScriptSizes.has(memorySize) && !list.some((spare) => spare.typeScript);
      const spare: Spare = { worker: startThread(memorySize, typeScript), typeScript };
      spare.worker.unref();
      const spares = list;
      spare.worker.once('exit', () => {
        const index = spares.indexOf(spare);
        if (index >= 0) spares.splice(index, 1);
      });
      list.push(spare);
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
