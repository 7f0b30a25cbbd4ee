/**
 * @module runtime-client/runtime-api-client
 * The HTTP side of a runtime: `next`, `response`, `error` and `init/error` of the Lambda
 * Runtime API (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), over one
 * keep-alive connection. Callback-based: `next` and `respond` run once per invocation.
 */
import { Agent, request, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { FunctionErrorPayload } from '../handler/function-errors.js';
import type { InvocationInfo } from '../handler/lambda-context.js';

const BASE_PATH = '/2018-06-01/runtime';
const JSON_HEADERS = { 'content-type': 'application/json' } as const;

/** One invocation as `GET /runtime/invocation/next` hands it out. */
export interface NextInvocation extends InvocationInfo {
  /** The event as JSON text. */
  readonly body: string;
  /** `Lambda-Runtime-Trace-Id`, the X-Ray header the runtime exposes as `_X_AMZN_TRACE_ID`. */
  readonly traceId: string | undefined;
  /** `Lambda-Runtime-Cognito-Identity` as JSON text, when the caller sent one. */
  readonly cognitoIdentity: string | undefined;
}

/** Why a call to the Runtime API did not succeed. */
export interface RuntimeApiFailure {
  readonly message: string;
  /** The status the Runtime API answered; undefined when it could not be reached. */
  readonly status?: number;
  /** The runtime must stop: the API is unreachable or says the environment is broken (5xx). */
  readonly fatal: boolean;
}

/** Called once a POST settled: no failure, or why it failed. */
export type PostDone = (failure: RuntimeApiFailure | undefined) => void;

/** Called once `next` settled: an invocation, or why there is none. */
export type NextDone = (failure: RuntimeApiFailure | undefined, invocation: NextInvocation | undefined) => void;

/** A client of the Runtime API at `host:port` (the value of `AWS_LAMBDA_RUNTIME_API`). */
export class RuntimeApiClient {
  // One socket, kept alive: the warm path is next → response → next on the same connection.
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly host: string;
  private readonly port: number;
  private closed = false;

  constructor(address: string) {
    const colon = address.lastIndexOf(':');
    this.host = colon < 0 ? address : address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    this.port = colon < 0 ? 80 : Number(address.slice(colon + 1));
  }

  /** Waits for the next invocation (a long poll). */
  next(done: NextDone): void {
    this.send('GET', `${BASE_PATH}/invocation/next`, undefined, undefined, (failure, response, body) => {
      if (failure) return done(failure, undefined);
      if (response!.statusCode !== 200) return done(statusFailure('invocation/next', response!.statusCode!, body!, true), undefined);
      const headers = response!.headers;
      const requestId = headers['lambda-runtime-aws-request-id'];
      if (typeof requestId !== 'string' || requestId === '') {
        return done({ message: 'the Runtime API sent an invocation without Lambda-Runtime-Aws-Request-Id', fatal: true }, undefined);
      }
      done(undefined, {
        requestId,
        invokedFunctionArn: headerText(headers['lambda-runtime-invoked-function-arn']) ?? '',
        deadlineMs: Number(headers['lambda-runtime-deadline-ms']),
        clientContext: headerText(headers['lambda-runtime-client-context']),
        traceId: headerText(headers['lambda-runtime-trace-id']),
        cognitoIdentity: headerText(headers['lambda-runtime-cognito-identity']),
        body: body!,
      });
    });
  }

  /** Posts an invocation's result (JSON text). */
  respond(requestId: string, payload: string, done: PostDone): void {
    this.post(`invocation/${encodeURIComponent(requestId)}/response`, payload, JSON_HEADERS, done);
  }

  /** Posts an invocation's error: `payload` is the JSON text of a `FunctionErrorPayload` of type `errorType`. */
  fail(requestId: string, payload: string, errorType: string, done: PostDone): void {
    this.post(`invocation/${encodeURIComponent(requestId)}/error`, payload, errorHeaders(errorType), done);
  }

  /** Reports that init (loading the handler) failed; the runtime exits afterwards. */
  initError(error: FunctionErrorPayload): Promise<RuntimeApiFailure | undefined> {
    return new Promise((resolve) => this.post('init/error', JSON.stringify(error), errorHeaders(error.errorType), resolve));
  }

  /** Drops the connection, aborting a pending long poll; later calls fail at once. */
  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  private post(path: string, body: string, headers: OutgoingHttpHeaders, done: PostDone): void {
    this.send('POST', `${BASE_PATH}/${path}`, body, headers, (failure, response, text) => {
      if (failure) return done(failure);
      const status = response!.statusCode!;
      // 5xx: the Runtime API considers the environment broken; anything else (400, 403, 413) refuses this one call.
      done(status >= 200 && status < 300 ? undefined : statusFailure(path, status, text!, status >= 500));
    });
  }

  private send(
    method: string,
    path: string,
    body: string | undefined,
    headers: OutgoingHttpHeaders | undefined,
    done: (failure: RuntimeApiFailure | undefined, response?: IncomingMessage, body?: string) => void,
    retried = false,
  ): void {
    if (this.closed) return done({ message: 'the runtime client is closed', fatal: true });
    // A connection lost mid-response can be reported by both the request and the response.
    let settled = false;
    const settle: typeof done = (failure, response, text) => {
      if (settled) return;
      settled = true;
      done(failure, response, text);
    };
    const outgoing = request({ host: this.host, port: this.port, method, path, agent: this.agent, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => settle(undefined, response, chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString()));
      response.on('error', (error) => settle({ message: `${method} ${path}: ${error.message}`, fatal: true }));
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      // The Runtime API may close an idle keep-alive socket just as a request is sent on it: retry once, on a fresh socket (Node's documented pattern).
      if (!retried && !this.closed && outgoing.reusedSocket && error.code === 'ECONNRESET') {
        settled = true;
        return this.send(method, path, body, headers, done, true);
      }
      settle({ message: `cannot reach the Runtime API at ${this.host}:${this.port} (${method} ${path}): ${error.message}`, fatal: true });
    });
    outgoing.end(body);
  }
}

function errorHeaders(errorType: string): OutgoingHttpHeaders {
  return { ...JSON_HEADERS, 'lambda-runtime-function-error-type': errorType };
}

function headerText(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function statusFailure(path: string, status: number, body: string, fatal: boolean): RuntimeApiFailure {
  return { message: `the Runtime API answered ${status} to ${path}: ${body.slice(0, 200)}`, status, fatal };
}
