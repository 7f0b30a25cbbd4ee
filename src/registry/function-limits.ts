/**
 * @module registry/function-limits
 * Lambda's limits on a function's configuration, defined once: the manifest, the SAM
 * template reader and the management API each check them with their own messages, but
 * against these values, so the three cannot drift apart.
 */

/** An inclusive range of integers with the value used when none is given. */
export interface IntegerLimit {
  readonly min: number;
  readonly max: number;
}

/** Milliseconds a cold start's init may take (AWS's on-demand limit), on top of the function's timeout, which starts with the handler. */
export const INIT_LIMIT_MS = 10_000;

/** `Timeout`, in seconds. */
export const TIMEOUT: IntegerLimit & { readonly default: number } = Object.freeze({ min: 1, max: 900, default: 3 });

/** `MemorySize`, in MB. */
export const MEMORY_SIZE: IntegerLimit & { readonly default: number } = Object.freeze({ min: 128, max: 10_240, default: 128 });

/** `EphemeralStorage.Size`: the function's `/tmp`, in MB. */
export const EPHEMERAL_STORAGE: IntegerLimit & { readonly default: number } = Object.freeze({ min: 512, max: 10_240, default: 512 });

/** `ReservedConcurrentExecutions`: the model's range; the account's unreserved minimum is checked by the catalog. */
export const RESERVED_CONCURRENCY: IntegerLimit = Object.freeze({ min: 0, max: 100_000 });

/** `MaximumEventAgeInSeconds` of a function's asynchronous invocation configuration (AWS's default: the maximum, 6 hours). */
export const MAXIMUM_EVENT_AGE: IntegerLimit = Object.freeze({ min: 60, max: 21_600 });
/** `MaximumRetryAttempts` of an event invoke configuration: retries after a function error. */
export const MAXIMUM_RETRY_ATTEMPTS: IntegerLimit = Object.freeze({ min: 0, max: 2 });

/** `Description` of a function, version or alias, in characters. */
export const MAX_DESCRIPTION_LENGTH = 256;

/** Lambda's pattern for a function's environment variable names. */
export const ENVIRONMENT_KEY = /^[a-zA-Z]([a-zA-Z0-9_])+$/;

/** Lambda's limit on a function's variables, measured as their JSON text. */
export const MAX_ENVIRONMENT_BYTES = 4096;

/** Keys Lambda sets itself and refuses in a function's `Environment`. */
export const RESERVED_ENVIRONMENT_KEYS: ReadonlySet<string> = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
]);

/** Whether variables, measured as Lambda does (their JSON text, in bytes), exceed the 4 KB limit. */
export function exceedsEnvironmentLimit(measured: string): boolean {
  return Buffer.byteLength(measured) > MAX_ENVIRONMENT_BYTES;
}
