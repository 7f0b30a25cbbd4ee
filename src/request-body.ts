/**
 * @module request-body
 * Reads a request body under a byte limit. An oversized body is read to its end and discarded
 * (within a bound) before it is refused, so that the client, still sending, receives the 413
 * instead of a reset connection.
 */
import type { IncomingMessage } from 'node:http';

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
 * Reads the whole body and calls `done` once: with the body, with `BodyTooLargeError` when it has
 * more than `limit` bytes (announced by `contentLength` or counted), or with the stream's error.
 */
export function readBody(
  request: IncomingMessage,
  limit: number,
  contentLength: string | undefined,
  done: (error: Error | undefined, body?: Buffer) => void,
): void {
  let finished = false;
  const finish = (error: Error | undefined, body?: Buffer) => {
    if (finished) return;
    finished = true;
    done(error, body);
  };
  request.on('error', (error) => finish(error));
  if (Number(contentLength) > limit) {
    discardRest(request, limit, finish);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      request.off('data', onData);
      request.off('end', onEnd);
      chunks.length = 0;
      discardRest(request, limit, finish);
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = () => finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  request.on('data', onData);
  request.on('end', onEnd);
}

/** Reads what is left of an oversized body without keeping it, then refuses it. */
function discardRest(request: IncomingMessage, limit: number, finish: (error: Error) => void): void {
  const refuse = () => {
    clearTimeout(timer);
    finish(new BodyTooLargeError(limit));
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
