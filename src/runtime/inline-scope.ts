/**
 * @module runtime/inline-scope
 * What keeps inline functions apart although they share the server's event loop: while
 * a function's code runs, `process.env` shows only that function's environment (and its
 * invocation's `_X_AMZN_TRACE_ID`), console output goes to that invocation's log, and
 * `process.exit` fails the invocation instead of ending the server. All three follow the
 * async context (AsyncLocalStorage).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import { environmentVariable, environmentViewTarget } from './environment-view.js';
import { CONSOLE_LEVELS, type LogSink } from './execution-environment.js';

/** The state of one inline function while its code runs. */
export interface InlineScope {
  readonly env: Record<string, string | undefined>;
  /** Where console output goes; replaced per invocation. */
  log: LogSink;
  /**
   * The invocation's `_X_AMZN_TRACE_ID`: kept in the scope, not in `env`, which the function's
   * concurrent invocations share; `null` once its code deleted it; undefined outside an invocation (the init).
   */
  traceHeader?: string | null;
}

/** The one variable that differs per invocation rather than per function. */
const TRACE_VARIABLE = '_X_AMZN_TRACE_ID';

/** Thrown by `process.exit` inside inline function code. */
export class InlineExitError extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code}) called by inline function code`);
  }
}

const storage = new AsyncLocalStorage<InlineScope>();
let installed = false;

/** Runs `fn` inside `scope`; installs the process hooks on first use. */
export function runInScope<T>(scope: InlineScope, fn: () => T): T {
  if (!installed) installHooks();
  return storage.run(scope, fn);
}

/**
 * Runs `fn` as server code even when called from an inline function's code path (its `done`
 * callbacks run in its scope): its `process.env`, console and async context are the server's.
 */
export function outsideScope<T>(fn: () => T): T {
  // Leaving a scope costs an async context frame: only code that is in one pays it.
  return inScope() ? storage.exit(fn) : fn();
}

/** Whether the caller runs inside an inline function's scope (its code, or a callback of its invocation). */
export function inScope(): boolean {
  return installed && storage.getStore() !== undefined;
}

/** `outsideScope` for a callback of one argument, without a closure: the end of every inline invocation goes through it. */
export function callOutsideScope<A>(fn: (arg: A) => void, arg: A): void {
  if (inScope()) storage.exit(fn, arg);
  else fn(arg);
}

function installHooks(): void {
  installed = true;
  const realEnv = process.env;
  const target = (): Record<string, string | undefined> => storage.getStore()?.env ?? realEnv;
  /** The scope whose invocation owns `key`, when `key` is the trace variable inside an invocation. */
  const traced = (key: string): InlineScope | undefined => {
    if (key !== TRACE_VARIABLE) return undefined;
    const scope = storage.getStore();
    return scope?.traceHeader === undefined ? undefined : scope;
  };
  process.env = new Proxy(environmentViewTarget(), {
    get: (_, key) => {
      if (typeof key !== 'string') return undefined;
      const scope = traced(key);
      return scope ? (scope.traceHeader ?? undefined) : target()[key];
    },
    set: (_, key, value) => {
      if (typeof key !== 'string') return true;
      const scope = traced(key);
      if (scope) scope.traceHeader = String(value);
      else target()[key] = String(value);
      return true;
    },
    has: (_, key) => {
      if (typeof key !== 'string') return false;
      const scope = traced(key);
      return scope ? scope.traceHeader !== null : key in target();
    },
    deleteProperty: (_, key) => {
      if (typeof key !== 'string') return true;
      const scope = traced(key);
      if (scope) scope.traceHeader = null;
      else delete target()[key];
      return true;
    },
    ownKeys: () => {
      const keys = Object.keys(target());
      if (typeof storage.getStore()?.traceHeader === 'string' && !keys.includes(TRACE_VARIABLE)) keys.push(TRACE_VARIABLE);
      return keys;
    },
    getOwnPropertyDescriptor: (_, key) => {
      if (typeof key !== 'string') return undefined;
      const scope = traced(key);
      const env = target();
      if (scope ? scope.traceHeader === null : !(key in env)) return undefined;
      return environmentVariable(scope ? (scope.traceHeader ?? undefined) : env[key]);
    },
  });

  const consoleMethods = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const [method, level] of CONSOLE_LEVELS) {
    const original = consoleMethods[method].bind(console);
    consoleMethods[method] = (...args: unknown[]) => {
      const scope = storage.getStore();
      if (scope) scope.log(level, format(...args));
      else original(...args);
    };
  }

  const realExit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => {
    if (storage.getStore()) throw new InlineExitError(Number(code ?? 0));
    return realExit(code ?? undefined);
  }) as typeof process.exit;

  // process.exit from a timer the handler left behind throws outside any invocation: contain it.
  process.on('uncaughtException', (error) => {
    if (error instanceof InlineExitError) {
      // Straight to stderr: console and warnings would follow the dead invocation's async context.
      process.stderr.write(`serverfull: ${error.message} outside an invocation; ignored\n`);
      return;
    }
    // With no other listener, keep Node's default for every other error: report and exit.
    if (process.listenerCount('uncaughtException') === 1) {
      process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
      realExit(1);
    }
  });
}
