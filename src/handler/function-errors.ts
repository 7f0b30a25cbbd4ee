/**
 * @module handler/function-errors
 * Function error payloads exactly as the AWS Node.js runtime reports them: the
 * `Runtime.*` / `Sandbox.*` errors of the platform, and user errors in the runtime's shape.
 */
import { types } from './node-builtins.js';

/** The body of an Invoke response carrying `X-Amz-Function-Error`. */
export interface FunctionErrorPayload {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/** Lambda's response cap: 6 MiB + 100 bytes. */
export const MAX_RESPONSE_BYTES = 6_291_556;

/** A user error (thrown, rejected or passed to a callback) in the runtime's shape. */
export function toErrorPayload(error: unknown): FunctionErrorPayload {
  try {
    if (types.isNativeError(error) || isErrorLike(error)) {
      const e = error as Error;
      return { errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n') };
    }
    return { errorType: typeof error, errorMessage: String((error as object).toString()), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function isErrorLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Error).name === 'string'
    && typeof (value as Error).message === 'string' && typeof (value as Error).stack === 'string';
}

/** How Go's `os.ProcessState` names the signals a runtime process commonly dies of. */
const SIGNAL_WORDS: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: 'killed', SIGABRT: 'aborted', SIGSEGV: 'segmentation fault', SIGTERM: 'terminated', SIGBUS: 'bus error', SIGINT: 'interrupt',
};

/** Platform errors, worded as AWS words them. */
export const platformErrors = {
  timeout: (requestId: string, seconds: number): FunctionErrorPayload => ({
    errorType: 'Sandbox.Timedout',
    errorMessage: `RequestId: ${requestId} Error: Task timed out after ${seconds.toFixed(2)} seconds`,
  }),
  exit: (requestId: string, code: number): FunctionErrorPayload => ({
    errorType: 'Runtime.ExitError',
    errorMessage: code === 0
      ? `RequestId: ${requestId} Error: Runtime exited without providing a reason`
      : `RequestId: ${requestId} Error: Runtime exited with error: exit status ${code}`,
  }),
  /** A runtime process ended by a signal, worded as Go (AWS's init process) prints it. */
  signal: (requestId: string, signal: NodeJS.Signals): FunctionErrorPayload => ({
    errorType: 'Runtime.ExitError',
    errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: ${SIGNAL_WORDS[signal] ?? signal}`,
  }),
  /** A custom runtime without a `bootstrap` that can be started. */
  invalidEntrypoint: (requestId: string, reason: string): FunctionErrorPayload => ({
    errorType: 'Runtime.InvalidEntrypoint',
    errorMessage: `RequestId: ${requestId} Error: ${reason}`,
  }),
  outOfMemory: (requestId: string): FunctionErrorPayload => ({
    errorType: 'Runtime.OutOfMemory',
    errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`,
  }),
  responseTooLarge: (): FunctionErrorPayload => ({
    errorType: 'Function.ResponseSizeTooLarge',
    errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
  }),
  unhandledRejection: (reason: unknown): FunctionErrorPayload => {
    const error = types.isNativeError(reason) ? reason : undefined;
    return {
      errorType: 'Runtime.UnhandledPromiseRejection',
      errorMessage: error ? `${error.name}: ${error.message}` : String(reason),
      trace: error?.stack?.split('\n') ?? [],
    };
  },
  unknown: (): FunctionErrorPayload => ({
    errorType: 'Runtime.Unknown',
    errorMessage: 'Unknown application error occurred',
  }),
  marshal: (): FunctionErrorPayload => ({
    errorType: 'Runtime.MarshalError',
    errorMessage: 'Unable to stringify response body',
  }),
};

/** An error the handler loader raises; its payload is what every invocation of the environment returns. */
export class HandlerLoadError extends Error {
  constructor(readonly payload: FunctionErrorPayload) {
    super(payload.errorMessage);
    this.name = payload.errorType;
  }
}
