/**
 * @module handler/handler-runner
 * Calls a handler with the AWS Node.js runtime's completion rules: a returned promise,
 * the callback (which waits for an empty event loop unless
 * `context.callbackWaitsForEmptyEventLoop` is false), or `context.succeed/fail/done`.
 * The first completion wins; later ones are ignored, as in AWS.
 * Callback-based rather than promise-based: it runs once per invocation on the hot path,
 * where every promise costs extra while AsyncLocalStorage is active (inline environments).
 */
import type { LambdaHandler } from '../registry/function-definition.js';
import type { LambdaContext } from './lambda-context.js';

/** How an invocation of user code ended. */
export type HandlerOutcome = { ok: true; result: unknown } | { ok: false; error: unknown };

/** How the caller's environment can wait for its event loop to drain, if it can. */
export interface EventLoopProbe {
  /** Resolves once only the environment's own resources remain. */
  whenEmpty(): Promise<void>;
}

/** Runs `handler` and calls `done` once, with its first completion. */
export function runHandler(
  handler: LambdaHandler,
  event: unknown,
  context: LambdaContext,
  eventLoop: EventLoopProbe | undefined,
  done: (outcome: HandlerOutcome) => void,
): void {
  let finished = false;
  let calledBack = false;
  const complete = (error: unknown, result?: unknown) => {
    if (finished) return;
    finished = true;
    done(error === undefined || error === null ? { ok: true, result } : { ok: false, error });
  };
  const callback = (error?: unknown, result?: unknown) => {
    if (finished || calledBack) return;
    calledBack = true;
    if (context.callbackWaitsForEmptyEventLoop && eventLoop) {
      void eventLoop.whenEmpty().then(() => complete(error, result));
    } else {
      complete(error, result);
    }
  };
  context.done = (error?: Error, result?: unknown) => complete(error, result);
  context.succeed = (result?: unknown) => complete(null, result);
  context.fail = (error: Error | string) => complete(error ?? 'handled');

  let returned: unknown;
  try {
    returned = handler(event, context, callback);
  } catch (error) {
    complete(error ?? 'handled');
    return;
  }
  if (isThenable(returned)) {
    returned.then((result) => complete(null, result), (error: unknown) => complete(error ?? 'handled'));
  } else if (eventLoop) {
    // A synchronous handler that never calls back returns null once the event loop drains.
    void eventLoop.whenEmpty().then(() => {
      if (!calledBack) complete(null, null);
    });
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}
