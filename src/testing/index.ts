/**
 * @module testing
 * `serverfull/testing`: one test suite, local or remote. The same test code invokes a
 * function in this process (a serverfull server started on first use), or, switched by
 * one environment variable, a deployed endpoint: `SERVERFULL_TARGET=http://host:port` (a
 * serverfull server) or `SERVERFULL_TARGET=aws` (real AWS Lambda), signed with the
 * standard AWS credential chain. Works with any test runner: nothing here depends on one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { serve, type RunningServer, type ServeOptions } from '../serve.js';
import { sdkClient } from '../sdk-client.js';

/** What a test invocation returns. */
export interface InvokeResult<T = unknown> {
  /** The response payload, parsed as JSON (the raw text when it is not JSON). */
  readonly payload: T;
  /** `Unhandled` when the function failed; the payload is then the error. */
  readonly functionError?: string;
  /** The last 4 KB of the invocation log, when asked for with `tail`. */
  readonly logs?: string;
  readonly requestId: string;
  readonly executedVersion: string;
}

/** Options of one invocation. */
export interface InvokeOptions {
  /** Return the log tail in `logs`. */
  readonly tail?: boolean;
  /** The client context (`context.clientContext`). */
  readonly clientContext?: Readonly<Record<string, unknown>>;
}

/** A client for one function, wherever it runs. */
export interface LambdaTestClient {
  /** Invokes the function with `event` (synchronously, as `RequestResponse`). */
  invoke<T = any>(event?: unknown, options?: InvokeOptions): Promise<InvokeResult<T>>;
  /** Stops what the client started (the in-process server, the SDK client). */
  close(): Promise<void>;
}

/** Where and what to run in process; ignored for remote targets. */
export interface LocalOptions {
  /** A `serverfull.json`; default `./serverfull.json` unless `template` or `functions` is given. */
  readonly config?: string;
  /** An AWS SAM template. */
  readonly template?: string;
  /** Functions as `serve({ functions })` takes them. */
  readonly functions?: ServeOptions['functions'];
  /** Any other `serve()` option (isolation, environment...). */
  readonly serve?: Omit<ServeOptions, 'config' | 'template' | 'functions'>;
}

/** Options of `lambdaClient`. */
export interface LambdaClientOptions extends LocalOptions {
  /** Overrides `SERVERFULL_TARGET`: unset for in-process, `http(s)://...` for a server, `aws` for AWS Lambda. */
  readonly target?: string;
  /** Version or alias to invoke. */
  readonly qualifier?: string;
  /** Region for remote targets; default: `AWS_REGION`, else us-east-1. */
  readonly region?: string;
}

/** A client for function `name`: in process, or the target named by `SERVERFULL_TARGET`. */
export function lambdaClient(name: string, options: LambdaClientOptions = {}): LambdaTestClient {
  const target = options.target ?? process.env.SERVERFULL_TARGET;
  let local: LocalServer | undefined;
  let sdk: Promise<LambdaClient> | undefined;
  const client = () => (sdk ??= (async () => {
    if (target === 'aws') return new LambdaClient({ region: options.region });
    const endpoint = target ?? (local ??= startLocal(options)).url;
    return sdkClient(await endpoint, options.region);
  })());
  return {
    async invoke(event = {}, invokeOptions = {}) {
      const output = await (await client()).send(new InvokeCommand({
        FunctionName: name,
        Qualifier: options.qualifier,
        Payload: JSON.stringify(event),
        LogType: invokeOptions.tail ? 'Tail' : 'None',
        ClientContext: invokeOptions.clientContext ? Buffer.from(JSON.stringify(invokeOptions.clientContext)).toString('base64') : undefined,
      }));
      const text = output.Payload ? Buffer.from(output.Payload).toString('utf8') : '';
      return {
        payload: parseJson(text) as never,
        functionError: output.FunctionError,
        logs: output.LogResult ? Buffer.from(output.LogResult, 'base64').toString('utf8') : undefined,
        requestId: output.$metadata.requestId ?? '',
        executedVersion: output.ExecutedVersion ?? '',
      };
    },
    async close() {
      if (sdk) (await sdk).destroy();
      await local?.close();
    },
  };
}

/** An HTTP response from the API, body read. */
export interface HttpResult<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** The body parsed as JSON. */
  json(): T;
}

