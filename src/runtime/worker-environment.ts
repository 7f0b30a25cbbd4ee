/**
 * @module runtime/worker-environment
 * An execution environment in a `worker_threads` Worker: its own module state, its own
 * `process.env` and a heap limit of the function's `memorySize`. A crash, `process.exit`
 * or running out of memory ends the thread, never the server.
 *
 * When invocations wait for an environment, it takes the next one while it runs one (`acceptsNext`): the thread
 * starts it as the first ends, instead of sleeping until the server has read the first's result and sent the next.
 * Waking a thread is most of what a short invocation costs here. The invoker recalls a held invocation that waits
 * long, to run on whichever environment is free first.
 */
import type { Worker } from 'node:worker_threads';
import { platformErrors } from '../handler/function-errors.js';
import type { EnvironmentIdentity } from '../handler/lambda-context.js';
import { NOT_STARTED, platformFailure, type ExecutionEnvironment, type FunctionLogLevel, type InvocationOutcome, type InvocationRequest, type LogSink } from './execution-environment.js';
import type { BindMessage, InvokeMessage, RecallMessage, ThreadMessage } from './worker-protocol.js';

/** Output lines kept while no invocation runs (init, background timers); more are dropped. */
const MAX_EARLY_LINES = 1000;
/**
 * Invocations that run without one held behind them after a held one was recalled (its environment's invocations are
 * long, or one was): a function whose invocations all run longer than the wait before a recall pays one recall every
 * this many invocations, not one each.
 */
const UNHELD_AFTER_RECALL = 100;

interface Pending {
  readonly requestId: string;
  readonly log: LogSink;
  readonly done: (outcome: InvocationOutcome) => void;
  readonly initialized: (() => void) | undefined;
}

/** A worker-thread execution environment. */
export class WorkerEnvironment implements ExecutionEnvironment {
  private pending: Pending | undefined;
  /** The invocation held behind `pending`, sent to the thread already. */
  private next: Pending | undefined;
  /** Invocations still to end before it takes one behind another again, after a recall. */
  private unheldLeft = 0;
  private outOfMemory = false;
  /** Output from outside an invocation: it goes into the next invocation's log, as a thawed Lambda environment's would. */
  private early: Array<[FunctionLogLevel, string, string | undefined]> = [];
  alive = true;
  /** Set when the thread says the function's init has finished. */
  ready = false;

  /** Binds `worker` (fresh or a spare, started with this function's memory limit) to the function. */
  constructor(private readonly worker: Worker, bind: Omit<BindMessage, 'type'>, private readonly identity: EnvironmentIdentity) {
    worker.postMessage({ type: 'bind', ...bind } satisfies BindMessage);
    this.worker.on('message', (message: ThreadMessage) => this.onMessage(message));
    this.worker.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') this.outOfMemory = true;
    });
    this.worker.on('exit', (code) => this.onExit(code));
    // After the listeners, which ref the thread again: an environment never keeps the process alive by itself (an
    // invocation in flight holds the invoker's timeout timer), so a script using an in-process server can exit.
    worker.unref();
  }

  get inFlight(): number {
    return this.pending === undefined ? 0 : this.next === undefined ? 1 : 2;
  }

  acceptsNext(): boolean {
    return this.alive && this.ready && this.pending !== undefined && this.next === undefined && this.unheldLeft === 0;
  }

  recallNext(requestId: string): void {
    if (this.next?.requestId === requestId) this.worker.postMessage({ type: 'recall', requestId } satisfies RecallMessage);
  }

  invoke(request: InvocationRequest, log: LogSink, done: (outcome: InvocationOutcome) => void, initialized?: () => void): void {
    const entry = { requestId: request.requestId, log, done, initialized };
    if (this.pending !== undefined) this.next = entry;
    else this.pending = entry;
    if (this.next === undefined && this.early.length > 0) {
      for (const [level, text, raw] of this.early) log(level, text, raw);
      this.early = [];
    }
    // The parsed event stays here: the JSON text is cheaper to send than to clone an object graph.
    const message: InvokeMessage = {
      type: 'invoke',
      requestId: request.requestId,
      payload: request.payload,
      invokedFunctionArn: request.invokedFunctionArn,
      deadlineMs: request.deadlineMs,
      clientContext: request.clientContext,
      traceHeader: request.traceHeader,
      report: request.report,
    };
    this.worker.postMessage(message);
  }

  /** Stops the thread; a held invocation is given back once it has ended, unless the thread had started it (`onMessage`). */
  async dispose(): Promise<void> {
    this.alive = false;
    this.pending = undefined;
    await this.worker.terminate();
  }

  /** The held invocation will not start here: it goes back to be run elsewhere. */
  private giveBackNext(): void {
    const next = this.next;
    this.next = undefined;
    next?.done(NOT_STARTED);
  }

  private onMessage(message: ThreadMessage): void {
    // The thread's start, which worker-spares handles.
    if (message.type === 'thread') return;
    const pending = this.pending;
    if (message.type === 'initialized') {
      this.ready = true;
      pending?.initialized?.();
      return;
    }
    if (message.type === 'log') {
      if (pending) pending.log(message.level, message.text, message.raw);
      else if (this.early.length < MAX_EARLY_LINES) this.early.push([message.level, message.text, message.raw]);
      return;
    }
    if (message.type === 'recalled') {
      if (this.next?.requestId !== message.requestId) return;
      this.unheldLeft = UNHELD_AFTER_RECALL;
      this.giveBackNext();
      return;
    }
    if (!pending) {
      // A result that comes as the thread is stopped (its invocation timed out just as it ended): the thread went on to
      // the held one, which the stop cuts short. It fails on the thread's exit, as any invocation whose environment
      // ends under it; given back, it would run a second time.
      if (message.type === 'result' && !this.alive && !message.fatal && this.next !== undefined) {
        this.pending = this.next;
        this.next = undefined;
        this.pending.initialized?.();
      }
      return;
    }
    if (this.unheldLeft > 0) this.unheldLeft--;
    // The thread went straight on to the held one, unless it exits (a fatal result). Before `done`, so that the pool
    // sees the environment busy with it; started after, so that its log starts after this one's ends.
    const next = message.fatal ? undefined : this.next;
    if (!message.fatal) this.next = undefined;
    this.pending = next;
    pending.done({
      payload: message.payload,
      functionError: message.functionError,
      initDurationMs: message.initDurationMs,
      durationMs: message.durationMs,
      memoryUsedMB: message.memoryUsedMB,
      reusable: !message.fatal,
      // Fatal without an escaped error: the init failed, which the platform reports.
      failure: message.fatal && !message.uncaught ? 'init' : undefined,
    });
    if (message.fatal) this.giveBackNext();
    else next?.initialized?.();
  }

  private onExit(code: number): void {
    this.alive = false;
    const pending = this.pending;
    this.pending = undefined;
    pending?.done(this.outOfMemory
      ? platformFailure(platformErrors.outOfMemory(pending.requestId), { memoryUsedMB: this.identity.memorySize })
      : platformFailure(platformErrors.exit(pending.requestId, code)));
    this.giveBackNext();
  }
}
