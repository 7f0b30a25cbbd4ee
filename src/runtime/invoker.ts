/**
 * @module runtime/invoker
 * Runs one invocation end to end: takes an environment from the function's pool,
 * enforces the timeout (destroying the environment, as AWS does), caps the response
 * size, writes the function's output to the server log and builds the Tail log, adding the
 * platform's lines when an invocation times out, its runtime dies or its init fails. It publishes
 * each invocation's start, end and cold start (`lifecycle-events`), and hands each invocation's log
 * to the recorder that stores it, when one is set (`invocation-recorder`).
 */
import { AwsError } from '../errors.js';
import type { FunctionAccessProvider } from '../handler/function-access.js';
import type { ModuleImporter } from '../handler/handler-loader.js';
import { MAX_RESPONSE_BYTES, platformErrors, type FunctionErrorPayload } from '../handler/function-errors.js';
import type { Logger, LogLevel } from '../log.js';
import type { FunctionDefinition, FunctionNetwork } from '../registry/function-definition.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import type { SandboxHost } from './sandbox-support.js';
import { INIT_LIMIT_MS } from '../registry/function-limits.js';
import { EnvironmentFactory, environmentKind } from './environment-factory.js';
import { ScalingPolicy, type ScalingMode } from './scaling-policy.js';
import type { NodeInstalls } from './node-installs.js';
import { EnvironmentPool, type EnvironmentWaiter } from './environment-pool.js';
import { NOT_STARTED, platformFailure, type ExecutionEnvironment, type FunctionLogLevel, type InvocationOutcome, type InvocationRequest, type LogSink } from './execution-environment.js';
import { InvocationLog } from './invocation-log.js';
import type { InvocationRecorder, RecordedStatus } from './invocation-recorder.js';
import {
  coldStartChannel, invocationEndChannel, invocationStartChannel, publish,
  type ColdStartMessage, type InvocationEndMessage, type InvocationEndOutcome, type InvocationStartMessage, type ThrottleReason,
} from './lifecycle-events.js';
import { platformLine } from './platform-log-lines.js';
import { newTraceHeader, traceIdOf } from '../handler/trace-header.js';

/** One invocation, as the Invoke API hands it over. */
export interface InvokeInput {
  readonly definition: FunctionDefinition;
  readonly requestId: string;
  /**
   * The event as JSON text. Callers that build the event themselves (the API Gateway) leave it out: it is made
   * from `event` only when an environment needs the text (worker and process ones), never for inline ones.
   */
  readonly payload?: string;
  /** The same event, parsed. */
  readonly event: unknown;
  readonly invokedFunctionArn: string;
  /** Decoded client context JSON text. */
  readonly clientContext?: string;
  /** Return the last 4 KB of the log. */
  readonly tail: boolean;
  /** The trace header the caller brought (`traceHeaderFrom`); a new trace when absent. */
  readonly traceHeader?: string;
}

/** What the Invoke API sends back. */
export interface InvokeOutput {
  readonly payload: string;
  readonly functionError?: string;
  readonly executedVersion: string;
  /** Base64 log tail, when asked for. */
  readonly logResult?: string;
}

/** Settings the invoker needs. */
export interface InvokerOptions {
  readonly region: string;
  /** Account-wide concurrent executions. */
  readonly concurrency: number;
  /** Seconds an environment may stay idle before it is reaped. */
  readonly idleTimeout: number;
  readonly logger: Logger;
  /** The endpoint and credentials each new environment's code gets to call serverfull; none, none set. */
  readonly functionAccess?: FunctionAccessProvider;
  /** How process environments are sandboxed; none: unsandboxed. */
  readonly sandbox?: SandboxHost;
  /** The network of functions that do not choose theirs; default `all`. */
  readonly functionNetwork?: FunctionNetwork;
  /** Installed Node.js builds that process environments run their function's runtime on; none: the server's Node.js. */
  readonly nodeInstalls?: NodeInstalls;
  /** Where environments come from; default: the real kinds, by each definition's isolation. Tests pass in-memory ones. */
  readonly environments?: EnvironmentFactory;
  /** Receives every invocation's log lines and summary (the stored log); none: nothing is recorded. */
  readonly recorder?: InvocationRecorder;
  /** Loads inline functions' handler modules instead of `import()` (hot reload); none: `import()`. */
  readonly inlineImporter?: ModuleImporter;
  /** When worker and process environments scale out (`scaling-policy`); none: `eager`, a new environment whenever all are busy, as Lambda. */
  readonly scaling?: ScalingMode | ScalingPolicy;
}

