/**
 * @module runtime-api/runtime-api-server
 * The Lambda Runtime API (2018-06-01) of one execution environment, served where its
 * `AWS_LAMBDA_RUNTIME_API` points: the runtime long-polls `invocation/next`, then posts
 * the invocation's `response` or `error`, or `init/error` when its init failed.
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 * Differences from AWS: no extensions or telemetry API; a response is read as UTF-8 text; a
 * streamed response is buffered and returned whole (an error in its trailers fails the invocation).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from '../http/node-http.js';
import type { AddressInfo, Socket } from 'node:net';
import { MAX_RESPONSE_BYTES, platformErrors } from '../handler/function-errors.js';
import type { InvocationInfo } from '../handler/lambda-context.js';
import { newTraceHeader } from '../handler/trace-header.js';
import { runtimeApiErrors, type RuntimeApiError } from './runtime-api-errors.js';
import { encodeFrame, FrameReader, type RuntimeAnswerHead } from './runtime-frames.js';

const PREFIX = '/2018-06-01/runtime/';
const INVOCATION = `${PREFIX}invocation/`;
const NEXT = `${INVOCATION}next`;
const INIT_ERROR = `${PREFIX}init/error`;
const ERROR_TYPE_HEADER = 'lambda-runtime-function-error-type';
const ERROR_BODY_TRAILER = 'lambda-runtime-function-error-body';
const ACCEPTED = '{"status":"OK"}';
const ACCEPTED_HEADERS = { 'Content-Type': 'application/json', 'Content-Length': ACCEPTED.length };

/** One invocation as the Runtime API hands it to the runtime. */
export interface RuntimeInvocation extends InvocationInfo {
  /** The event as JSON text. */
  readonly payload: string;
}

/** What the environment hears from its runtime. */
export interface RuntimeApiListener {
  /** The runtime asked for its first event: its init is over. */
  onReady(): void;
  /** The invocation in flight ended: `payload` is the response, or the error body when `functionError` is set. */
  onAnswer(requestId: string, payload: string, functionError: string | undefined): void;
  /** The runtime reported that its init failed; `payload` is the error body. */
  onInitError(payload: string, errorType: string): void;
  /** The runtime waits for an event and none is there: it is done with its work until the next `deliver`. */
  onWaiting?(): void;
}

/** The runtime's state, named as the Lambda service names it in its errors. */
type RuntimeState = 'Started' | 'Ready' | 'Invoking' | 'InitError';

/** Hands an invocation to the runtime's waiting `next`, over HTTP or the private channel. */
type NextWaiter = (invocation: RuntimeInvocation) => void;

const STATUS_ACCEPTED: RuntimeAnswerHead = { answer: 'status', status: 202 };

/** The Runtime API of one execution environment, on 127.0.0.1 and a port of its own. */
export class RuntimeApiServer {
  private readonly server: Server;
  private state: RuntimeState = 'Started';
  /** The runtime's `next` while it waits for an event. */
  private parked: NextWaiter | undefined;
  /** An event that arrived before the runtime asked for it. */
  private queued: RuntimeInvocation | undefined;
  /** The request id of the invocation the runtime is working on. */
  private inFlight: string | undefined;

  /** Connections `admit` turned away: every request on them is refused. */
  private readonly refused = new WeakSet<Socket>();

  /**
   * `admit`, when given, decides per connection whether it comes from the environment's own runtime (a sandbox
   * checks the connecting process): other callers on the host get 403 and never an event.
   */
  constructor(private readonly listener: RuntimeApiListener, private readonly admit?: (socket: Socket) => boolean) {
    this.server = createServer({ noDelay: true, keepAliveTimeout: 0, requestTimeout: 0 }, (request, response) => this.route(request, response));
    // The runtime's long-poll must not keep the server's process alive: an invocation in flight holds its own timer.
    this.server.unref();
    this.server.on('connection', (socket: Socket) => {
      socket.unref();
      if (this.admit !== undefined && !this.admit(socket)) this.refused.add(socket);
    });
  }

