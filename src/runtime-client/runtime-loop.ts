/**
 * @module runtime-client/runtime-loop
 * serverfull's Node.js runtime: init once, then GET next → run → POST response, forever,
 * with the AWS Node runtime's semantics (console lines with the request id, completion
 * rules, uncaught errors end the environment). It owns the process it runs in: console,
 * `_X_AMZN_TRACE_ID`, `uncaughtException`. Kept free of the handler loader and tsx: it is
 * bundled with a user's handler into a self-contained runtime, so its imports stay few.
 */
import { format } from '../handler/node-builtins.js';
import { platformErrors, toErrorPayload, type FunctionErrorPayload } from '../handler/function-errors.js';
import type { EnvironmentIdentity } from '../handler/lambda-context.js';
import type { LambdaHandler } from '../registry/function-definition.js';
import { ActiveResourcesProbe } from '../runtime/event-loop-probe.js';
import { initErrorMessage, invokeErrorMessage, uncaughtExceptionMessage, unhandledRejectionMessage } from '../handler/error-log-lines.js';
import { CONSOLE_LEVELS, type FunctionLogLevel } from '../runtime/execution-environment.js';
import { executeInvocation, settleHandler, type ExecutedInvocation, type LoadedHandler } from '../runtime/invocation-executor.js';
import { RuntimeApiClient, type NextInvocation, type RuntimeApiCalls, type RuntimeApiFailure } from './runtime-api-client.js';
import { RuntimeChannelClient } from './runtime-channel-client.js';
import { TraceVariable } from './trace-variable.js';

/** What the loop runs: user code that `init` loads, or a fixed answer that loads no code (mock mode). */
export type RuntimeFunction =
  | { readonly init: () => Promise<LambdaHandler> }
  | { readonly answer: () => string };

/** Options of `startRuntimeLoop`. */
export interface RuntimeLoopOptions {
  /** `host:port` of the Runtime API, as `AWS_LAMBDA_RUNTIME_API` gives it. */
  readonly runtimeApi: string;
  /** The file descriptor of serverfull's private channel, when the server gave one: used instead of HTTP. */
  readonly channelFd?: number;
  readonly identity: EnvironmentIdentity;
  readonly function: RuntimeFunction;
}

/** How a loop ended, with the exit code AWS's Node runtime would end its process with. */
export type RuntimeLoopEnd =
  | { readonly reason: 'stopped'; readonly exitCode: 0 }
  /** Loading the handler failed; the error was posted to `/init/error`. */
  | { readonly reason: 'init-failed'; readonly exitCode: 1; readonly error: FunctionErrorPayload }
  /** The Runtime API could not be reached, or answered that the environment is broken. */
  | { readonly reason: 'api-failed'; readonly exitCode: 1; readonly message: string }
  /** An uncaught exception (129) or unhandled rejection (128); posted for the open invocation, if any. */
  | { readonly reason: 'crashed'; readonly exitCode: 128 | 129; readonly error: FunctionErrorPayload };

/** A running loop. */
export interface RuntimeLoop {
  /** Settles (never rejects) once the loop has ended and given the process back. */
  readonly ended: Promise<RuntimeLoopEnd>;
  /** Ends the loop: a long poll is dropped, an invocation in flight first finishes and answers. */
  stop(): Promise<RuntimeLoopEnd>;
}

/** Starts the runtime loop in this process; the caller exits with `ended`'s `exitCode` when it must. */
export function startRuntimeLoop(options: RuntimeLoopOptions): RuntimeLoop {
  const runtime = new NodeRuntime(options);
  return { ended: runtime.ended, stop: () => runtime.stop() };
}

type Phase = 'init' | 'polling' | 'invoking' | 'posting' | 'ended';

class NodeRuntime {
  readonly ended: Promise<RuntimeLoopEnd>;
  private resolveEnded!: (end: RuntimeLoopEnd) => void;
  private readonly client: RuntimeApiCalls;
  private readonly identity: EnvironmentIdentity;
  private readonly fn: RuntimeFunction;
  private phase: Phase = 'init';
  /** An answer went with a request for the next event (`answerThenNext`): the loop waits for that event as it would in a long poll. */
  private awaitingNext = false;
  private stopping = false;
  private crashing = false;
  /** How the loop ends once an uncaught error has been posted. */
  private crashEnd: RuntimeLoopEnd | undefined;
  private loaded: LoadedHandler | undefined;
  private probe: ActiveResourcesProbe | undefined;
  private recounted = false;
  /** The open invocation: what an uncaught error is posted against. */
  private requestId: string | undefined;
  /** The request id console lines carry; AWS prints `undefined` outside an invocation. */
  private logRequestId: string | undefined;
  private readonly restoreConsole: () => void;
  private readonly traceVariable = new TraceVariable();
  /**
   * Holds the process open while the loop runs: the client's idle socket is unref'd, so a handler
   * waiting on nothing (a never-settling promise, a callback waiting for the empty loop) would
   * otherwise let Node.js exit under it. AWS's runtime is likewise kept alive until it times out.
   */
  private readonly keepAlive = setInterval(() => {}, 2 ** 30);
  private readonly onUncaughtException = (error: unknown) => {
    const payload = toErrorPayload(error);
    this.crash(payload, uncaughtExceptionMessage(error, payload), 129);
  };
  private readonly onUnhandledRejection = (reason: unknown) => {
    const payload = platformErrors.unhandledRejection(reason);
    this.crash(payload, unhandledRejectionMessage(reason, payload), 128);
  };