/**
 * How long an invocation an environment holds behind the one it runs (`acceptsNext`) may wait there before it is
 * recalled, to run on whichever environment is free first, as it would have without being held. Holding pays for
 * invocations far shorter than this, which start long before.
 */
const HELD_WAIT_MS = 20;

/** Characters of an error payload the server log repeats when no log line said what failed. */
const MAX_LOGGED_PAYLOAD = 2048;

const LOG_LEVELS: Record<Exclude<FunctionLogLevel, undefined>, LogLevel> = {
  TRACE: 'debug', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error',
};

let lastServerId = 0;

/** Invokes functions through per-version environment pools. */
export class Invoker {
  private readonly pools = new Map<string, EnvironmentPool>();
  /** Reserved concurrency per function name, across its versions. */
  private readonly reserved = new Map<string, ConcurrencyLimit>();
  private readonly account: ConcurrencyLimit;
  private readonly factory: EnvironmentFactory;
  private readonly reaper: NodeJS.Timeout;
  /** The scaling of worker and process environments, which share the host's cores; inline ones cost no more than the call itself. */
  private readonly scaling: ScalingPolicy;
  /** Names this invoker's server in its lifecycle events: several servers may share one process. */
  readonly serverId = ++lastServerId;
  /** Told when an execution ends and frees its slot (the Event queue waits on it); none: no call. */
  private slotFreed: (() => void) | undefined;

  constructor(private readonly options: InvokerOptions) {
    this.account = new ConcurrencyLimit(options.concurrency);
    this.scaling = options.scaling instanceof ScalingPolicy ? options.scaling : new ScalingPolicy(options.scaling ?? 'eager');
    this.factory = options.environments ?? new EnvironmentFactory(options.region, options.functionAccess, options.sandbox, options.functionNetwork, options.nodeInstalls, options.inlineImporter);
    const idleMs = options.idleTimeout * 1000;
    this.reaper = setInterval(() => {
      for (const pool of this.pools.values()) pool.reap(idleMs);
    }, Math.min(idleMs, 30_000)).unref();
  }

  /** Invocations running now, across all functions. */
  get inFlight(): number {
    return this.account.inFlight;
  }

  /**
   * Runs one invocation and calls `done` once with its output; throws `TooManyRequestsException`
   * at once when over a concurrency limit. Callback-based to keep promises off the hot path.
   */
  invoke(input: InvokeInput, done: (output: InvokeOutput) => void): void {
    const { definition, requestId } = input;
    const traceHeader = input.traceHeader ?? newTraceHeader();
    const traceId = traceIdOf(traceHeader);
    const pool = this.poolFor(definition);
    if (invocationStartChannel.hasSubscribers) {
      publish(invocationStartChannel, {
        serverId: this.serverId, functionName: definition.name, version: definition.version, requestId, traceId,
      } satisfies InvocationStartMessage);
    }
    let environment: ExecutionEnvironment | undefined;
    try {
      environment = pool.acquire();
    } catch (error) {
      if (invocationEndChannel.hasSubscribers) publishThrottle(this.serverId, input, traceId, error);
      throw error;
    }
    if (environment !== undefined) return this.run(input, done, pool, environment, traceHeader, traceId);
    // Every environment is busy and the scaling policy has the invocation wait for one: it runs once it has one.
    pool.enqueue(this.waiter(input, done, pool, traceHeader, traceId));
  }

