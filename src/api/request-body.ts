/**
 * @module api/request-body
 * Reads a request body under a byte limit, refusing early on `Content-Length`.
 */
import type { IncomingMessage } from 'node:http';

/** The body was larger than allowed. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

/**
 * Reads the whole body and calls `done` once: with the body, or with `BodyTooLargeError` as soon as
 * it passes `limit` bytes (at once when `contentLength` says so), or with the stream's error.
 */
export function readBody(
  request: IncomingMessage,
  limit: number,
  contentLength: string | undefined,
  done: (error: Error | undefined, body?: Buffer) => void,
): void {
  if (Number(contentLength) > limit) {
    done(new BodyTooLargeError(limit));
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (error: Error | undefined, body?: Buffer) => {
    if (finished) return;
    finished = true;
    done(error, body);
  };
  request.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      request.removeAllListeners('data');
      request.resume();
      finish(new BodyTooLargeError(limit));
      return;
    }
    chunks.push(chunk);
  });
  request.on('end', () => finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
  request.on('error', (error) => finish(error));
}