  /** Starts listening; resolves with the `host:port` to give the runtime as `AWS_LAMBDA_RUNTIME_API`. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Starts listening on the Unix socket at `path` instead: for a sandbox without a network, which reaches it through a forwarder. */
  async listenAt(path: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(path, resolve);
    });
  }

  /** Whether the runtime has been handed `requestId` (and not answered yet). */
  isInvoking(requestId: string): boolean {
    return this.inFlight === requestId;
  }

  /** Hands an invocation to the runtime: at once if it is waiting, else on its next `next`. */
  deliver(invocation: RuntimeInvocation): void {
    const parked = this.parked;
    if (parked) {
      this.parked = undefined;
      this.hand(parked, invocation);
    } else {
      this.queued = invocation;
    }
  }

  /**
   * Serves the same calls as frames on `channel`, a socket pair only the environment's runtime holds
   * (serverfull's own Node.js client): nothing to parse but a length and a small JSON head. A runtime
   * that writes what is not a frame loses the channel; its environment then ends as a silent runtime's does.
   */
  serveChannel(channel: Socket): void {
    const answer = (head: RuntimeAnswerHead, body = ''): void => void channel.write(encodeFrame(head, body));
    const refuse = (error: RuntimeApiError): void => answer({ answer: 'status', status: error.status }, JSON.stringify({ errorMessage: error.errorMessage, errorType: error.errorType }));
    const waiter: NextWaiter = (invocation) => answer({
      answer: 'invocation', requestId: invocation.requestId, deadlineMs: invocation.deadlineMs, invokedFunctionArn: invocation.invokedFunctionArn,
      traceId: invocation.traceHeader ?? newTraceHeader(), clientContext: invocation.clientContext,
    }, invocation.payload);
    const reader = new FrameReader(MAX_RESPONSE_BYTES, (head, body) => {
      const { call } = head;
      const errorType = typeof head.errorType === 'string' && head.errorType !== '' ? head.errorType : undefined;
      if (call === 'next') {
        const error = this.takeNext(waiter);
        if (error) refuse(error);
      } else if ((call === 'response' || call === 'error') && typeof head.requestId === 'string') {
        const error = this.accept(head.requestId);
        if (error) return refuse(error);
        if (body === undefined) return this.tooLarge(head.requestId, refuse);
        // With `next`, the runtime's next event answers both: no status in between, one wake-up of the runtime per invocation.
        const next = head.next === true;
        if (!next) answer(STATUS_ACCEPTED);
        if (call === 'response') this.listener.onAnswer(head.requestId, body, undefined);
        else {
          const failure = errorBody(errorType, body);
          this.listener.onAnswer(head.requestId, failure.payload, failure.errorType);
        }
        if (next) {
          const refused = this.takeNext(waiter);
          if (refused) refuse(refused);
        }
      } else if (call === 'init-error') {
        if (this.state !== 'Started') return refuse(runtimeApiErrors.invalidStateTransition(this.state, 'InitError'));
        this.state = 'InitError';
        answer(STATUS_ACCEPTED);
        const failure = errorBody(errorType, body ?? '');
        this.listener.onInitError(failure.payload, failure.errorType);
      } else {
        refuse(runtimeApiErrors.notFound('FRAME', String(call)));
      }
    }, () => channel.destroy());
    channel.on('data', (chunk: Buffer) => reader.push(chunk));
    channel.on('error', () => channel.destroy());
    channel.once('close', () => {
      if (this.parked === waiter) this.parked = undefined;
    });
  }

  /** Stops serving and drops every connection, the waiting `next` included. */
  close(): void {
    this.parked = undefined;
    this.queued = undefined;
    this.server.close();
    this.server.closeAllConnections();
  }

  private route(request: IncomingMessage, response: ServerResponse): void {
    const url = request.url ?? '';
    const { method } = request;
    if (this.refused.has(request.socket)) {
      request.resume();
      response.shouldKeepAlive = false;
      return reply(response, runtimeApiErrors.notThisEnvironment());
    }
    if (url === NEXT && method === 'GET') return this.next(response);
    if (url === INIT_ERROR && method === 'POST') return this.readBody(request, response, (body) => this.initError(request, response, body));
    if (url.startsWith(INVOCATION) && method === 'POST') {
      const slash = url.indexOf('/', INVOCATION.length);
      const requestId = url.slice(INVOCATION.length, slash);
      const kind = url.slice(slash + 1);
      if (slash > INVOCATION.length && (kind === 'response' || kind === 'error')) {
        return this.readBody(request, response, (body, tooLarge) => this.answer(request, response, requestId, kind, body, tooLarge));
      }
    }
    request.resume();
    reply(response, runtimeApiErrors.notFound(method ?? '', url));
  }

  private next(response: ServerResponse): void {
    const waiter: NextWaiter = (invocation) => this.send(response, invocation);
    const error = this.takeNext(waiter);
    if (error) return reply(response, error);
    // A runtime that dies while waiting leaves nothing to deliver to.
    response.once('close', () => {
      if (this.parked === waiter) this.parked = undefined;
    });
  }

  /** A `next` arrived: it gets the queued event at once, or waits; refused while an invocation is open. */
  private takeNext(waiter: NextWaiter): RuntimeApiError | undefined {
    if (this.state === 'Invoking' || this.state === 'InitError' || this.parked) {
      return runtimeApiErrors.invalidStateTransition(this.parked ? 'Ready' : this.state, 'Ready');
    }
    if (this.state === 'Started') this.listener.onReady();
    this.state = 'Ready';
    const queued = this.queued;
    if (queued) {
      this.queued = undefined;
      this.hand(waiter, queued);
    } else {
      this.parked = waiter;
      this.listener.onWaiting?.();
    }
    return undefined;
  }

  private hand(waiter: NextWaiter, invocation: RuntimeInvocation): void {
    this.state = 'Invoking';
    this.inFlight = invocation.requestId;
    waiter(invocation);
  }

  /** A response or error for `requestId` arrived: accepted only for the invocation in flight. */
  private accept(requestId: string): RuntimeApiError | undefined {
    if (this.state !== 'Invoking' || requestId !== this.inFlight) return runtimeApiErrors.invalidRequestId();
    this.state = 'Ready';
    this.inFlight = undefined;
    return undefined;
  }

  /** As in AWS, an oversized response fails the invocation and the runtime may go on with the next one. */
  private tooLarge(requestId: string, refuse: (error: RuntimeApiError) => void): void {
    refuse(runtimeApiErrors.tooLarge());
    const error = platformErrors.responseTooLarge();
    this.listener.onAnswer(requestId, JSON.stringify(error), error.errorType);
  }

  private send(response: ServerResponse, invocation: RuntimeInvocation): void {
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(invocation.payload),
      'Lambda-Runtime-Aws-Request-Id': invocation.requestId,
      'Lambda-Runtime-Deadline-Ms': invocation.deadlineMs,
      'Lambda-Runtime-Invoked-Function-Arn': invocation.invokedFunctionArn,
      'Lambda-Runtime-Trace-Id': invocation.traceHeader ?? newTraceHeader(),
    };
    if (invocation.clientContext !== undefined) headers['Lambda-Runtime-Client-Context'] = invocation.clientContext;
    response.writeHead(200, headers);
    response.end(invocation.payload);
  }

  private answer(request: IncomingMessage, response: ServerResponse, requestId: string, kind: 'response' | 'error', body: string, tooLarge: boolean): void {
    const refused = this.accept(requestId);
    if (refused) return reply(response, refused);
    if (tooLarge) return this.tooLarge(requestId, (error) => reply(response, error));
    response.writeHead(202, ACCEPTED_HEADERS);
    response.end(ACCEPTED);
    const streamedError = request.trailers[ERROR_TYPE_HEADER];
    if (kind === 'response' && typeof streamedError === 'string') {
      // A streamed response that failed midway: the error comes in trailers, its body base64-encoded.
      const errorBody = Buffer.from(request.trailers[ERROR_BODY_TRAILER] ?? '', 'base64').toString();
      this.listener.onAnswer(requestId, errorBody === '' ? JSON.stringify({ errorType: streamedError, errorMessage: '' }) : errorBody, streamedError);
    } else if (kind === 'response') {
      this.listener.onAnswer(requestId, body, undefined);
    } else {
      const error = errorBody(headerValue(request), body);
      this.listener.onAnswer(requestId, error.payload, error.errorType);
    }
  }

  private initError(request: IncomingMessage, response: ServerResponse, body: string): void {
    if (this.state !== 'Started') {
      reply(response, runtimeApiErrors.invalidStateTransition(this.state, 'InitError'));
      return;
    }
    this.state = 'InitError';
    response.writeHead(202, ACCEPTED_HEADERS);
    response.end(ACCEPTED);
    const error = errorBody(headerValue(request), body);
    this.listener.onInitError(error.payload, error.errorType);
  }

  /** Reads a body of at most Lambda's payload size; past that, the rest is drained, not kept. */
  private readBody(request: IncomingMessage, response: ServerResponse, done: (body: string, tooLarge: boolean) => void): void {
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= MAX_RESPONSE_BYTES) chunks.push(chunk);
    });
    request.once('end', () => {
      if (response.destroyed) return;
      const tooLarge = length > MAX_RESPONSE_BYTES;
      done(tooLarge ? '' : (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString(), tooLarge);
    });
  }
}

/**
 * The error a runtime posted: its JSON body as is (it is what the caller receives), typed by the
 * `Lambda-Runtime-Function-Error-Type` header, else by the body; a body that is not JSON is wrapped.
 */
function errorBody(header: string | undefined, body: string): { payload: string; errorType: string } {
  let parsed: unknown;
  try {
    parsed = body === '' ? undefined : JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const bodyType = typeof parsed === 'object' && parsed !== null && typeof (parsed as { errorType?: unknown }).errorType === 'string'
    ? (parsed as { errorType: string }).errorType : undefined;
  const errorType = (header ?? bodyType) ?? 'Unhandled';
  if (parsed !== undefined) return { payload: body, errorType };
  return { payload: JSON.stringify({ errorType, errorMessage: body }), errorType };
}

/** `Lambda-Runtime-Function-Error-Type`, when set. */
function headerValue(request: IncomingMessage): string | undefined {
  const header = request.headers[ERROR_TYPE_HEADER];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

function reply(response: ServerResponse, error: RuntimeApiError): void {
  const body = JSON.stringify({ errorMessage: error.errorMessage, errorType: error.errorType });
  response.writeHead(error.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