  /** What runs an invocation once it has waited for an environment, or fails it when none could be had. */
  private waiter(input: InvokeInput, done: (output: InvokeOutput) => void, pool: EnvironmentPool, traceHeader: string, traceId: string): EnvironmentWaiter {
    return (waited, error) => {
      if (waited !== undefined) return this.run(input, done, pool, waited, traceHeader, traceId);
      const { definition, requestId } = input;
      this.options.logger.log('error', `no execution environment: ${(error as Error)?.message ?? String(error)}`, { function: definition.name, requestId, traceId });
      const failure = platformErrors.unknown();
      // The caller gets a function error, not a 500: subscribers see the invocation end as one, or it would stay in flight for them.
      if (invocationEndChannel.hasSubscribers) publishUnrunEnd(this.serverId, input, traceId, { outcome: 'functionError', errorType: failure.errorType });
      done({ payload: JSON.stringify(failure), functionError: failure.errorType, executedVersion: definition.version });
    };
  }

  /** Runs the invocation in `environment`, taken from `pool`, to its end. */
  private run(input: InvokeInput, done: (output: InvokeOutput) => void, pool: EnvironmentPool, environment: ExecutionEnvironment, traceHeader: string, traceId: string): void {
    const { definition, requestId } = input;
    let started = performance.now();
    const timeoutMs = definition.timeout * 1000;
    const log = input.tail ? new InvocationLog(requestId, definition.version) : undefined;
    const { logger, recorder } = this.options;
    // Every server log line of the invocation names it and its trace; built once, shared by its lines.
    const fields = { function: definition.name, requestId, traceId };
    // Held behind another invocation of the environment's (`acceptsNext`): it starts, and is recorded, when that one ends.
    const held = environment.inFlight !== undefined && environment.inFlight > 0;
    const begin = () => recorder?.begin({
      functionName: definition.name, version: definition.version, requestId, traceId,
      logStreamName: this.factory.logStreamOf(environment, definition.version), startTime: Date.now(),
    });
    let recording = held ? undefined : begin();

    let settled = false;
    /** An ERROR line went through the sink: the runtime (or the platform) already logged the failure. */
    let errorLogged = false;
    const sink: LogSink = (level, text, raw) => {
      if (level === 'ERROR') errorLogged = true;
      log?.append(level, text, raw);
      if (recording !== undefined) recorder!.line(recording, level, text, raw);
      const serverLevel = level === undefined ? 'info' : LOG_LEVELS[level];
      if (logger.enabled(serverLevel)) logger.log(serverLevel, text.endsWith('\n') ? text.slice(0, -1) : text, fields);
    };
    const finish = (outcome: InvocationOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Given back unstarted: nothing of it ran or was recorded, and its slots are still its own.
      if (outcome === NOT_STARTED) return pool.requeue(this.waiter(input, done, pool, traceHeader, traceId), started);
      let { payload, functionError } = outcome;
      if (payload.length * 3 > MAX_RESPONSE_BYTES && Buffer.byteLength(payload) > MAX_RESPONSE_BYTES) {
        const error = platformErrors.responseTooLarge();
        payload = JSON.stringify(error);
        functionError = error.errorType;
      }
      const { failure } = outcome;
      if (functionError !== undefined) {
        if (failure !== undefined) {
          const line = platformLine(failure, requestId, errorPayload(payload, functionError), definition.timeout, outcome.initDurationMs);
          sink('ERROR', line.message, line.raw);
        } else if (!errorLogged && logger.enabled('error')) {
          // A custom runtime that posted an error without logging one: the server log still tells, the Tail log stays the runtime's.
          logger.log('error', `function error: ${payload.length > MAX_LOGGED_PAYLOAD ? payload.slice(0, MAX_LOGGED_PAYLOAD) + '...' : payload}`, { ...fields, functionError });
        }
      }
      const durationMs = outcome.durationMs ?? performance.now() - started;
      const logResult = log?.finish({
        durationMs,
        memorySize: definition.memorySize,
        memoryUsedMB: outcome.memoryUsedMB,
        // A failed init is reported by its INIT_REPORT line, not in REPORT.
        initDurationMs: failure === 'init' ? undefined : outcome.initDurationMs,
        status: failure === undefined ? undefined : failure === 'timeout' ? 'timeout' : 'error',
        errorType: functionError,
      });
      if (recording !== undefined) {
        const status: RecordedStatus = failure === 'timeout' ? 'timeout' : functionError === undefined ? 'success' : 'error';
        recorder!.end(recording, {
          durationMs, memorySize: definition.memorySize, memoryUsedMB: outcome.memoryUsedMB, initDurationMs: outcome.initDurationMs,
          initFailed: failure === 'init', status, errorType: functionError,
        });
      }
      // Only now: the invocation the environment takes next starts its log after this one's end.
      pool.release(environment, outcome.reusable, outcome.failure);
      if (this.slotFreed !== undefined) this.slotFreed();
      if (outcome.initDurationMs !== undefined && coldStartChannel.hasSubscribers) {
        publish(coldStartChannel, {
          serverId: this.serverId, functionName: definition.name, version: definition.version, requestId, initDurationMs: outcome.initDurationMs, initSucceeded: failure !== 'init',
        } satisfies ColdStartMessage);
      }
      if (invocationEndChannel.hasSubscribers) {
        const ended: InvocationEndOutcome = failure === 'timeout' ? { outcome: 'timeout' }
          : functionError === undefined ? { outcome: 'success' } : { outcome: 'functionError', errorType: functionError };
        publish(invocationEndChannel, {
          serverId: this.serverId, functionName: definition.name, version: definition.version, requestId, traceId, durationMs, initDurationMs: outcome.initDurationMs, ...ended,
        } satisfies InvocationEndMessage);
      }
      done({ payload, functionError, executedVersion: definition.version, logResult });
    };
    // A timed-out environment is not reusable: the pool disposes it, as AWS does.
    const timedOut = () => finish(platformFailure(platformErrors.timeout(requestId, definition.timeout), { durationMs: timeoutMs, failure: 'timeout' }));
    // As in AWS, a cold start's init does not count against the function's timeout: it has a limit of its own, and the
    // timeout starts when the handler does. Beyond the init limit, AWS runs the init again inside the invocation,
    // under the timeout: together, at most the init limit plus the timeout.
    const cold = environment.ready === false;
    let timer = held ? setTimeout(() => environment.recallNext?.(requestId), HELD_WAIT_MS)
      : setTimeout(timedOut, cold ? INIT_LIMIT_MS + timeoutMs : timeoutMs);

    const request = new PreparedInvocation(
      requestId, input.payload, input.event, input.invokedFunctionArn, Date.now() + timeoutMs, input.clientContext, traceHeader,
      // A held invocation is recorded only once it starts, but its REPORT line needs the memory all the same.
      input.tail || recorder !== undefined,
    );
    try {
      environment.invoke(request, sink, finish, cold || held ? () => {
        if (cold) pool.initialized(environment, performance.now() - started);
        if (settled) return;
        clearTimeout(timer);
        timer = setTimeout(timedOut, timeoutMs);
        request.deadlineMs = Date.now() + timeoutMs;
        if (held) {
          started = performance.now();
          recording = begin();
        }
      } : undefined);
    } catch (error) {
      // An environment failing in itself (not the function) is still only this invocation's error.
      logger.log('error', `execution environment failed: ${(error as Error)?.stack ?? String(error)}`, fields);
      finish(platformFailure(platformErrors.unknown()));
    }
  }

