/**
 * @module runtime-api/runtime-api-errors
 * The errors of the Lambda Runtime API, with the status and `{errorMessage, errorType}`
 * body the Lambda service's own Runtime API answers (its `rapi/rendering` package). This
 * wire shape differs from the Lambda service API's (`errors.ts`): runtimes, not SDKs, read it.
 */
import { MAX_RESPONSE_BYTES } from '../handler/function-errors.js';

/** One Runtime API error: status and body. */
export interface RuntimeApiError {
  readonly status: number;
  readonly errorType: string;
  readonly errorMessage: string;
}

/** Every error the Runtime API answers. */
export const runtimeApiErrors = {
  /** A response or error for a request id that is not in flight, or already answered. */
  invalidRequestId: (): RuntimeApiError => ({ status: 400, errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' }),
  /** A response body over Lambda's payload limit. */
  tooLarge: (): RuntimeApiError => ({
    status: 413,
    errorType: 'RequestEntityTooLarge',
    errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
  }),
  /** A call the runtime's state does not allow, e.g. `init/error` after init, or `next` with an invocation unanswered. */
  invalidStateTransition: (from: string, to: string): RuntimeApiError => ({
    status: 403,
    errorType: 'InvalidStateTransition',
    errorMessage: `State transition from ${from} to ${to} failed for runtime. Error: State transition is not allowed`,
  }),
  /** A caller that is not the environment's runtime (another process on the host): serverfull's own, AWS has no such caller. */
  notThisEnvironment: (): RuntimeApiError => ({ status: 403, errorType: 'AccessDenied', errorMessage: 'This Runtime API serves only its own execution environment' }),
  /** A path or method the Runtime API does not have. */
  notFound: (method: string, path: string): RuntimeApiError => ({ status: 404, errorType: 'InvalidRequest', errorMessage: `No route for ${method} ${path}` }),
};
