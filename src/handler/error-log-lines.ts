/**
 * @module handler/error-log-lines
 * The messages the AWS Node.js runtime logs (at level ERROR) when a function fails:
 * `Invoke Error \t{...}` for a function error, `Uncaught Exception \t{...}` for an error
 * escaping user code (or its init), `Unhandled Promise Rejection \t{...}`. The JSON differs
 * from the Invoke payload: it carries the error's own fields and `stack` (not `trace`).
 * Built only on the error path.
 */
import { types } from './node-builtins.js';
import type { FunctionErrorPayload, HandlerLoadError } from './function-errors.js';

/** The message of the line logged for a function error (thrown, rejected, `callback(err)`, `context.fail`). */
export function invokeErrorMessage(error: unknown, payload: FunctionErrorPayload): string {
  return `Invoke Error \t${loggedJson(error, payload)}`;
}

/** The message of the line logged for an exception that escaped user code. */
export function uncaughtExceptionMessage(error: unknown, payload: FunctionErrorPayload): string {
  return `Uncaught Exception \t${loggedJson(error, payload)}`;
}

/** The message of the line logged for a failed init: AWS's runtime reports it as an uncaught exception. */
export function initErrorMessage(error: HandlerLoadError): string {
  const { errorType, errorMessage, trace } = error.payload;
  return `Uncaught Exception \t${JSON.stringify({ errorType, errorMessage, stack: trace ?? [] })}`;
}

/** The message of the line logged for a promise rejection nobody handled. */
export function unhandledRejectionMessage(reason: unknown, payload: FunctionErrorPayload): string {
  const logged = { errorType: payload.errorType, errorMessage: payload.errorMessage, reason, promise: {}, stack: payload.trace ?? [] };
  return `Unhandled Promise Rejection \t${loggedJson(logged, payload)}`;
}

/** The value as JSON, errors (at any depth) expanded to their type, message, own fields and stack lines; the payload if that fails. */
function loggedJson(value: unknown, payload: FunctionErrorPayload): string {
  try {
    const json = JSON.stringify(value, (_key, item: unknown) => (isError(item) ? expand(item) : item));
    if (json !== undefined) return json;
  } catch {
    // A circular or hostile value: the payload still says what failed.
  }
  const { errorType, errorMessage, trace } = payload;
  return JSON.stringify(trace === undefined ? { errorType, errorMessage } : { errorType, errorMessage, stack: trace });
}

function expand(error: Error & { code?: unknown }): Record<string, unknown> {
  // Own enumerable fields (a custom `name`, `statusCode`, ...) follow type and message, then the stack, as AWS logs them.
  const expanded: Record<string, unknown> = { errorType: error.name, errorMessage: error.message, code: error.code, ...error };
  delete expanded.stack;
  if (typeof error.stack === 'string') expanded.stack = error.stack.split('\n');
  return expanded;
}

function isError(value: unknown): value is Error {
  return types.isNativeError(value) || (typeof value === 'object' && value !== null && value instanceof Error);
}
