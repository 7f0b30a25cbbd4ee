/**
 * @module test/helpers/raw-http
 * One HTTP/1.1 exchange over a bare TCP socket, for what `fetch` hides: repeated framing
 * headers, and whether the server closes the connection.
 */
import { connect } from 'node:net';

/** What the server sent until it closed the connection. */
export interface RawExchange {
  /** Status line and headers, as sent. */
  readonly head: string;
  /** Header names, lower-cased, in order, repeats kept. */
  readonly headerNames: readonly string[];
  readonly body: Buffer;
}

/**
 * Writes `request` (the raw text of one request) to `baseUrl`'s host and port, and resolves once
 * the server closes the connection: a server that keeps it open leaves the promise pending, so
 * callers give their test a timeout to turn that into a failure.
 */
export function exchangeUntilClose(baseUrl: string, request: string): Promise<RawExchange> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(url.port), url.hostname, () => socket.write(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end === -1) return reject(new Error(`no complete response before the close: ${JSON.stringify(all.toString('latin1'))}`));
      const head = all.subarray(0, end).toString('latin1');
      const headerNames = head.split('\r\n').slice(1).map((line) => line.slice(0, line.indexOf(':')).toLowerCase());
      resolve({ head, headerNames, body: all.subarray(end + 4) });
    });
  });
}
