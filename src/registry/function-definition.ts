/**
 * @module registry/function-definition
 * What the runtime knows of one function version: everything needed to run it.
 */
import type { Context } from 'aws-lambda';

/** Where a function's execution environments run: a worker thread, the server's own event loop, or a child process. */
export type IsolationKind = 'worker' | 'inline' | 'process';

/** All isolation kinds, for validation and help text. */
export const ISOLATION_KINDS: readonly IsolationKind[] = ['worker', 'inline', 'process'];

/** What a function's code may reach on the network: everything the host reaches, or only serverfull's own APIs (its Runtime API, the Lambda APIs). */
export type FunctionNetwork = 'all' | 'none';

/** All network modes, for validation and help text. */
export const FUNCTION_NETWORKS: readonly FunctionNetwork[] = ['all', 'none'];

/** A Lambda handler as user code exports it: async, or with a callback. */
export type LambdaHandler = (
  event: any,
  context: Context,
  callback: (error?: unknown, result?: unknown) => void,
) => unknown;

/** One function version, immutable: the unit the pools and environments are built from. */
export interface FunctionDefinition {
  readonly name: string;
  /** `$LATEST` or a published version number. */
  readonly version: string;
  /** AWS runtime identifier: a Node.js runtime, or `provided*` for a custom runtime (always process isolation). */
  readonly runtime: string;
  /** AWS `file.export` handler, relative to `root`; or the handler itself (inline only); for a custom runtime, any string its `bootstrap` reads from `_HANDLER`. */
  readonly handler: string | LambdaHandler;
  /** The task root (`LAMBDA_TASK_ROOT`): the folder handler paths are relative to. */
  readonly root: string;
  /** Seconds before the invocation is stopped with `Sandbox.Timedout`. */
  readonly timeout: number;
  /** MB; also the worker's heap limit. */
  readonly memorySize: number;
  /** MB of `/tmp` (`EphemeralStorage.Size`), enforced in sandboxed process environments; undefined: 512, AWS's default. */
  readonly ephemeralStorage?: number;
  /** Most concurrent executions; undefined means only the server-wide limit applies. */
  readonly reservedConcurrency?: number;
  /** Seconds an Event invocation may wait in the queue before it is dropped; undefined: the server's `maxEventAge`. */
  readonly maximumEventAge?: number;
  /** Retries of an Event invocation after a function error (0 to 2); undefined: 2, as AWS. */
  readonly maximumRetryAttempts?: number;
  /** The topic ARN an Event invocation that failed for good is published to (`DeadLetterConfig`); undefined: none. */
  readonly deadLetterTarget?: string;
  /** Topics the manifest or template subscribes the function to, by name. */
  readonly topics?: readonly string[];
  /** The function's own environment variables, seen by no other function. */
  readonly environment: Readonly<Record<string, string>>;
  readonly isolation: IsolationKind;
  /** The network its code may use; undefined: the server's `functionNetwork`. `none` needs a sandboxed process environment. */
  readonly network?: FunctionNetwork;
  readonly description: string;
  /** The execution role (an IAM role ARN, or a role name): names the keys file's role whose policy the function's credentials carry. */
  readonly role?: string;
  /** Answer with a declared output instead of running the code; `false`: opted out of the `mock` setting. */
  readonly mock?: MockDeclaration | false;
}

/** What a mocked function answers, as its `mock` block declares it (see `runtime/mock-output`). */
export interface MockDeclaration {
  /** A fixed payload; any JSON value, `null` included (undefined: none declared). */
  readonly example?: unknown;
  /** A JSON Schema the payload is generated from. */
  readonly schema?: Readonly<Record<string, unknown>>;
  /** The generator's seed: a 32-bit integer (default: a fixed one), or `random` for a new value on every invocation. */
  readonly seed?: number | 'random';
  /** Error types a caller may trigger with `X-Amz-Invocation-Type: Error` and `X-Error-Type`. */
  readonly errors: readonly string[];
}

/** Looks functions up by name and qualifier; the seam later stores plug into. */
export interface FunctionRegistry {
  /** The definition for `name` at `qualifier` (`$LATEST` when undefined), or undefined. */
  resolve(name: string, qualifier: string | undefined): FunctionDefinition | undefined;
  /** Every function's `$LATEST` definition. */
  list(): readonly FunctionDefinition[];
}
