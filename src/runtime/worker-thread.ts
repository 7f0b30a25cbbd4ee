/**
 * @module runtime/worker-thread
 * Entry point of a worker execution environment: loads the handler once (the init
 * phase), then runs invocations as they arrive, forwarding console output to the host.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { format } from 'node:util';
import { ActiveResourcesProbe } from './event-loop-probe.js';
import { executeInvocation, settleHandler, usedHeapMB } from './invocation-executor.js';
import { loadHandler } from '../handler/handler-loader.js';
import { platformErrors, toErrorPayload, type FunctionErrorPayload } from '../handler/function-errors.js';
import type { FunctionLogLevel } from './execution-environment.js';
import type { InvokeMessage, ThreadMessage, WorkerBootData } from './worker-protocol.js';

const port = parentPort!;
const boot = workerData as WorkerBootData;
const send = (message: ThreadMessage) => port.postMessage(message);
// Taken before user code runs, so the user's own timers and sockets count as "not empty".
const eventLoop = new ActiveResourcesProbe();

captureOutput();

const initStart = performance.now();
let initDurationMs: number | undefined;
const loading = settleHandler(() => loadHandler(boot.root, boot.handler)).then((loaded) => {
  initDurationMs = performance.now() - initStart;
  return loaded;
});
let busy = false;

process.on('uncaughtException', (error) => failAndExit(toErrorPayload(error), 129));
process.on('unhandledRejection', (reason) => failAndExit(platformErrors.unhandledRejection(reason), 128));

port.on('message', async (message: InvokeMessage) => {
  const loaded = await loading;
  const reportedInit = initDurationMs;
  initDurationMs = undefined;
  busy = true;
  const started = performance.now();
  const executed = await executeInvocation(loaded, boot.identity, message, eventLoop, JSON.parse(message.payload));
  const durationMs = performance.now() - started;
  busy = false;
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
});

/** As the AWS runtime does: an error escaping the handler fails the current invocation and ends the environment. */
function failAndExit(error: FunctionErrorPayload, code: number): void {
  console.error(`Uncaught ${error.errorType}: ${error.errorMessage}`);
  if (busy) {
    send({ type: 'result', payload: JSON.stringify(error), functionError: error.errorType, memoryUsedMB: usedHeapMB(true), fatal: true });
  }
  process.exit(code);
}


function captureOutput(): void {
  const levels: Array<[keyof Console, FunctionLogLevel]> = [
    ['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR'], ['debug', 'DEBUG'], ['trace', 'TRACE'],
  ];
  for (const [method, level] of levels) {
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
