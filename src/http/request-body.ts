/**
 * @module http/request-body
 * Reads a request body under a byte limit, once, for the pipeline. An oversized body is read to its
 * end and discarded (within a bound) before it is refused, so that the client, still sending,
 * receives the 413 instead of a reset connection. The listeners are shared functions reading their
 * state from the request (`this`): no closure per request on the hot path.
 */
import type { ServerResponse } from 'node:http';
import type { ApiRequest, BodyReceiver } from './api-request.js';

/** The body was larger than allowed. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

/**
 * How much of an oversized body is read and thrown away before the refusal is sent anyway (the
 * client then sees its connection closed mid-upload): enough for any honest client that simply
 * sent too much, not enough to hold the server for long.
 */
const DISCARD_MAX_BYTES = 256 * 1024 * 1024;
const DISCARD_MAX_MS = 10_000;

/**
 * Reads the whole body into `request.body` under `request.bodyLimit`, then calls `receiver.bodyRead`
 * once: with no error, with `BodyTooLargeError` when the body has more bytes than the limit
 * (announced by `Content-Length` or counted), or with the stream's error.
 */
export function readBody(request: ApiRequest, response: ServerResponse, receiver: BodyReceiver): void {
  request.bodyReceiver = receiver;
  request.bodyResponse = response;
  request.on('error', onError);
  if (Number(contentLengthOf(request.rawHeaders)) > request.bodyLimit) {
    discardRest(request);
    return;
  }
  request.on('data', onData);
  request.on('end', onEnd);
}

/** Hands the request back to its receiver, once. */
function deliver(request: ApiRequest, error: Error | undefined): void {
  const receiver = request.bodyReceiver;
  if (receiver === undefined) return;
  request.bodyReceiver = undefined;
  receiver.bodyRead(request, request.bodyResponse!, error);
}

function onError(this: ApiRequest, error: Error): void {
  deliver(this, error);
}

function onData(this: ApiRequest, chunk: Buffer): void {
  const size = (this.bodySize += chunk.length);
  if (size > this.bodyLimit) {
    this.off('data', onData);
    this.off('end', onEnd);
    this.bodyChunks = undefined;
    discardRest(this);
    return;
  }
  // Most bodies arrive in one chunk: it becomes the body without an array or a copy.
  if (size === chunk.length) this.body = chunk;
  else if (this.bodyChunks === undefined) this.bodyChunks = [this.body, chunk];
  else this.bodyChunks.push(chunk);
}

function onEnd(this: ApiRequest): void {
  if (this.bodyChunks !== undefined) {
    this.body = Buffer.concat(this.bodyChunks, this.bodySize);
    this.bodyChunks = undefined;
  }
  deliver(this, undefined);
}

/** `Content-Length` straight from `rawHeaders`: the Invoke path never makes Node build `request.headers`. */
function contentLengthOf(raw: readonly string[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') return raw[i + 1];
  }
  return undefined;
}

/** Reads what is left of an oversized body without keeping it, then refuses it (the rare path: closures are fine). */
function discardRest(request: ApiRequest): void {
  const refuse = () => {
    clearTimeout(timer);
    deliver(request, new BodyTooLargeError(request.bodyLimit));
  };
  const timer = setTimeout(refuse, DISCARD_MAX_MS);
  let discarded = 0;
  request.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_MAX_BYTES) refuse();
  });
  request.on('end', refuse);
  request.on('close', () => clearTimeout(timer));
  request.resume();
}