  constructor(options: RuntimeLoopOptions) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    this.client = options.channelFd === undefined ? new RuntimeApiClient(options.runtimeApi) : new RuntimeChannelClient(options.channelFd);
    this.identity = options.identity;
    this.fn = options.function;
    // Node creates the stdio handles on first use: created now, they are part of the idle baseline.
    void process.stdout;
    void process.stderr;
    this.restoreConsole = this.captureConsole();
    process.on('uncaughtException', this.onUncaughtException);
    process.on('unhandledRejection', this.onUnhandledRejection);
    // One turn first, so that the probe's baseline is taken on a settled event loop, before user code runs.
    setImmediate(() => void this.init());
  }

  stop(): Promise<RuntimeLoopEnd> {
    this.stopping = true;
    // Only a long poll is cut short; init and an invocation end the loop when they are done.
    if (this.phase === 'polling' || this.awaitingNext) this.client.close();
    return this.ended;
  }

  private async init(): Promise<void> {
    if ('answer' in this.fn) return this.poll();
    this.probe = new ActiveResourcesProbe();
    const loaded = await settleHandler(this.fn.init);
    if (this.crashing) return;
    if ('loadError' in loaded) {
      const error = loaded.loadError.payload;
      this.writeLine('ERROR', initErrorMessage(loaded.loadError));
      const failure = await this.client.initError(error);
      if (failure?.fatal) return this.end({ reason: 'api-failed', exitCode: 1, message: failure.message });
      return this.end({ reason: 'init-failed', exitCode: 1, error });
    }
    this.loaded = loaded;
    this.poll();
  }

  private poll(): void {
    if (this.stopping) return this.end({ reason: 'stopped', exitCode: 0 });
    this.phase = 'polling';
    this.client.next(this.onNext);
  }

  private readonly onNext = (failure: RuntimeApiFailure | undefined, invocation: NextInvocation | undefined): void => {
    if (this.crashing) return this.failCrashed(invocation);
    if (failure) return this.end(this.stopping ? { reason: 'stopped', exitCode: 0 } : { reason: 'api-failed', exitCode: 1, message: failure.message });
    this.phase = 'invoking';
    const { requestId } = invocation!;
    this.requestId = requestId;
    if ('answer' in this.fn) return this.answer(this.fn.answer);
    if (!this.recounted) {
      // Once, at the first invocation: the client's socket is still in use (ref'd) here, one resource.
      this.recounted = true;
      this.probe!.recount(1);
    }
    this.logRequestId = requestId;
    this.traceVariable.set(invocation!.traceId);
    // Cognito identity is rare (mobile SDK callers): only then does a per-invocation wrapper get built.
    const loaded = invocation!.cognitoIdentity === undefined ? this.loaded! : withIdentity(this.loaded!, invocation!.cognitoIdentity);
    let event: unknown;
    try {
      event = JSON.parse(invocation!.body);
      if (invocation!.clientContext !== undefined) JSON.parse(invocation!.clientContext);
    } catch (error) {
      // An event or client context that is not JSON: the invocation fails, the environment lives on.
      return this.onExecuted({ ...failed(toErrorPayload(error)), fatal: false });
    }
    executeInvocation(loaded, this.identity, invocation!, this.probe, event, this.onExecuted);
  };

  private answer(answer: () => string): void {
    let payload: string;
    try {
      payload = answer();
    } catch (error) {
      return this.onExecuted({ ...failed(toErrorPayload(error)), fatal: false });
    }
    this.onExecuted({ payload, fatal: false });
  }

  private readonly onExecuted = (executed: ExecutedInvocation): void => {
    // After an uncaught error the invocation's answer is the error `crash` posts.
    if (this.crashing) return;
    const requestId = this.requestId!;
    // As AWS's runtime does, the error goes into the invocation's log before it is posted.
    if (executed.functionError !== undefined) this.writeLine('ERROR', invokeErrorMessage(executed.error, JSON.parse(executed.payload) as FunctionErrorPayload));
    this.requestId = undefined;
    this.logRequestId = undefined;
    this.phase = 'posting';
    if (this.client.answerThenNext !== undefined && !this.stopping) {
      this.awaitingNext = true;
      this.client.answerThenNext(requestId, executed.payload, executed.functionError, this.onAnsweredThenNext);
    } else if (executed.functionError === undefined) this.client.respond(requestId, executed.payload, this.onPosted);
    else this.client.fail(requestId, executed.payload, executed.functionError, this.onPosted);
  };

  private readonly onAnsweredThenNext = (posted: RuntimeApiFailure | undefined, next: RuntimeApiFailure | undefined, invocation: NextInvocation | undefined): void => {
    this.awaitingNext = false;
    if (posted !== undefined) return this.onPosted(posted);
    this.phase = 'polling';
    this.onNext(next, invocation);
  };

  /**
   * An uncaught error came after the last answer, while the runtime waited for its next event: as in AWS, where the
   * environment is frozen in between and the error surfaces in the next invocation, that invocation fails with it.
   */
  private failCrashed(invocation: NextInvocation | undefined): void {
    const end = () => this.end(this.crashEnd!);
    if (invocation === undefined || this.crashEnd?.reason !== 'crashed') return end();
    const { error } = this.crashEnd;
    this.client.fail(invocation.requestId, JSON.stringify(error), error.errorType, end);
  }

  private readonly onPosted = (failure: RuntimeApiFailure | undefined): void => {
    if (this.crashing) return this.end(this.crashEnd!);
    if (failure?.fatal) return this.end({ reason: 'api-failed', exitCode: 1, message: failure.message });
    // 413 (too large), 400 (unknown id): the Runtime API answers the caller itself; this environment goes on.
    if (failure) process.stderr.write(`serverfull runtime: ${failure.message}\n`);
    this.poll();
  };

  /** As AWS's runtime does: an error escaping user code fails the open invocation (or init), then the process ends. */
  private crash(error: FunctionErrorPayload, message: string, exitCode: 128 | 129): void {
    if (this.crashing || this.phase === 'ended') return;
    this.crashing = true;
    this.crashEnd = { reason: 'crashed', exitCode, error };
    this.writeLine('ERROR', message);
    const end = () => this.end(this.crashEnd!);
    if (this.phase === 'invoking') this.client.fail(this.requestId!, JSON.stringify(error), error.errorType, end);
    else if (this.phase === 'init' && !('answer' in this.fn)) void this.client.initError(error).then(end);
    // A response already on its way is let through; onPosted then ends the loop.
    else if (this.phase !== 'posting') end();
  }

  private end(end: RuntimeLoopEnd): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    clearInterval(this.keepAlive);
    this.client.close();
    this.restoreConsole();
    this.traceVariable.release();
    process.off('uncaughtException', this.onUncaughtException);
    process.off('unhandledRejection', this.onUnhandledRejection);
    this.resolveEnded(end);
  }

  /**
   * One log line on stdout, synchronously, as the AWS Node runtime writes it: newlines inside the
   * message become `\r`, so that a multi-line message (a stack) stays one line, one CloudWatch event.
   */
  private writeLine(level: FunctionLogLevel, message: string): void {
    const text = message.includes('\n') ? message.replace(/\n/g, '\r') : message;
    process.stdout.write(`${new Date().toISOString()}\t${this.logRequestId}\t${level}\t${text}\n`);
  }

  /** console.* writes one line each (`writeLine`); raw writes stay raw. */
  private captureConsole(): () => void {
    const target = console as unknown as Record<string, unknown>;
    const originals = CONSOLE_LEVELS.map(([method]) => [method, target[method]] as const);
    for (const [method, level] of CONSOLE_LEVELS) {
      target[method] = (...args: unknown[]) => this.writeLine(level, format(...args));
    }
    return () => {
      for (const [method, original] of originals) target[method] = original;
    };
  }
}

function failed(error: FunctionErrorPayload): Pick<ExecutedInvocation, 'payload' | 'functionError'> {
  return { payload: JSON.stringify(error), functionError: error.errorType };
}

/** The handler with `context.identity` set from the `Lambda-Runtime-Cognito-Identity` JSON text. */
function withIdentity(loaded: LoadedHandler, cognitoIdentity: string): LoadedHandler {
  if (!('handler' in loaded)) return loaded;
  const { handler } = loaded;
  return {
    handler: (event, context, callback) => {
      context.identity = JSON.parse(cognitoIdentity);
      return handler(event, context, callback);
    },
  };
}
