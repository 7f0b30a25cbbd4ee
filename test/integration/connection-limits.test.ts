/**
 * No client can hold the server: a slow head is cut off (slowloris), connections are capped, and
 * only so many large uploads are received at once. Raw sockets, since fetch hides all three.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type RunningServer } from '../../src/index.js';
import { tempDataDir } from '../helpers/fixture-server.js';
import { waitUntil } from '../helpers/wait-until.js';

/** A connected socket whose received bytes are collected. */
async function open(url: string): Promise<{ socket: Socket; received: () => string; closed: Promise<unknown> }> {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  return { socket, received: () => text, closed };
}

/** The status of one request on a fresh connection that closes after it. */
async function statusOf(url: string, request: string): Promise<number> {
  const connection = await open(url);
  connection.socket.write(request);
  await connection.closed;
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(connection.received())?.[1] ?? 0);
}

const CHUNKED_UPLOAD = 'POST /2015-03-31/functions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n';

describe('connection limits', { timeout: 60_000 }, () => {
  let server: RunningServer;
  before(async () => {
    server = await serve({ port: 0, logLevel: 'silent', dataDir: tempDataDir(), env: {}, headersTimeout: 1, requestTimeout: 2, maxConnections: 3, maxConcurrentUploads: 1 });
  });
  after(() => server.close());

  it('answers a head that never ends with 408 and closes the connection', async () => {
    const slow = await open(server.url);
    slow.socket.write('GET /2015-03-31/functions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    await slow.closed;
    assert.match(slow.received(), /^HTTP\/1\.1 408 /);
  });

  it('answers a body that never ends with 408 and closes the connection', async () => {
    const slow = await open(server.url);
    slow.socket.write('POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"a":');
    await slow.closed;
    assert.match(slow.received(), /^HTTP\/1\.1 408 /);
  });

  it('receives one large upload at a time: the next gets 429 until the first is done', async () => {
    const first = await open(server.url);
    // 20 MB announced, 1 kB sent: the server holds the place while it waits for the rest.
    first.socket.write(`POST /2015-03-31/functions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${20 * 1024 * 1024}\r\n\r\n{"FunctionName":"${'x'.repeat(1000)}`);
    // A small management request is not an upload; a chunked one may be.
    assert.equal(await statusOf(server.url, 'GET /2015-03-31/functions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'), 200);
    const refused = await open(server.url);
    refused.socket.write(CHUNKED_UPLOAD);
    await refused.closed;
    assert.match(refused.received(), /^HTTP\/1\.1 429 /);
    assert.match(refused.received(), /x-amzn-ErrorType: TooManyRequestsException/i);
    first.socket.destroy();
    // Once the server has seen the first go, the place is free: an empty body is read, and refused as JSON.
    await waitUntil(async () => (await statusOf(server.url, CHUNKED_UPLOAD)) === 400, 'an upload is received again once the first is gone');
  });

  it('closes connections past the cap at once, and takes new ones once others are gone', async () => {
    const held = await Promise.all([open(server.url), open(server.url), open(server.url)]);
    // Each held connection has been accepted (it is answered) before the extra one comes.
    for (const connection of held) connection.socket.write('GET /healthcheck HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await waitUntil(() => held.every((connection) => connection.received().includes('{"status":"ok"}')), 'the held connections are answered');
    const extra = await open(server.url);
    extra.socket.write('GET /healthcheck HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await extra.closed;
    assert.equal(extra.received(), '');
    for (const connection of held) connection.socket.destroy();
    await waitUntil(async () => (await statusOf(server.url, 'GET /healthcheck HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')) === 200, 'a new connection is taken once the held ones are closed');
  });
});
