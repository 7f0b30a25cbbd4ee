/**
 * @module runtime/lifecycle-events
 * The lifecycle of invocations and execution environments, published on `node:diagnostics_channel`
 * for metrics, logs and consoles to subscribe to. Publishers check `hasSubscribers` first and build
 * no message when no one listens, so an unobserved server pays one property read per event.
 *
 * Plain channels rather than a `TracingChannel`: an invocation ends in a callback that crosses a
 * thread or a process and is not Node's `(error, result)` shape, a throttle ends it before it
 * starts running, and subscribers want the outcome as data (`success`, `timeout`, ...) rather than
 * the `error`/`asyncEnd` split; the request id correlates start and end.
 */
import diagnosticsChannel, { type Channel } from 'node:diagnostics_channel';
import { inScope, outsideScope } from './inline-scope.js';

/** Channel names, to pass to `diagnostics_channel.subscribe`. */
export const lifecycleChannelNames = {
  /** `InvocationStartMessage`: the invoker took an invocation, before concurrency is checked. */
  invocationStart: 'serverfull:invocation:start',
  /** `InvocationEndMessage`: one per start, whatever the outcome (a throttle included), but for a fault of serverfull itself (a 500). */
  invocationEnd: 'serverfull:invocation:end',
  /** `ColdStartMessage`: an invocation that initialised its environment, published before its end. */
  coldStart: 'serverfull:coldstart',
  /** `EnvironmentCreateMessage`: a pool started a new execution environment. */
  environmentCreate: 'serverfull:environment:create',
  /** `EnvironmentStopMessage`: a pool stopped an environment, or found it dead. */
  environmentStop: 'serverfull:environment:stop',
} as const;

/** The kind of environment that runs a function: its isolation, or `mock` for a mocked function. */
export type EnvironmentKind = 'inline' | 'worker' | 'process' | 'mock';

/** The function version an event is about. */
export interface FunctionVersionRef {
  /**
   * The server the event comes from (`RunningServer.serverId`): unique in the process, so that a
   * subscriber serving one of several servers in one process keeps to its own.
   */
  readonly serverId: number;
  /** The function's name. */
  readonly functionName: string;
  /** `$LATEST` or a published version number. */
  readonly version: string;
}

/** Published on `serverfull:invocation:start`. */
export interface InvocationStartMessage extends FunctionVersionRef {
  /** The invocation's request id, also in its end message. */
  readonly requestId: string;
  /** The X-Ray trace id (`1-...-...`, the `Root` of `_X_AMZN_TRACE_ID`) the invocation belongs to. */
  readonly traceId: string;
}

/** The throttle reasons AWS gives in the `Reason` of a 429. */
export type ThrottleReason = 'ReservedFunctionConcurrentInvocationLimitExceeded' | 'ConcurrentInvocationLimitExceeded';

/** How an invocation ended. */
export type InvocationEndOutcome =
  /** The function answered. */
  | { readonly outcome: 'success' }
  /** The function (or its runtime, or the platform for it) failed with `errorType`, as `X-Amz-Function-Error` would say. */
  | { readonly outcome: 'functionError'; readonly errorType: string }
  /** The function ran into its timeout; its environment is stopped. */
  | { readonly outcome: 'timeout' }
  /** Refused with 429 before running, over the function's reserved or the server-wide concurrency. */
  | { readonly outcome: 'throttle'; readonly reason: ThrottleReason };

/** Published on `serverfull:invocation:end`. */
export type InvocationEndMessage = FunctionVersionRef & InvocationEndOutcome & {
  /** The request id of its start message. */
  readonly requestId: string;
  /** The X-Ray trace id of its start message: a subscriber needs no start subscription to know it. */
  readonly traceId: string;
  /** The handler's run time as the REPORT line gives it (init excluded); 0 for a throttle. */
  readonly durationMs: number;
  /** Set when this invocation initialised its environment (a cold start). */
  readonly initDurationMs?: number;
};

