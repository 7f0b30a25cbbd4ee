/**
 * The Runtime API over serverfull's private channel, served to a socket the test holds as the runtime would:
 * an answer posted with `next` is answered with the next event only, with no status frame in between.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RuntimeApiServer, type RuntimeInvocation } from '../../src/runtime-api/runtime-api-server.js';
import { encodeFrame, FrameReader } from '../../src/runtime-api/runtime-frames.js';

/** One frame as the runtime receives it. */
interface Frame {
  readonly head: Record<string, unknown>;
  readonly body: string | undefined;
}

function invocation(requestId: string): RuntimeInvocation {
  return { requestId, payload: `{"id":"${requestId}"}`, deadlineMs: Date.now() + 60_000, invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f' };
}

describe('the private runtime channel', () => {
  let folder: string;
  let runtime: Socket;
  const frames: Frame[] = [];
  const frameWaiters: Array<() => void> = [];
  const answers: Array<[string, string, string | undefined]> = [];
  let api: RuntimeApiServer;

  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'serverfull-channel-'));
    const path = join(folder, 'channel.sock');
    api = new RuntimeApiServer({
      onReady: () => {},
      onAnswer: (requestId, payload, functionError) => void answers.push([requestId, payload, functionError]),
      onInitError: () => {},
    });
    const served = new Promise<Socket>((resolve) => {
      const server = createServer((socket) => {
        server.close();
        resolve(socket);
      }).listen(path);
    });
    runtime = connect(path);
    api.serveChannel(await served);
    const reader = new FrameReader(1 << 20, (head, body) => {
      frames.push({ head, body });
      for (const wake of frameWaiters.splice(0)) wake();
    }, (reason) => assert.fail(reason));
    runtime.on('data', (chunk: Buffer) => reader.push(chunk));
  });
  after(() => {
    runtime.destroy();
    api.close();
    rmSync(folder, { recursive: true, force: true });
  });

  /** The next frame the runtime receives. */
  async function nextFrame(): Promise<Frame> {
    while (frames.length === 0) await new Promise<void>((resolve) => frameWaiters.push(resolve));
    return frames.shift()!;
  }

  it('answers an answer posted with `next` with the next event, and nothing before it', async () => {
    api.deliver(invocation('r1'));
    runtime.write(encodeFrame({ call: 'next' }, ''));
    const first = await nextFrame();
    assert.equal(first.head.requestId, 'r1');

    runtime.write(encodeFrame({ call: 'response', requestId: 'r1', next: true }, '{"ok":1}'));
    // The server has the answer before any event is there: the runtime waits, and gets no status.
    await new Promise<void>((resolve) => {
      const check = () => (answers.length > 0 ? resolve() : setImmediate(check));
      check();
    });
    assert.deepEqual(answers.shift(), ['r1', '{"ok":1}', undefined]);
    api.deliver(invocation('r2'));
    const second = await nextFrame();
    assert.equal(second.head.answer, 'invocation', 'the event, not a status');
    assert.equal(second.head.requestId, 'r2');
    assert.equal(second.body, '{"id":"r2"}');

    // An error posted with `next` works the same way.
    runtime.write(encodeFrame({ call: 'error', requestId: 'r2', errorType: 'Boom', next: true }, '{"errorType":"Boom","errorMessage":"no"}'));
    api.deliver(invocation('r3'));
    const third = await nextFrame();
    assert.equal(third.head.requestId, 'r3');
    assert.deepEqual(answers.shift(), ['r2', '{"errorType":"Boom","errorMessage":"no"}', 'Boom']);
  });

  it('refuses an answer with `next` for an invocation it did not hand out, without taking the `next`', async () => {
    runtime.write(encodeFrame({ call: 'response', requestId: 'not-r3', next: true }, '{}'));
    const refused = await nextFrame();
    assert.deepEqual(refused.head, { answer: 'status', status: 400 });
    assert.equal(answers.length, 0);
    // The invocation in flight is still r3, and it can still be answered.
    runtime.write(encodeFrame({ call: 'response', requestId: 'r3' }, '"done"'));
    assert.deepEqual((await nextFrame()).head, { answer: 'status', status: 202 });
    assert.deepEqual(answers.shift(), ['r3', '"done"', undefined]);
  });
});
