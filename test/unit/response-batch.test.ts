/** Answers ended together at the end of the event loop's turn: one wake-up of a waiting client serves them all. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { endInTurn } from '../../src/http/response-batch.js';

/** A stand-in response that records its end; `fail`: its end throws, and with `'destroy too'` its destroy as well. */
function recorder(log: string[], name: string, fail: boolean | 'destroy too' = false) {
  return {
    end(body?: string) {
      if (fail) throw new Error('cannot write');
      log.push(`${name}:${body ?? ''}`);
    },
    destroy() {
      if (fail === 'destroy too') throw new Error('cannot close');
      log.push(`${name}:destroyed`);
    },
  } as unknown as ServerResponse;
}

describe('response batch', () => {
  it('ends nothing during the turn, then every response of the turn in the order they were ended', async () => {
    const log: string[] = [];
    endInTurn(recorder(log, 'a'), 'one');
    endInTurn(recorder(log, 'b'));
    endInTurn(recorder(log, 'c'), 'three');
    await Promise.resolve();
    assert.deepEqual(log, [], 'not even in the same turn\'s microtasks');
    await nextTurn();
    assert.deepEqual(log, ['a:one', 'b:', 'c:three']);
  });

  it('an immediate queued after a response is ended in the turn runs once that response is ended (what the shutdown waits for)', async () => {
    const log: string[] = [];
    endInTurn(recorder(log, 'a'), 'one');
    await new Promise((resolve) => setImmediate(() => resolve(log.push('after'))));
    assert.deepEqual(log, ['a:one', 'after']);
  });

  it('a response that cannot be ended is destroyed, and the others of its turn are still ended', async () => {
    const log: string[] = [];
    endInTurn(recorder(log, 'a'), 'one');
    endInTurn(recorder(log, 'broken', true), 'two');
    endInTurn(recorder(log, 'c'), 'three');
    await nextTurn();
    assert.deepEqual(log, ['a:one', 'broken:destroyed', 'c:three']);
  });

  it('a response whose end and destroy both throw stops neither the rest of its turn nor the later turns', async () => {
    const log: string[] = [];
    endInTurn(recorder(log, 'broken', 'destroy too'), 'one');
    endInTurn(recorder(log, 'b'), 'two');
    await nextTurn();
    endInTurn(recorder(log, 'next'), 'turn');
    await nextTurn();
    assert.deepEqual(log, ['b:two', 'next:turn']);
  });

  it('a response ended while the turn\'s responses are ended goes out in the same pass; the next turn starts anew', async () => {
    const log: string[] = [];
    const late = recorder(log, 'late');
    const first = recorder(log, 'first');
    const end = first.end.bind(first);
    first.end = ((body?: string) => {
      end(body);
      endInTurn(late, 'joined');
      return first;
    }) as typeof first.end;
    endInTurn(first, 'one');
    await nextTurn();
    assert.deepEqual(log, ['first:one', 'late:joined']);
    endInTurn(recorder(log, 'next'), 'turn');
    await nextTurn();
    assert.deepEqual(log, ['first:one', 'late:joined', 'next:turn']);
  });

  it('a caller gone before the turn ends: its answer is dropped without an error, and the server keeps answering', async () => {
    const errors: unknown[] = [];
    let gone: Promise<void> | undefined;
    const server = createServer((incoming, res) => {
      res.on('error', (error) => errors.push(error));
      if (incoming.url === '/gone') {
        // The caller hangs up while its invocation runs; the answer is ended in the turn after.
        gone = new Promise((resolve) => res.once('close', () => {
          endInTurn(res.writeHead(200, { 'content-length': 5 }), 'hello');
          setImmediate(() => setImmediate(resolve));
        }));
        incoming.socket.destroy();
        return;
      }
      endInTurn(res.writeHead(200, { 'content-length': 2 }), 'ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const hungUp = request({ host: '127.0.0.1', port, path: '/gone', agent: false });
      const hungUpClosed = new Promise((resolve) => hungUp.on('error', () => {}).on('close', resolve));
      hungUp.end();
      await hungUpClosed;
      assert.ok(gone, 'the server saw the request before the caller hung up');
      await gone;
      assert.deepEqual(errors, []);
      const next = request({ host: '127.0.0.1', port, path: '/', agent: false });
      next.end();
      const [res] = await once(next, 'response');
      let text = '';
      for await (const chunk of res) text += chunk;
      assert.equal(text, 'ok');
    } finally {
      server.close();
    }
  });

  it('gives a real client its answer, headers and body, and keeps the connection usable', async () => {
    const server = createServer((_request, res) => endInTurn(res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 5 }), 'hello'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < 3; i++) {
        const req = request({ host: '127.0.0.1', port, agent, path: '/' });
        req.end();
        const [res] = await once(req, 'response');
        let text = '';
        for await (const chunk of res) text += chunk;
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['content-type'], 'text/plain');
        assert.equal(text, 'hello');
        assert.equal(req.reusedSocket, i > 0, 'the keep-alive connection is reused');
      }
      agent.destroy();
    } finally {
      server.close();
    }
  });
});
