/**
 * Oversized requests reach every client as a 413, never as a reset connection: the server reads and
 * discards the rest of the body before it answers and closes. Before that, the SDK saw
 * `TimeoutError: write EPIPE` in about a third of 7 MB invocations.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';

type ServiceError = Error & { $metadata: { httpStatusCode?: number } };

/**
 * Sends `size` bytes over a raw socket in 64 KB pieces, each handed over only after the last one was
 * flushed, so that an answer sent before the body's end shows up as `answeredEarly` (or as a write error).
 */
async function post(url: string, size: number, chunked: boolean): Promise<{ status: number; head: string; body: string; answeredEarly: boolean }> {
  const { hostname, port, pathname } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  const received: Buffer[] = [];
  let writing = true;
  let answeredEarly = false;
  socket.on('data', (chunk: Buffer) => {
    received.push(chunk);
    if (writing) answeredEarly = true;
  });
  const closed = once(socket, 'close');
  const write = (data: string | Buffer) => new Promise<void>((resolve, reject) => socket.write(data, (error) => (error ? reject(error) : resolve())));
  await write(`POST ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\n${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${size}`}\r\n\r\n`);
  const piece = Buffer.alloc(65_536, 0x20);
  for (let sent = 0; sent < size; sent += piece.length) {
    const part = piece.subarray(0, Math.min(piece.length, size - sent));
    await write(chunked ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]) : part);
    await new Promise(setImmediate);
  }
  if (chunked) await write('0\r\n\r\n');
  writing = false;
  await closed;
  const text = Buffer.concat(received).toString();
  const split = text.indexOf('\r\n\r\n');
  return { status: Number(text.slice(9, 12)), head: text.slice(0, split).toLowerCase(), body: text.slice(split + 4), answeredEarly };
}

describe('oversized requests', () => {
  let fx: FixtureServer;
  before(async () => {
    fx = await startFixtureServer({ config: join(FIXTURES, 'gateway/serverfull.json') });
  });
  after(() => fx.close());

  it('Invoke: every one of 20 SDK calls with a 7 MB payload gets 413 RequestEntityTooLargeException', async () => {
    // Just over the 6 MB limit, the size at which the SDK used to see EPIPE: larger only costs the suite hashing and copying.
    const payload = Buffer.from(JSON.stringify('x'.repeat(7 * 1024 * 1024)));
    for (let attempt = 0; attempt < 20; attempt++) {
      await assert.rejects(fx.lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: payload })), (error: ServiceError) => {
        assert.equal(error.name, 'RequestEntityTooLargeException', `attempt ${attempt}: ${error.message}`);
        assert.equal(error.$metadata.httpStatusCode, 413);
        return true;
      });
    }
  });

  it('Invoke: four 7 MB calls at once all get their 413', async () => {
    const payload = Buffer.from(JSON.stringify('y'.repeat(7 * 1024 * 1024)));
    const results = await Promise.allSettled([0, 1, 2, 3].map(() => fx.lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: payload }))));
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.equal((result.reason as ServiceError).name, 'RequestEntityTooLargeException');
    }
  });

  it('Invoke: an Event payload over 1 MB gets its 413 in every one of 10 calls', async () => {
    const payload = Buffer.from(JSON.stringify('z'.repeat(2 * 1024 * 1024)));
    for (let attempt = 0; attempt < 10; attempt++) {
      await assert.rejects(
        fx.lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: payload, InvocationType: 'Event' })),
        (error: ServiceError) => error.$metadata.httpStatusCode === 413,
      );
    }
  });

  for (const chunked of [false, true]) {
    it(`Invoke: a ${chunked ? 'chunked' : 'Content-Length'} body of 8 MB gets the 413 once it is sent, then the connection closes`, async () => {
      const answer = await post(`${fx.server.url}/2015-03-31/functions/echo/invocations`, 8 * 1024 * 1024, chunked);
      assert.equal(answer.status, 413);
      assert.equal(answer.answeredEarly, false, 'no answer before the body was sent');
      assert.match(answer.head, /\r\nx-amzn-errortype: requestentitytoolargeexception\r\n/);
      assert.match(answer.head, /\r\nconnection: close(\r\n|$)/);
      assert.equal(JSON.parse(answer.body).message, 'Request must be smaller than 6291456 bytes for the InvokeFunction operation');
    });
  }

  it('CreateFunction: a request over the operation limit gets 413 through the SDK', async () => {
    const zip = Buffer.alloc(54 * 1024 * 1024, 7); // about 72 MB once base64 in JSON
    await assert.rejects(
      fx.lambda.send(new CreateFunctionCommand({
        FunctionName: 'too-big', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: 'arn:aws:iam::000000000000:role/r', Code: { ZipFile: zip },
      })),
      (error: ServiceError) => {
        assert.equal(error.name, 'RequestEntityTooLargeException', error.message);
        assert.equal(error.$metadata.httpStatusCode, 413);
        return true;
      },
    );
  });

  for (const chunked of [false, true]) {
    it(`API Gateway: a ${chunked ? 'chunked' : 'Content-Length'} body over 10 MB gets 413`, async () => {
      const answer = await post(`${fx.server.httpUrl}/items`, 11 * 1024 * 1024, chunked);
      assert.equal(answer.status, 413);
      assert.equal(answer.answeredEarly, false, 'no answer before the body was sent');
      assert.match(answer.head, /\r\nconnection: close(\r\n|$)/);
      assert.deepEqual(JSON.parse(answer.body), { message: 'Request Entity Too Large' });
    });
  }

  it('the server goes on serving after all of it', async () => {
    assert.equal((await fx.invoke('echo', { after: 'oversized' })).StatusCode, 200);
  });
});
