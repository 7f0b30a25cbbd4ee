/**
 * @module runtime/inline-environment
 * Execution environments on the server's own event loop: the fastest kind, for tests
 * and trusted code. Environments of one function share its module instance (one import
 * per function), get their own `process.env` view and console capture through
 * `inline-scope`, and cannot be interrupted mid-computation or memory-limited.
 */
import { loadHandler, type ModuleImporter } from '../handler/handler-loader.js';
import { initErrorMessage, invokeErrorMessage } from '../handler/error-log-lines.js';
import { platformErrors, type FunctionErrorPayload } from '../handler/function-errors.js';
import type { EnvironmentIdentity } from '../handler/lambda-context.js';
import type { FunctionDefinition } from '../registry/function-definition.js';
import { logOutsideInvocation, platformFailure, type ExecutionEnvironment, type InvocationOutcome, type InvocationRequest, type LogSink, type PlatformFailure } from './execution-environment.js';
import { callOutsideScope, InlineExitError, runInScope } from './inline-scope.js';
import { executeInvocation, settleHandler, usedHeapMB, type LoadedHandler } from './invocation-executor.js';

/** What all inline environments of one function share: its environment variables and loaded handler. */
export class InlineFunction {
  private loading: Promise<LoadedHandler> | undefined;
  /** Set once loading has settled: warm invocations skip awaiting the promise. */
  loaded: LoadedHandler | undefined;

  /** `importer` loads the handler's module instead of `import()`: hot reload gives each load a fresh module instance. */
  constructor(private readonly definition: FunctionDefinition, readonly env: Record<string, string | undefined>, private readonly importer?: ModuleImporter) {}

  /** The handler, loaded (inside the function's scope) on first use. */
  load(log: LogSink): Promise<LoadedHandler> {
    const { handler, root } = this.definition;
    this.loading ??= runInScope({ env: this.env, log }, () =>
      settleHandler(async () => (typeof handler === 'string' ? loadHandler(root, handler, this.importer) : handler)),
    ).then((loaded) => {
      // As AWS's runtime does: the failed init is logged outside any invocation, hence request id `undefined`.
      if ('loadError' in loaded) logOutsideInvocation(log, initErrorMessage(loaded.loadError));
      return (this.loaded = loaded);
    });
    return this.loading;
  }

  /** Forgets a failed load so the next environment initialises again, as AWS does. */
  reset(): void {
    this.loading = undefined;
    this.loaded = undefined;
  }
}

/** One inline execution environment. */
export class InlineEnvironment implements ExecutionEnvironment {
  alive = true;

  constructor(private readonly fn: InlineFunction, private readonly identity: EnvironmentIdentity) {}

  /** The function's handler is loaded (environments of one function share it). */
  get ready(): boolean {
    return this.fn.loaded !== undefined;
  }

  invoke(request: InvocationRequest, log: LogSink, done: (outcome: InvocationOutcome) => void, initialized?: () => void): void {
    const loaded = this.fn.loaded;
    if (loaded) {
      this.run(loaded, request, log, undefined, done);
      return;
    }
    const initStart = performance.now();
    this.fn.load(log).then(
      (settled) => {
        initialized?.();
        this.run(settled, request, log, performance.now() - initStart, done);
      },
      // settleHandler never rejects; this only guards against a fault in serverfull itself.
      () => done(platformFailure(platformErrors.unknown())),
    );
  }

  private run(loaded: LoadedHandler, request: InvocationRequest, log: LogSink, initDurationMs: number | undefined, done: (outcome: InvocationOutcome) => void): void {
    const started = performance.now();
    runInScope({ env: this.fn.env, log, traceHeader: request.traceHeader }, () =>
      executeInvocation(loaded, this.identity, request, undefined, request.event, (executed) => {
        const durationMs = performance.now() - started;
        if (executed.fatal) this.fn.reset();
        let { payload, functionError } = executed;
        let reusable = !executed.fatal;
        let failure: PlatformFailure | undefined = executed.fatal ? 'init' : undefined;
        if (executed.error instanceof InlineExitError) {
          const error = platformErrors.exit(request.requestId, executed.error.code);
          payload = JSON.stringify(error);
          functionError = error.errorType;
          reusable = false;
          failure = 'runtime';
        } else if (functionError !== undefined && !executed.fatal) {
          log('ERROR', invokeErrorMessage(executed.error, JSON.parse(payload) as FunctionErrorPayload));
        }
        // The rest is the server's work (the answer, events, metrics): out of the function's scope, so that none of it
        // sees the function's process.env or writes into its log, and each lifecycle event need not leave the scope again.
        callOutsideScope(done, { payload, functionError, initDurationMs, durationMs, memoryUsedMB: usedHeapMB(request.report), reusable, failure });
      }),
    );
  }

  async dispose(): Promise<void> {
    this.alive = false;
  }
}

