/**
 * @module runtime/worker-spares
 * Started-but-unbound worker threads, kept ready per heap limit. Starting a thread costs
 * ~50 ms on a small machine; a spare turns a cold start into binding a ready thread and
 * running the function's init. Spares have an empty environment and no function code
 * until bound, so nothing leaks between functions.
 */
import { Worker } from 'node:worker_threads';
import { heapLimits } from './heap-limits.js';
import { batchScheduleThread } from './batch-scheduling.js';
import type { ThreadMessage, WorkerStartData } from './worker-protocol.js';

const THREAD_ENTRY = new URL('./worker-thread.js', import.meta.url);

/** A ready thread, and whether it has loaded the TypeScript compiler. */
interface Spare {
  readonly worker: Worker;
  readonly typeScript: boolean;
}

/**
 * Pre-started worker threads: once a memory size has had a cold start, one for it, replaced as soon as a cold start
 * takes it; once a TypeScript function of a memory size has had a cold start, a second one for that size, which has
 * loaded the TypeScript compiler. Learnt from cold starts rather than started for every declared size: a server whose
 * worker functions never run (or run once) pays no thread for them, and the first cold start of a size pays the
 * thread's start (~50 ms) once; but for one size, prepared as the server starts (`prepare`): its first cold start, the
 * first request a server serves, is then a binding too. More spares would only speed up the second of several
 * simultaneous cold starts, at a thread's memory per size, all the time.
 */
export class WorkerSpares {
  private readonly spares = new Map<number, Spare[]>();
  /** Memory sizes whose TypeScript functions have had a cold start: they also keep a spare that has loaded the compiler. */
  private readonly typeScriptSizes = new Set<number>();
  private closed = false;

  /**
   * A thread with this heap limit: a spare if one is ready, else a new one; a replacement starts in the background.
   * A TypeScript function takes the spare that has loaded the compiler; any other function leaves it for one.
   */
  take(memorySize: number, typeScript: boolean): Worker {
    // Learnt from cold starts, not declarations: a server whose TypeScript functions never run pays for no compiler.
    if (typeScript) this.typeScriptSizes.add(memorySize);
    const ready = this.spares.get(memorySize) ?? [];
    const preferred = ready.findIndex((spare) => spare.typeScript === typeScript);
    const [spare] = ready.splice(preferred >= 0 ? preferred : 0, 1);
    spare?.worker.removeAllListeners('exit');
    setImmediate(() => this.fill(memorySize));
    return spare?.worker ?? startThread(memorySize, false);
  }

  /** Starts a spare with this heap limit now, ahead of any cold start, unless one is ready. */
  prepare(memorySize: number): void {
    this.fill(memorySize);
  }

  /** How many spares with this heap limit are started and not bound. */
  ready(memorySize: number): number {
    return this.spares.get(memorySize)?.length ?? 0;
  }

  /** Stops every spare; no new ones start. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.spares.values()].flat();
    this.spares.clear();
    await Promise.all(all.map((spare) => spare.worker.terminate()));
  }

  private fill(memorySize: number): void {
    if (this.closed) return;
    let list = this.spares.get(memorySize);
    if (!list) this.spares.set(memorySize, (list = []));
    // Each compiler costs its thread an esbuild process: only TypeScript functions' cold starts take that spare.
    const kinds = this.typeScriptSizes.has(memorySize) ? [false, true] : [false];
    for (const typeScript of kinds) {
      if (list.some((spare) => spare.typeScript === typeScript)) continue;
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
  const { oldGenerationMb, youngGenerationMb } = heapLimits(memorySize);
  const worker = new Worker(THREAD_ENTRY, {
    workerData: { warmTypeScript } satisfies WorkerStartData,
    env: {},
    resourceLimits: { maxOldGenerationSizeMb: oldGenerationMb, maxYoungGenerationSizeMb: youngGenerationMb },
    stdout: true,
    stderr: true,
  });
  // The thread's own stdout and stderr writes go to the invocation log (worker-thread's capture); anything that gets
  // past it is dropped, not mixed into the server's stdout. Destroyed rather than read: a read worker stream holds
  // the process alive even when the worker is unref'd, and an in-process server must let its script exit.
  worker.stdout.destroy();
  worker.stderr.destroy();
  // Its first message: the thread runs under SCHED_BATCH (batch-scheduling.ts).
  worker.once('message', (message: ThreadMessage) => {
    if (message.type === 'thread') batchScheduleThread(message.threadId);
  });
  return worker;
}
