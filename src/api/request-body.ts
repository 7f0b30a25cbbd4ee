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

/** The whole body, or `BodyTooLargeError` as soon as it passes `limit` bytes (at once when `contentLength` says so). */
export function readBody(request: IncomingMessage, limit: number, contentLength: string | undefined): Promise<Buffer> {
  if (Number(contentLength) > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners('data');
        request.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    request.on('error', reject);
  });
}
