/**
 * @module runtime-client/runtime-api-client
 * The HTTP side of a runtime: `next`, `response`, `error` and `init/error` of the Lambda
 * Runtime API (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), over one
 * persistent connection. Callback-based: `next` and `respond` run once per invocation.
 * It speaks HTTP/1.1 over a bare socket instead of node:http: the Runtime API is one local
 * peer answering one request at a time, and node:http's general machinery (agent, streams,
 * llhttp) cost more CPU per invocation than the handler of a small function.
 */
import { connect, type Socket } from 'node:net';
import type { FunctionErrorPayload } from '../handler/function-errors.js';
import type { InvocationInfo } from '../handler/lambda-context.js';
import { HttpResponseParser, type HttpResponse } from './http-response-parser.js';

const BASE_PATH = '/2018-06-01/runtime';
/** Errors of a reused socket, before any byte of its response, that mean the server had closed it: the call is sent again. */
const STALE_SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_WRITE_AFTER_END', 'ERR_STREAM_DESTROYED']);
/** What may go in a header value as is; an error type with anything else is sent in the body only. */
const PLAIN_HEADER_VALUE = /^[\x20-\x7e]+$/;

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

/**
 * Called once an answer posted with `answerThenNext` settled: the post refused (`posted`, and no `next` was made), or
 * the next invocation, or why there is none.
 */
export type AnswerThenNextDone = (posted: RuntimeApiFailure | undefined, next: RuntimeApiFailure | undefined, invocation: NextInvocation | undefined) => void;

type SendDone = (failure: RuntimeApiFailure | undefined, response: HttpResponse | undefined) => void;

/** One request: its whole text, written at once, and who waits for its answer. */
interface Call {
  readonly method: string;
  readonly path: string;
  readonly text: string;
  readonly done: SendDone;
  retried: boolean;
}

/** The Runtime API's calls, as the runtime loop makes them: over HTTP, or over serverfull's private channel. */
export interface RuntimeApiCalls {
  /** Waits for the next invocation (a long poll). */
  next(done: NextDone): void;
  /** Posts an invocation's result (JSON text). */
  respond(requestId: string, payload: string, done: PostDone): void;
  /** Posts an invocation's error: `payload` is the JSON text of a `FunctionErrorPayload` of type `errorType`. */
  fail(requestId: string, payload: string, errorType: string, done: PostDone): void;
  /**
   * Posts an invocation's result (`errorType` undefined) or error and asks for the next event in the same exchange: one
   * wake-up of the runtime per invocation instead of two. Only the private channel has it; the loop falls back to `respond`/`fail` then `next`.
   */
  answerThenNext?(requestId: string, payload: string, errorType: string | undefined, done: AnswerThenNextDone): void;
  /** Reports that init (loading the handler) failed; the runtime exits afterwards. */
  initError(error: FunctionErrorPayload): Promise<RuntimeApiFailure | undefined>;
  /** Drops the connection, aborting a pending long poll; later calls fail at once. */
  close(): void;
}

/** A client of the Runtime API at `host:port` (the value of `AWS_LAMBDA_RUNTIME_API`). */
export class RuntimeApiClient implements RuntimeApiCalls {
  private readonly host: string;
  private readonly port: number;
  /** `GET next`, the same bytes every time. */
  private readonly nextText: string;
  /** What follows a POST's path, up to its Content-Length header. */
  private readonly postHead: string;
  private socket: Socket | undefined;
  /** Whether the socket has carried a whole exchange: if it then fails before answering, the server had closed it. */
  private socketReused = false;
  private socketError: NodeJS.ErrnoException | undefined;
  /** The call whose answer is awaited; the Runtime API is asked one thing at a time. */
  private active: Call | undefined;
  /** Whether `active` went out on a reused socket. */
  private activeReused = false;
  /** Calls made while another is active (an uncaught error during `init/error`): sent in order. */
  private readonly queue: Call[] = [];
  /** The response the last read completed, and whether that read held more than one response's bytes. */
  private arrived: HttpResponse | undefined;
  private unexpected = false;
  private closed = false;