/**
 * Published on `serverfull:coldstart`. Inline environments of one function share one import, so
 * only the first of them reports it; a process environment whose runtime exited between
 * invocations starts a new one in place and reports its init again, without a new create.
 */
export interface ColdStartMessage extends FunctionVersionRef {
  /** The invocation that waited for the init. */
  readonly requestId: string;
  /** Time spent loading the function's code (its init phase). */
  readonly initDurationMs: number;
  /** False when the init failed: the invocation ends with the init error and the environment is stopped. */
  readonly initSucceeded: boolean;
}

/** Published on `serverfull:environment:create`, before the environment's init (a worker may be a spare thread started earlier). */
export interface EnvironmentCreateMessage extends FunctionVersionRef {
  /** Unique in this process; the stop message of the same environment has it too. */
  readonly environmentId: number;
  /** What kind of environment runs the function. */
  readonly kind: EnvironmentKind;
}

/**
 * Why an environment stopped: reaped after `idleTimeout`, its invocation timed out, its runtime
 * crashed or exited, its init failed, its version was retired (deleted, or replaced by new code or
 * configuration), or the server closed.
 */
export type EnvironmentStopReason = 'idle' | 'timeout' | 'crash' | 'initFailed' | 'retired' | 'close';

/** Published on `serverfull:environment:stop`. */
export interface EnvironmentStopMessage extends FunctionVersionRef {
  /** The id of its create message. */
  readonly environmentId: number;
  /** What kind of environment it was. */
  readonly kind: EnvironmentKind;
  /** Why it stopped. */
  readonly reason: EnvironmentStopReason;
}

/** Every lifecycle channel's message type, by channel name. */
export interface LifecycleMessages {
  'serverfull:invocation:start': InvocationStartMessage;
  'serverfull:invocation:end': InvocationEndMessage;
  'serverfull:coldstart': ColdStartMessage;
  'serverfull:environment:create': EnvironmentCreateMessage;
  'serverfull:environment:stop': EnvironmentStopMessage;
}

/** The channels publishers use: module-level, so `hasSubscribers` is one read on a long-lived object. */
export const invocationStartChannel = diagnosticsChannel.channel(lifecycleChannelNames.invocationStart);
/** See `lifecycleChannelNames.invocationEnd`. */
export const invocationEndChannel = diagnosticsChannel.channel(lifecycleChannelNames.invocationEnd);
/** See `lifecycleChannelNames.coldStart`. */
export const coldStartChannel = diagnosticsChannel.channel(lifecycleChannelNames.coldStart);
/** See `lifecycleChannelNames.environmentCreate`. */
export const environmentCreateChannel = diagnosticsChannel.channel(lifecycleChannelNames.environmentCreate);
/** See `lifecycleChannelNames.environmentStop`. */
export const environmentStopChannel = diagnosticsChannel.channel(lifecycleChannelNames.environmentStop);

/**
 * Publishes `message` to the subscribers of `channel`, outside any inline function's scope: an
 * inline invocation ends inside it, where a subscriber would see the function's `process.env` and
 * its console would write into the function's log. Call it only when `channel.hasSubscribers`.
 */
export function publish(channel: Channel, message: LifecycleMessages[keyof LifecycleMessages]): void {
  if (inScope()) outsideScope(() => channel.publish(message));
  else channel.publish(message);
}

/**
 * Subscribes `listener` to one lifecycle channel with its message typed; returns the unsubscribe
 * function. A convenience: `diagnostics_channel.subscribe(name, ...)` works the same.
 */
export function subscribeLifecycle<N extends keyof LifecycleMessages>(name: N, listener: (message: LifecycleMessages[N]) => void): () => void {
  const onMessage = (message: unknown) => listener(message as LifecycleMessages[N]);
  diagnosticsChannel.subscribe(name, onMessage);
  return () => void diagnosticsChannel.unsubscribe(name, onMessage);
}