  /** `invoke` as a promise, for callers off the hot path; rejects with `TooManyRequestsException`. */
  invokeAsync(input: InvokeInput): Promise<InvokeOutput> {
    return new Promise((resolve, reject) => {
      try {
        this.invoke(input, resolve);
      } catch (error) {
        reject(error);
      }
    });
  }

  /** Sets the one listener told each time an execution ends and its concurrency slot is free again. */
  onSlotFreed(listener: () => void): void {
    this.slotFreed = listener;
  }

  /** Sets (or, with undefined, lifts) a function's reserved concurrency; invocations in flight are not affected. */
  setReservedConcurrency(name: string, limit: number | undefined): void {
    this.reservedFor(name).limit = limit ?? Infinity;
  }

  /** Stops the environments of a function version that no longer exists. */
  retire(name: string, version: string): void {
    const key = `${name}:${version}`;
    void this.pools.get(key)?.retire('retired');
    this.pools.delete(key);
  }

  /** Starts a worker thread for the declared worker functions ahead of their first cold start (`EnvironmentFactory.prepareWorkers`). */
  prepareWorkers(definitions: readonly FunctionDefinition[]): void {
    this.factory.prepareWorkers(definitions);
  }

  /** Stops every environment of every function. */
  async close(): Promise<void> {
    clearInterval(this.reaper);
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all([...pools.map((pool) => pool.retire('close')), this.factory.close()]);
  }