  constructor(address: string) {
    const colon = address.lastIndexOf(':');
    this.host = colon < 0 ? address : address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    this.port = colon < 0 ? 80 : Number(address.slice(colon + 1));
    const hostHeader = `${this.host.includes(':') ? `[${this.host}]` : this.host}${this.port === 80 ? '' : `:${this.port}`}`;
    this.nextText = `GET ${BASE_PATH}/invocation/next HTTP/1.1\r\nHost: ${hostHeader}\r\n\r\n`;
    this.postHead = ` HTTP/1.1\r\nHost: ${hostHeader}\r\nContent-Type: application/json\r\n`;
  }

  /** Waits for the next invocation (a long poll). */
  next(done: NextDone): void {
    this.send('GET', `${BASE_PATH}/invocation/next`, this.nextText, (failure, response) => {
      if (failure) return done(failure, undefined);
      if (response!.status !== 200) return done(statusFailure('invocation/next', response!.status, response!.body, true), undefined);
      const headers = response!.headers;
      const requestId = headers.get('lambda-runtime-aws-request-id');
      if (requestId === undefined || requestId === '') {
        return done({ message: 'the Runtime API sent an invocation without Lambda-Runtime-Aws-Request-Id', fatal: true }, undefined);
      }
      done(undefined, {
        requestId,
        invokedFunctionArn: headerText(headers.get('lambda-runtime-invoked-function-arn')) ?? '',
        deadlineMs: Number(headers.get('lambda-runtime-deadline-ms')),
        clientContext: headerText(headers.get('lambda-runtime-client-context')),
        traceId: headerText(headers.get('lambda-runtime-trace-id')),
        cognitoIdentity: headerText(headers.get('lambda-runtime-cognito-identity')),
        body: response!.body,
      });
    });
  }

  /** Posts an invocation's result (JSON text). */
  respond(requestId: string, payload: string, done: PostDone): void {
    this.post(`invocation/${encodeURIComponent(requestId)}/response`, payload, '', done);
  }

  /** Posts an invocation's error: `payload` is the JSON text of a `FunctionErrorPayload` of type `errorType`. */
  fail(requestId: string, payload: string, errorType: string, done: PostDone): void {
    this.post(`invocation/${encodeURIComponent(requestId)}/error`, payload, errorTypeHeader(errorType), done);
  }

  /** Reports that init (loading the handler) failed; the runtime exits afterwards. */
  initError(error: FunctionErrorPayload): Promise<RuntimeApiFailure | undefined> {
    return new Promise((resolve) => this.post('init/error', JSON.stringify(error), errorTypeHeader(error.errorType), resolve));
  }

  /** Drops the connection, aborting a pending long poll; later calls fail at once. */
  close(): void {
    this.closed = true;
    // The pending call, if any, fails when the socket reports its close, as a lost connection does.
    this.socket?.destroy();
  }

