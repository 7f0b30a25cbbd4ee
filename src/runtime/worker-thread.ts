/**
 * @module runtime/worker-thread
 * Entry point of a worker execution environment. The thread may start before it knows its
 * function (a spare); the first message binds it: environment variables, then the handler
 * is loaded once (the init phase). Then it runs invocations one at a time, forwarding
 * console output to the host. One sent while another runs is held and started as that one ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { format } from '../handler/node-builtins.js';
import { ActiveResourcesProbe } from './event-loop-probe.js';
import { executeInvocation, settleHandler, usedHeapMB, type LoadedHandler } from './invocation-executor.js';
import { loadHandler, warmTypeScript } from '../handler/handler-loader.js';
import { platformErrors, toErrorPayload, type FunctionErrorPayload } from '../handler/function-errors.js';
import { initErrorMessage, invokeErrorMessage, uncaughtExceptionMessage, unhandledRejectionMessage } from '../handler/error-log-lines.js';
import { CONSOLE_LEVELS, lineOutsideInvocation } from './execution-environment.js';
import { ownThreadId } from './thread-id.js';
import type { EnvironmentIdentity } from '../handler/lambda-context.js';
import type { BindMessage, HostMessage, InvokeMessage, ThreadMessage, WorkerStartData } from './worker-protocol.js';

const port = parentPort!;
const send = (message: ThreadMessage) => port.postMessage(message);

captureOutput();
const threadId = ownThreadId();
if (threadId !== undefined) send({ type: 'thread', threadId });
if ((workerData as WorkerStartData | undefined)?.warmTypeScript) void warmTypeScript();

let identity: EnvironmentIdentity;
let loading: Promise<LoadedHandler>;
/** Set once init has settled, so warm invocations start without a promise tick. */
let loaded: LoadedHandler | undefined;
let initDurationMs: number | undefined;
/** When the init ended, by the wall clock deadlines are in; and the function's timeout, from the bind. */
let initEndedAt = 0;
let timeoutMs = 0;
let busy = false;
/** The invocation the host sent while another ran (`WorkerEnvironment.acceptsNext`): it starts when that one ends. */
let held: InvokeMessage | undefined;

process.on('uncaughtException', (error) => {
  const payload = toErrorPayload(error);
  failAndExit(payload, uncaughtExceptionMessage(error, payload), 129);
});
process.on('unhandledRejection', (reason) => {
  const payload = platformErrors.unhandledRejection(reason);
  failAndExit(payload, unhandledRejectionMessage(reason, payload), 128);
});

port.on('message', (message: HostMessage) => {
  if (message.type === 'bind') bind(message);
  else if (message.type === 'recall') recall(message.requestId);
  // The host sends one while another runs only once the init is over (`loaded`).
  else if (busy) held = message;
  else if (loaded) invoke(loaded, message);
  else void loading.then((settled) => invoke(settled, message));
});
// Taken once the thread's own port is listened on and before user code runs, so the user's own timers and sockets count as "not empty".
const eventLoop = new ActiveResourcesProbe();

function invoke(handler: LoadedHandler, message: InvokeMessage, wasHeld = false): void {
  const reportedInit = initDurationMs;
  initDurationMs = undefined;
  busy = true;
  // One invocation at a time per thread, and the thread's process.env is its own: set, as AWS's runtime sets it.
  if (message.traceHeader === undefined) delete process.env._X_AMZN_TRACE_ID;
  else process.env._X_AMZN_TRACE_ID = message.traceHeader;
  const started = performance.now();
  // The host started this invocation's timeout when the init ended, not when it sent the event: so does its deadline.
  // A spare thread may have begun (even finished) the init before the event was sent: then the sent deadline stands.
  // A held invocation's deadline counts from now, when it starts, as its timeout does on the host.
  const invocation = wasHeld ? { ...message, deadlineMs: Date.now() + timeoutMs }
    : reportedInit === undefined ? message : { ...message, deadlineMs: Math.max(message.deadlineMs, initEndedAt + timeoutMs) };
  executeInvocation(handler, identity, invocation, eventLoop, JSON.parse(message.payload), (executed) => {
    const durationMs = performance.now() - started;
    busy = false;
    if (executed.functionError !== undefined && !executed.fatal) {
      send({ type: 'log', level: 'ERROR', text: invokeErrorMessage(executed.error, JSON.parse(executed.payload) as FunctionErrorPayload) });
    }
    send({
      type: 'result',
      payload: executed.payload,
      functionError: executed.functionError,
      initDurationMs: reportedInit,
      durationMs,
      memoryUsedMB: usedHeapMB(message.report),
      fatal: executed.fatal,
    });
    if (executed.fatal) process.exit(1);
    const next = held;
    if (next !== undefined) {
      held = undefined;
      invoke(handler, next, true);
    }
  });
}

/** Gives the held invocation back to the host, unless it has started (then the host learns so from the result before it). */
function recall(requestId: string): void {
  if (held?.requestId !== requestId) return;
  held = undefined;
  send({ type: 'recalled', requestId });
}

function bind(message: BindMessage): void {
  identity = message.identity;
  timeoutMs = message.timeoutMs;
  // The thread was started with an empty environment; now it gets exactly the function's.
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, message.env);
  const initStart = performance.now();
  loading = settleHandler(() => loadHandler(message.root, message.handler)).then((settled) => {
    initDurationMs = performance.now() - initStart;
    initEndedAt = Date.now();
    if ('loadError' in settled) {
      const text = initErrorMessage(settled.loadError);
      send({ type: 'log', level: 'ERROR', text, raw: lineOutsideInvocation(text) });
    }
    loaded = settled;
    send({ type: 'initialized' });
    return settled;
  });
}

/** As the AWS runtime does: an error escaping the handler fails the current invocation and ends the environment. */
function failAndExit(error: FunctionErrorPayload, message: string, code: number): void {
  send({ type: 'log', level: 'ERROR', text: message });
  if (busy) {
    send({ type: 'result', payload: JSON.stringify(error), functionError: error.errorType, memoryUsedMB: usedHeapMB(true), fatal: true, uncaught: true });
  }
  process.exit(code);
}

function captureOutput(): void {
  for (const [method, level] of CONSOLE_LEVELS) {
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => send({ type: 'log', level, text: format(...args) });
  }
  for (const stream of [process.stdout, process.stderr]) {
    stream.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
      send({ type: 'log', level: undefined, text: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString() });
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') queueMicrotask(() => done());
      return true;
    }) as typeof stream.write;
  }
}
