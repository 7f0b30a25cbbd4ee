/**
 * @module runtime-client/runtime-channel-client
 * The Runtime API's calls over the private channel serverfull gives its own Node.js runtime (a socket
 * pair inherited as a file descriptor, see `runtime-api/runtime-frames`), with the same interface and
 * semantics as the HTTP client: one call at a time, in order; the socket holds the process open only
 * while a call is waiting for its answer.
 */
import { Socket } from 'node:net';
import type { FunctionErrorPayload } from '../handler/function-errors.js';
import { encodeFrame, FrameReader, type RuntimeCallHead } from '../runtime-api/runtime-frames.js';
import { headerText, type AnswerThenNextDone, type NextDone, type NextInvocation, type PostDone, type RuntimeApiCalls, type RuntimeApiFailure } from './runtime-api-client.js';

/** An invocation's event is at most 6 MB; the answers to posts are a few bytes. */
const MAX_FRAME_BODY = 7 * 1024 * 1024;

/** One call: its frame, and who waits for its answer. */
type Waiting = { readonly frame: Buffer } & (
  | { readonly call: 'next'; readonly done: NextDone }
  | { readonly call: 'post'; readonly path: string; readonly done: PostDone }
  | { readonly call: 'post-next'; readonly path: string; readonly done: AnswerThenNextDone });

/** A client of the Runtime API over the channel on file descriptor `fd`. */
export class RuntimeChannelClient implements RuntimeApiCalls {
  private readonly socket: Socket;
  /** The call whose answer is awaited, then the calls queued behind it (sent one at a time, as over HTTP). */
  private readonly waiting: Waiting[] = [];
  private failure: RuntimeApiFailure | undefined;
  /** Whether the oldest waiting call has been written: its answer is the next frame. */
  private sent = false;

  constructor(fd: number) {
    this.socket = new Socket({ fd, readable: true, writable: true });
    this.socket.unref();
    const reader = new FrameReader(MAX_FRAME_BODY, (head, body) => this.onFrame(head, body), (reason) => this.lose(`malformed frame from serverfull: ${reason}`));
    this.socket.on('data', (chunk: Buffer) => reader.push(chunk));
    this.socket.on('error', (error) => this.lose(`the runtime channel failed: ${error.message}`));
    this.socket.on('close', () => this.lose('the runtime channel closed'));
  }

  next(done: NextDone): void {
    this.send({ call: 'next', frame: frame({ call: 'next' }, ''), done });
  }

  respond(requestId: string, payload: string, done: PostDone): void {
    this.send({ call: 'post', path: `invocation/${requestId}/response`, frame: frame({ call: 'response', requestId }, payload), done });
  }

  fail(requestId: string, payload: string, errorType: string, done: PostDone): void {
    this.send({ call: 'post', path: `invocation/${requestId}/error`, frame: frame({ call: 'error', requestId, errorType }, payload), done });
  }

  answerThenNext(requestId: string, payload: string, errorType: string | undefined, done: AnswerThenNextDone): void {
    const head: RuntimeCallHead = errorType === undefined ? { call: 'response', requestId, next: true } : { call: 'error', requestId, errorType, next: true };
    this.send({ call: 'post-next', path: `invocation/${requestId}/${head.call}`, frame: frame(head, payload), done });
  }

  initError(error: FunctionErrorPayload): Promise<RuntimeApiFailure | undefined> {
    return new Promise((resolve) => this.send({
      call: 'post', path: 'init/error', frame: frame({ call: 'init-error', errorType: error.errorType }, JSON.stringify(error)), done: resolve,
    }));
  }

  close(): void {
    this.lose('the runtime client is closed');
  }

  /** The channel is gone: every waiting call fails, and so does every later one. */
  private lose(reason: string): void {
    if (this.failure !== undefined) return;
    this.failure = { message: reason, fatal: true };
    this.socket.destroy();
    for (const waiting of this.waiting.splice(0)) settle(waiting, this.failure);
  }

  private onFrame(head: Record<string, unknown>, body: string | undefined): void {
    const waiting = this.waiting.shift();
    if (waiting === undefined || !this.sent) return this.lose('serverfull answered a call that was not made');
    this.sent = false;
    // The socket stays ref'd while `done` runs, as the HTTP client's does: the runtime loop counts it as its one active resource then.
    answer(waiting, head, body);
    if (this.sent || this.failure !== undefined) return;
    if (this.waiting.length === 0) this.socket.unref();
    else this.write();
  }

  private send(waiting: Waiting): void {
    if (this.failure !== undefined) return settle(waiting, this.failure);
    this.waiting.push(waiting);
    if (!this.sent) this.write();
  }

  /** Sends the oldest waiting call; the socket holds the process open until its answer. */
  private write(): void {
    this.sent = true;
    this.socket.ref();
    this.socket.write(this.waiting[0]!.frame);
  }
}

/** Settles `waiting` with serverfull's answer to it. */
function answer(waiting: Waiting, head: Record<string, unknown>, body: string | undefined): void {
  if (head.answer === 'invocation' && waiting.call !== 'post' && typeof head.requestId === 'string' && head.requestId !== '' && body !== undefined) {
    const invocation: NextInvocation = {
      requestId: head.requestId,
      deadlineMs: Number(head.deadlineMs),
      invokedFunctionArn: typeof head.invokedFunctionArn === 'string' ? head.invokedFunctionArn : '',
      clientContext: headerText(head.clientContext),
      traceId: headerText(head.traceId),
      cognitoIdentity: headerText(head.cognitoIdentity),
      body,
    };
    return waiting.call === 'next' ? waiting.done(undefined, invocation) : waiting.done(undefined, undefined, invocation);
  }
  const status = typeof head.status === 'number' ? head.status : 0;
  if (waiting.call === 'post' && status >= 200 && status < 300) return waiting.done(undefined);
  const path = waiting.call === 'next' ? 'invocation/next' : waiting.path;
  // As over HTTP: `next` refused, or a 5xx, means the environment is broken; a refused post is that call's failure only
  // (an answer posted with `next` was then refused before the `next` was made: the loop asks for it on its own).
  settle(waiting, { message: `the Runtime API answered ${status} to ${path}: ${(body ?? '').slice(0, 200)}`, status, fatal: waiting.call === 'next' || status >= 500 });
}

/** A call's frame. */
function frame(head: RuntimeCallHead, body: string): Buffer {
  return encodeFrame(head, body);
}

function settle(waiting: Waiting, failure: RuntimeApiFailure): void {
  if (waiting.call === 'next') waiting.done(failure, undefined);
  else if (waiting.call === 'post') waiting.done(failure);
  // The answer refused (and no `next` made), or the channel lost: a failure of the post, as for `respond`.
  else waiting.done(failure, undefined, undefined);
}
