/**
 * @module runtime/invocation-executor
 * The part of an invocation that runs next to user code, shared by every environment
 * kind: parse the event, build the context, run the handler, serialise the outcome.
 */
import type * as V8 from 'node:v8';
import { HandlerLoadError, platformErrors, toErrorPayload } from '../handler/function-errors.js';
import { createContext, type EnvironmentIdentity, type InvocationInfo } from '../handler/lambda-context.js';
import { runHandler, type EventLoopProbe, type HandlerOutcome } from '../handler/handler-runner.js';
import type { LambdaHandler } from '../registry/function-definition.js';
import { SampledReading } from './sampled-reading.js';

/** A loaded handler, or the error its loading ended with. */
export type LoadedHandler = { handler: LambdaHandler } | { loadError: HandlerLoadError };

/** The serialised outcome of running user code once. */
export interface ExecutedInvocation {
  payload: string;
  functionError?: string;
  /** The handler left the environment unusable (failed init). */
  fatal: boolean;
  /** What the handler failed with, for environments that treat some failures specially. */
  error?: unknown;
}

/** Runs one invocation against a loaded handler and calls `done` once with the outcome. */
export function executeInvocation(
  loaded: LoadedHandler,
  identity: EnvironmentIdentity,
  invocation: InvocationInfo,
  eventLoop: EventLoopProbe | undefined,
  event: unknown,
  done: (executed: ExecutedInvocation) => void,
): void {
  if ('loadError' in loaded) {
    // AWS resets an environment whose init failed: the next invocation initialises again.
    done({ payload: JSON.stringify(loaded.loadError.payload), functionError: loaded.loadError.payload.errorType, fatal: true });
    return;
  }
  runHandler(loaded.handler, event, createContext(identity, invocation), eventLoop, (outcome) => done(serialise(outcome)));
}

function serialise(outcome: HandlerOutcome): ExecutedInvocation {
  if (!outcome.ok) {
    const error = toErrorPayload(outcome.error);
    return { payload: JSON.stringify(error), functionError: error.errorType, fatal: false, error: outcome.error };
  }
  try {
    return { payload: JSON.stringify(outcome.result) ?? 'null', fatal: false };
  } catch {
    const error = platformErrors.marshal();
    return { payload: JSON.stringify(error), functionError: error.errorType, fatal: false };
  }
}

/** Loads a handler into the `LoadedHandler` shape, never throwing. */
export async function settleHandler(load: () => Promise<LambdaHandler>): Promise<LoadedHandler> {
  try {
    return { handler: await load() };
  } catch (error) {
    return { loadError: error instanceof HandlerLoadError ? error : new HandlerLoadError(toErrorPayload(error)) };
  }
}

/**
 * `node:v8`, loaded at the first reading: process runtimes, whose memory the server reads from the kernel, never read it,
 * and loading it would hold memory in each of them for nothing (`handler/node-builtins.ts`).
 */
let v8: typeof V8 | undefined;
/** Heap in use by this isolate, in MB: `getHeapStatistics` walks the heap's spaces (about 3% of the inline server's busy time per invocation). */
const usedHeap = new SampledReading(() => Math.ceil((v8 ??= process.getBuiltinModule('node:v8')).getHeapStatistics().used_heap_size / 1048576));

/** Heap in use by this isolate, in MB, read at most every 10 ms: the "Max Memory Used" of REPORT lines; 0 when not asked for. */
export function usedHeapMB(report: boolean): number {
  return report ? usedHeap.value : 0;
}