  private poolFor(definition: FunctionDefinition): EnvironmentPool {
    const key = `${definition.name}:${definition.version}`;
    const pool = this.pools.get(key);
    if (pool?.definition === definition) return pool;
    // A new definition object for the same version means new code or configuration:
    // later invocations get new environments, those in flight finish on the old ones.
    void pool?.retire('retired');
    const kind = environmentKind(definition);
    const scaling = kind === 'worker' || kind === 'process' ? this.scaling : undefined;
    const fresh = new EnvironmentPool(definition, this.factory, this.account, this.reservedFor(definition.name), scaling, this.serverId);
    this.pools.set(key, fresh);
    return fresh;
  }

  private reservedFor(name: string): ConcurrencyLimit {
    let limit = this.reserved.get(name);
    if (!limit) this.reserved.set(name, (limit = new ConcurrencyLimit(Infinity)));
    return limit;
  }
}

/** The request an environment receives; its JSON text is made on first read, when the caller brought only the event. */
class PreparedInvocation implements InvocationRequest {
  constructor(
    readonly requestId: string,
    private text: string | undefined,
    readonly event: unknown,
    readonly invokedFunctionArn: string,
    /** Moved on when a cold start's init ends: the timeout counts from there. */
    public deadlineMs: number,
    readonly clientContext: string | undefined,
    readonly traceHeader: string,
    readonly report: boolean,
  ) {}

  get payload(): string {
    return (this.text ??= JSON.stringify(this.event));
  }
}

/** Publishes the end of an invocation refused with 429; anything else `acquire` threw is not a throttle and passes unpublished. */
function publishThrottle(serverId: number, input: InvokeInput, traceId: string, error: unknown): void {
  const reason = error instanceof AwsError ? error.extra.Reason : undefined;
  if (reason !== 'ReservedFunctionConcurrentInvocationLimitExceeded' && reason !== 'ConcurrentInvocationLimitExceeded') return;
  publishUnrunEnd(serverId, input, traceId, { outcome: 'throttle', reason: reason satisfies ThrottleReason });
}

/** The end of an invocation that never ran in an environment (refused, or left without one): it took no time. */
function publishUnrunEnd(serverId: number, input: InvokeInput, traceId: string, ended: InvocationEndOutcome): void {
  const { name, version } = input.definition;
  publish(invocationEndChannel, {
    serverId, functionName: name, version, requestId: input.requestId, traceId, durationMs: 0, ...ended,
  } satisfies InvocationEndMessage);
}

/** The error payload of a failed invocation, parsed on the error path only; a payload that is not an error object is named by its type. */
function errorPayload(payload: string, errorType: string): FunctionErrorPayload {
  try {
    const parsed = JSON.parse(payload) as Partial<FunctionErrorPayload> | null;
    return { errorType, errorMessage: typeof parsed?.errorMessage === 'string' ? parsed.errorMessage : payload };
  } catch {
    return { errorType, errorMessage: payload };
  }
}