/** A client for the API Gateway routes, wherever they run. */
export interface HttpTestClient {
  /** Sends `method path` (path relative to the API's base URL) and reads the whole response. */
  request<T = any>(method: string, path: string, init?: { headers?: Record<string, string>; body?: string | Buffer }): Promise<HttpResult<T>>;
  /** Stops what the client started. */
  close(): Promise<void>;
}

/** Options of `httpClient`. */
export interface HttpClientOptions extends LocalOptions {
  /** Overrides `SERVERFULL_HTTP_TARGET`: unset for the in-process gateway, else the API's base URL (`https://api.example.com/v1`). */
  readonly target?: string;
}

/** A client for the API's routes: the in-process gateway, or the base URL in `SERVERFULL_HTTP_TARGET`. */
export function httpClient(options: HttpClientOptions = {}): HttpTestClient {
  const target = options.target ?? process.env.SERVERFULL_HTTP_TARGET;
  let local: LocalServer | undefined;
  const base = async () => {
    if (target) return target.replace(/\/$/, '');
    const server = await (local ??= startLocal(options)).server;
    if (!server.httpUrl) throw new Error('serverfull/testing: the functions declare no HTTP routes, so there is no gateway to call');
    return server.httpUrl;
  };
  return {
    async request(method, path, init = {}) {
      const response = await fetch(`${await base()}${path}`, { method, headers: init.headers, body: init.body });
      const body = await response.text();
      return { status: response.status, headers: response.headers, body, json: () => JSON.parse(body) };
    },
    async close() {
      await local?.close();
    },
  };
}

/** A running test server: the server, an SDK client for it, and its cleanup. */
export interface TestServer extends AsyncDisposable {
  readonly server: RunningServer;
  /** `@aws-sdk/client-lambda` pointed at the server. */
  readonly lambda: LambdaClient;
  /** The Lambda API endpoint. */
  readonly url: string;
  /** The API Gateway's base URL, when routes are declared. */
  readonly httpUrl?: string;
  close(): Promise<void>;
}

/**
 * Starts a real server on free ports over a fresh data directory, for tests that want one.
 * It is closed automatically after the tests (node:test, Vitest or Jest `afterAll`), or by
 * `close()` / `await using`.
 */
export async function startTestServer(options: LocalOptions = {}): Promise<TestServer> {
  const local = startLocal(options);
  const server = await local.server;
  const lambda = sdkClient(server.url);
  const close = async () => {
    lambda.destroy();
    await local.close();
  };
  closeAfterTests(close);
  return { server, lambda, url: server.url, httpUrl: server.httpUrl, close, [Symbol.asyncDispose]: close };
}

interface LocalServer {
  readonly server: Promise<RunningServer>;
  readonly url: Promise<string>;
  close(): Promise<void>;
}

/** A serverfull server in this process, on free loopback ports, over a temporary data directory; it does not keep the process alive. */
function startLocal(options: LocalOptions): LocalServer {
  const dataDir = mkdtempSync(join(tmpdir(), 'serverfull-testing-'));
  removeAtExit(dataDir);
  const config = options.config ?? (options.template || options.functions ? undefined : 'serverfull.json');
  const server = serve({
    port: 0, httpPort: 0, parametersPort: 0, logLevel: 'warn', unref: true, ...options.serve,
    config, template: options.template, functions: options.functions, dataDir,
  });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= server.then((s) => s.close(), () => undefined).finally(() => {
    rmSync(dataDir, { recursive: true, force: true });
    leftDirs.delete(dataDir);
  }));
  closeAfterTests(close);
  return { server, url: server.then((s) => s.url), close };
}

/** Data directories of servers not closed yet: a script that just ends leaves none behind. */
const leftDirs = new Set<string>();
let exitHooked = false;

function removeAtExit(dir: string): void {
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => {
      for (const left of leftDirs) rmSync(left, { recursive: true, force: true });
    });
  }
  leftDirs.add(dir);
}

/** Registers `close` with the test runner's after-all hook, whichever runner this is. */
function closeAfterTests(close: () => Promise<void>): void {
  const globals = globalThis as { afterAll?: (fn: () => Promise<void>) => void };
  if (typeof globals.afterAll === 'function') {
    globals.afterAll(close);
    return;
  }
  if (process.env.NODE_TEST_CONTEXT !== undefined || process.execArgv.includes('--test')) {
    void import('node:test').then(({ after }) => after(close));
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
