/**
 * @module runtime/platform-log-lines
 * The lines Lambda itself (not the function's runtime) writes into an invocation's log when
 * the invocation fails in a way the runtime cannot report: a timeout, a runtime that died, an
 * init that failed. Each comes with the server log message that stands for it.
 */
import type { FunctionErrorPayload } from '../handler/function-errors.js';
import type { PlatformFailure } from './execution-environment.js';

/** One platform line: `raw` for the Tail log, `message` for the server log. */
export interface PlatformLine {
  readonly raw: string;
  readonly message: string;
}

/** The platform line for a failure of `kind`; `initDurationMs` only matters to a failed init. */
export function platformLine(kind: PlatformFailure, requestId: string, error: FunctionErrorPayload, seconds: number, initDurationMs = 0): PlatformLine {
  switch (kind) {
    case 'timeout': {
      // Space-separated, unlike runtime lines: the platform writes it, not the Node.js runtime.
      const message = `Task timed out after ${seconds.toFixed(2)} seconds`;
      return { raw: `${new Date().toISOString()} ${requestId} ${message}\n`, message };
    }
    case 'runtime':
      return { raw: `${error.errorMessage}\n${error.errorType}\n`, message: `${error.errorMessage} (${error.errorType})` };
    case 'init': {
      // The init that failed ran inside this invocation: Lambda reports it in the invoke phase.
      const line = `INIT_REPORT Init Duration: ${initDurationMs.toFixed(2)} ms\tPhase: invoke\tStatus: error\tError Type: ${error.errorType}`;
      return { raw: `${line}\n`, message: line };
    }
  }
}