  private post(path: string, body: string, extraHeaders: string, done: PostDone): void {
    const text = `POST ${BASE_PATH}/${path}${this.postHead}${extraHeaders}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    this.send('POST', `${BASE_PATH}/${path}`, text, (failure, response) => {
      if (failure) return done(failure);
      const status = response!.status;
      // 5xx: the Runtime API considers the environment broken; anything else (400, 403, 413) refuses this one call.
      done(status >= 200 && status < 300 ? undefined : statusFailure(path, status, response!.body, status >= 500));
    });
  }

  private send(method: string, path: string, text: string, done: SendDone): void {
    if (this.closed) return done({ message: 'the runtime client is closed', fatal: true }, undefined);
    const call: Call = { method, path, text, done, retried: false };
    if (this.active !== undefined || this.queue.length > 0) this.queue.push(call);
    else this.dispatch(call);
  }

  private dispatch(call: Call): void {
    this.active = call;
    let socket = this.socket;
    if (socket !== undefined && !socket.writable) {
      // Half-closed by the server since the last answer: not worth a failed write.
      this.socket = undefined;
      socket.destroy();
      socket = undefined;
    }
    if (socket === undefined) {
      socket = this.connect();
    } else {
      // Ref'd while a call is open, unref'd between calls (see `settle`).
      socket.ref();
    }
    this.activeReused = this.socketReused;
    socket.write(call.text);
  }

  private connect(): Socket {
    const socket = connect(this.port, this.host);
    socket.setNoDelay(true);
    const parser = new HttpResponseParser(this.onResponse);
    socket.on('data', (data: Buffer) => this.onData(socket, parser, data));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (this.socket === socket) this.socketError = error;
    });
    socket.on('close', () => this.onClose(socket, parser));
    this.socket = socket;
    this.socketReused = false;
    this.socketError = undefined;
    return socket;
  }

  /** The parser's callback: keeps the response for `onData`, which answers once the whole read is parsed. */
  private readonly onResponse = (response: HttpResponse): void => {
    if (this.arrived !== undefined || this.active === undefined) this.unexpected = true;
    else this.arrived = response;
  };

  private onData(socket: Socket, parser: HttpResponseParser, data: Buffer): void {
    if (socket !== this.socket) return;
    let malformed: string | undefined;
    try {
      parser.feed(data);
    } catch (error) {
      malformed = (error as Error).message;
    }
    const response = this.arrived;
    this.arrived = undefined;
    if (malformed !== undefined || this.unexpected || (response !== undefined && !response.keepAlive)) {
      // A server that answers what was not asked, or garbles its answer, or ends the connection, gets a new one for the next call.
      this.unexpected = false;
      this.socket = undefined;
      socket.destroy();
      if (response === undefined && this.active !== undefined) {
        return this.settle({ message: `${this.active.method} ${this.active.path}: malformed response from the Runtime API: ${malformed}`, fatal: true }, undefined);
      }
    }
    if (response === undefined) return;
    this.socketReused = true;
    this.settle(undefined, response);
  }

  private onClose(socket: Socket, parser: HttpResponseParser): void {
    // A socket dropped on purpose has settled its call already.
    if (socket !== this.socket) return;
    this.socket = undefined;
    const call = this.active;
    if (call === undefined) return;
    const error = this.socketError;
    let lost: boolean;
    try {
      lost = parser.finish();
    } catch {
      lost = true;
    }
    // A response whose body ran until the close.
    const response = this.arrived;
    this.arrived = undefined;
    if (response !== undefined) return this.settle(undefined, response);
    if (!lost && this.activeReused && !call.retried && !this.closed && (error === undefined || STALE_SOCKET_ERRORS.has(error.code ?? ''))) {
      // The server closed the idle connection just as the call went out on it: nothing reached it, so send it again, once, on a new one.
      call.retried = true;
      return this.dispatch(call);
    }
    const reason = error?.message ?? (lost ? 'aborted' : 'socket hang up');
    const message = lost ? `${call.method} ${call.path}: ${reason}` : `cannot reach the Runtime API at ${this.host}:${this.port} (${call.method} ${call.path}): ${reason}`;
    this.settle({ message, fatal: true }, undefined);
  }

  /** Answers the active call, then sends the next queued one or lets the idle socket stop holding the process open. */
  private settle(failure: RuntimeApiFailure | undefined, response: HttpResponse | undefined): void {
    const call = this.active!;
    this.active = undefined;
    // The socket stays ref'd while `done` runs: the runtime loop counts it as its one active resource then.
    call.done(failure, response);
    if (this.active !== undefined) return;
    const next = this.queue.shift();
    if (next === undefined) {
      this.socket?.unref();
    } else if (this.closed) {
      // Each queued call fails in turn, as a call made after `close` does.
      this.active = next;
      this.settle({ message: 'the runtime client is closed', fatal: true }, undefined);
    } else {
      this.dispatch(next);
    }
  }
}

/** The `Lambda-Runtime-Function-Error-Type` header line; none for a type that is not plain ASCII (the body names it too). */
function errorTypeHeader(errorType: string): string {
  return PLAIN_HEADER_VALUE.test(errorType) ? `Lambda-Runtime-Function-Error-Type: ${errorType}\r\n` : '';
}

/** `value` when it is a non-empty string: an optional header, or an optional field of a channel frame. */
export function headerText(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function statusFailure(path: string, status: number, body: string, fatal: boolean): RuntimeApiFailure {
  return { message: `the Runtime API answered ${status} to ${path}: ${body.slice(0, 200)}`, status, fatal };
}
