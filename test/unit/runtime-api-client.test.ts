/**
 * The Runtime API client and its HTTP/1.1 response parser: framing (Content-Length, chunked,
 * until close) in any split of the bytes, and the client's connection handling against
 * serverfull's RuntimeApiServer and against raw sockets that misbehave on purpose.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { RuntimeApiServer } from '../../src/runtime-api/runtime-api-server.js';
import { HttpResponseParser, type HttpResponse } from '../../src/runtime-client/http-response-parser.js';
import { RuntimeApiClient, type NextInvocation, type RuntimeApiFailure } from '../../src/runtime-client/runtime-api-client.js';

/** Feeds `pieces` to a fresh parser; returns the responses, and whether a response was left incomplete at the end. */
function parse(pieces: Buffer[], finish = false): { responses: HttpResponse[]; lost: boolean } {
  const responses: HttpResponse[] = [];
  const parser = new HttpResponseParser((response) => responses.push(response));
  for (const piece of pieces) parser.feed(piece);
  const lost = finish ? parser.finish() : parser.inResponse;
  return { responses, lost };
}

/** `bytes` cut at every offset into two reads, and into one-byte reads. */
function splits(bytes: Buffer): Array<[string, Buffer[]]> {
  const out: Array<[string, Buffer[]]> = [['one read', [bytes]]];
  for (let at = 1; at < bytes.length; at++) out.push([`split at ${at}`, [bytes.subarray(0, at), bytes.subarray(at)]]);
  out.push(['one byte per read', [...bytes].map((byte) => Buffer.from([byte]))]);
  return out;
}

const EURO = '€uro ünïcødé 😀';
const EURO_BYTES = Buffer.from(EURO);
const HEAD_200 = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n';

/** UTF-8 text and raw bytes, joined. */
function bytes(...parts: Array<string | Buffer>): Buffer {
  return Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part)));
}

const framings: Array<[string, Buffer, string]> = [
  ['Content-Length', bytes(`${HEAD_200}Content-Length: ${EURO_BYTES.length}\r\n\r\n${EURO}`), EURO],
  [
    'chunked, a multi-byte character cut between chunks',
    bytes(`${HEAD_200}Transfer-Encoding: chunked\r\n\r\n2\r\n`, EURO_BYTES.subarray(0, 2), `\r\n${(EURO_BYTES.length - 2).toString(16)}\r\n`, EURO_BYTES.subarray(2), '\r\n0\r\n\r\n'),
    EURO,
  ],
  ['chunked with extensions and trailers', bytes(`${HEAD_200}Transfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\nA ; x="y"\r\n, world!!!\r\n0;last\r\nX-Trailer: 1\r\nX-Other: two\r\n\r\n`), 'hello, world!!!'],
  ['chunked in upper-case hex, over a Content-Length', bytes(`${HEAD_200}transfer-encoding: Chunked\r\ncontent-length: 3\r\n\r\n1A\r\n${'z'.repeat(26)}\r\n0\r\n\r\n`), 'z'.repeat(26)],
  ['an empty body', bytes('HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n'), ''],
  ['204 without a length', bytes('HTTP/1.1 204 No Content\r\n\r\n'), ''],
  ['a 100 Continue first', bytes(`HTTP/1.1 100 Continue\r\n\r\n${HEAD_200}Content-Length: 2\r\n\r\n{}`), '{}'],
];

describe('HttpResponseParser', () => {
  for (const [framing, response, body] of framings) {
    it(`${framing}: the same response however the bytes are split`, () => {
      for (const [split, pieces] of splits(response)) {
        const { responses, lost } = parse(pieces);
        assert.equal(responses.length, 1, split);
        assert.equal(responses[0]!.body, body, split);
        assert.equal(lost, false, split);
      }
    });
  }

  it('reads the status, and headers case-insensitively, trimmed, repeats joined', () => {
    const { responses } = parse([Buffer.from('HTTP/1.1 404 Not Found\r\nX-One:  a \r\nx-ONE: b\r\nLambda-Runtime-Aws-Request-Id: r-1\r\nContent-Length: 1\r\n\r\n!')]);
    assert.equal(responses[0]!.status, 404);
    assert.equal(responses[0]!.headers.get('x-one'), 'a, b');
    assert.equal(responses[0]!.headers.get('lambda-runtime-aws-request-id'), 'r-1');
    assert.equal(responses[0]!.keepAlive, true);
  });

  it('reads several responses from one read, of every framing', () => {
    const { responses } = parse([Buffer.concat(framings.map(([, response]) => response))]);
    assert.deepEqual(responses.map((response) => response.body), framings.map(([, , body]) => body));
  });

  it('a body without a length runs until the connection ends', () => {
    const response = bytes(`HTTP/1.1 200 OK\r\n\r\n${EURO}`);
    const { responses, lost } = parse([response.subarray(0, 20), response.subarray(20)], true);
    assert.equal(lost, false);
    assert.equal(responses[0]!.body, EURO);
    assert.equal(responses[0]!.keepAlive, false);
  });

  it('a connection that ends mid-response loses it', () => {
    assert.equal(parse([Buffer.from(`${HEAD_200}Content-Length: 10\r\n\r\nabc`)], true).lost, true);
    assert.equal(parse([Buffer.from(`${HEAD_200}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n`)], true).lost, true);
    assert.equal(parse([Buffer.from('HTTP/1.1 20')], true).lost, true);
    assert.equal(parse([], true).lost, false);
  });

  const keepAlive: Array<[string, boolean]> = [
    ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', true],
    ['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n', true],
  ];
  for (const [text, expected] of keepAlive) {
    it(`keep-alive is ${expected} for ${JSON.stringify(text.slice(0, text.indexOf('Content-Length')))}`, () => {
      assert.equal(parse([Buffer.from(text)]).responses[0]!.keepAlive, expected);
    });
  }

  const malformed: Array<[string, string]> = [
    ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n'],
    ['a bad status', 'HTTP/1.1 2x0 OK\r\n\r\n'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nnonsense\r\n\r\n'],
    ['a bad Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['a chunk not ended by CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n'],
  ];
  for (const [what, text] of malformed) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parse([Buffer.from(text)]));
    });
  }

  it('refuses a head that never ends rather than buffering it without limit', () => {
    const parser = new HttpResponseParser(() => {});
    parser.feed(Buffer.from('HTTP/1.1 200 OK\r\n'));
    assert.throws(() => {
      for (let i = 0; i < 100; i++) parser.feed(Buffer.from(`X-Big: ${'x'.repeat(1000)}\r\n`));
    }, /too large/);
  });
});

/** The client's calls as promises, for tests only. */
function next(client: RuntimeApiClient): Promise<{ failure?: RuntimeApiFailure; invocation?: NextInvocation }> {
  return new Promise((resolve) => client.next((failure, invocation) => resolve({ failure, invocation })));
}
function respond(client: RuntimeApiClient, requestId: string, payload: string): Promise<RuntimeApiFailure | undefined> {
  return new Promise((resolve) => client.respond(requestId, payload, resolve));
}

describe('RuntimeApiClient against the RuntimeApiServer', () => {
  const answers: Array<[string, string, string | undefined]> = [];
  const initErrors: Array<[string, string]> = [];
  const api = new RuntimeApiServer({
    onReady() {},
    onAnswer: (requestId, payload, functionError) => answers.push([requestId, payload, functionError]),
    onInitError: (payload, errorType) => initErrors.push([payload, errorType]),
  });
  let client: RuntimeApiClient;
  after(() => {
    client.close();
    api.close();
  });

  it('next hands out the invocation, respond and fail post the answers, with UTF-8 bodies', async () => {
    client = new RuntimeApiClient(await api.listen());
    for (let i = 0; i < 3; i++) {
      const polled = next(client);
      api.deliver({ requestId: `id-${i}`, payload: `{"text":"${EURO}"}`, invokedFunctionArn: 'arn:aws:lambda:x', deadlineMs: 1234, clientContext: '{"custom":{}}' });
      const { failure, invocation } = await polled;
      assert.equal(failure, undefined);
      assert.equal(invocation!.requestId, `id-${i}`);
      assert.equal(invocation!.body, `{"text":"${EURO}"}`);
      assert.equal(invocation!.invokedFunctionArn, 'arn:aws:lambda:x');
      assert.equal(invocation!.deadlineMs, 1234);
      assert.equal(invocation!.clientContext, '{"custom":{}}');
      assert.match(invocation!.traceId!, /^Root=1-/);
      assert.equal(invocation!.cognitoIdentity, undefined);
      if (i === 1) {
        const posted = await new Promise<RuntimeApiFailure | undefined>((resolve) => client.fail(`id-${i}`, '{"errorType":"TypeError","errorMessage":"x"}', 'TypeError', resolve));
        assert.equal(posted, undefined);
      } else {
        assert.equal(await respond(client, `id-${i}`, `"${EURO}"`), undefined);
      }
    }
    assert.deepEqual(answers, [
      ['id-0', `"${EURO}"`, undefined],
      ['id-1', '{"errorType":"TypeError","errorMessage":"x"}', 'TypeError'],
      ['id-2', `"${EURO}"`, undefined],
    ]);
  });

  it('an answer the Runtime API refuses (400) fails that call only', async () => {
    const failure = await respond(client, 'unknown-id', '{}');
    assert.equal(failure!.status, 400);
    assert.equal(failure!.fatal, false);
    assert.match(failure!.message, /^the Runtime API answered 400 to invocation\/unknown-id\/response: /);
  });

  it('the socket holds the process open while a call is open and in its callback, not in between', async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;
    const polled = new Promise<[number, number]>((resolve) => client.next(() => {
      const during = sockets();
      setImmediate(() => resolve([during, sockets()]));
    }));
    api.deliver({ requestId: 'id-ref', payload: '{}', invokedFunctionArn: 'arn', deadlineMs: 1 });
    const [during, between] = await polled;
    assert.equal(during - between, 1);
    assert.equal(await respond(client, 'id-ref', '{}'), undefined);
  });

  it('an error type that is not plain ASCII is named by the body only', async () => {
    const polled = next(client);
    api.deliver({ requestId: 'id-u', payload: '{}', invokedFunctionArn: 'arn', deadlineMs: 1 });
    await polled;
    const payload = JSON.stringify({ errorType: 'Échec\r\nX: y', errorMessage: 'm' });
    assert.equal(await new Promise((resolve) => client.fail('id-u', payload, 'Échec\r\nX: y', resolve)), undefined);
    assert.deepEqual(answers.at(-1), ['id-u', payload, 'Échec\r\nX: y']);
  });

  it('close drops a pending long poll; later calls fail at once', async () => {
    const polled = next(client);
    client.close();
    const { failure } = await polled;
    assert.equal(failure!.fatal, true);
    assert.match(failure!.message, /^cannot reach the Runtime API at 127\.0\.0\.1:\d+ \(GET \/2018-06-01\/runtime\/invocation\/next\)/);
    let sync: RuntimeApiFailure | undefined;
    client.respond('x', '{}', (failure) => (sync = failure));
    assert.deepEqual(sync, { message: 'the runtime client is closed', fatal: true });
  });

  it('init/error posts the error with its type; a second call made meanwhile waits its turn', async () => {
    const fresh = new RuntimeApiServer({ onReady() {}, onAnswer() {}, onInitError: (payload, errorType) => initErrors.push([payload, errorType]) });
    const initClient = new RuntimeApiClient(await fresh.listen());
    const error = { errorType: 'Runtime.ImportModuleError', errorMessage: 'Cannot find module' };
    const [first, second] = await Promise.all([initClient.initError(error), initClient.initError(error)]);
    assert.equal(first, undefined);
    // The Runtime API accepts one init error: the second is refused, which shows it was sent after the first.
    assert.equal(second!.status, 403);
    assert.deepEqual(initErrors, [[JSON.stringify(error), 'Runtime.ImportModuleError']]);
    initClient.close();
    fresh.close();
  });
});

/** A raw TCP server: `answer` gets each request's head and body and the connection's ordinal, and writes what it likes. */
async function rawServer(answer: (request: { head: string; body: string; connection: number; socket: Socket; index: number }) => void): Promise<{ address: string; server: Server; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    const connection = ++connections;
    let index = 0;
    let buffered = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (data) => {
      buffered = Buffer.concat([buffered, data]);
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = buffered.toString('latin1', 0, headEnd);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < headEnd + 4 + length) return;
        const body = buffered.toString('utf8', headEnd + 4, headEnd + 4 + length);
        buffered = buffered.subarray(headEnd + 4 + length);
        answer({ head, body, connection, socket, index: index++ });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, server, connections: () => connections };
}

/** `text` written a few bytes at a time, each piece on its own turn of the event loop. */
function trickle(socket: Socket, text: string, size = 3): void {
  const bytes = Buffer.from(text);
  let at = 0;
  const write = () => {
    if (socket.destroyed) return;
    socket.write(bytes.subarray(at, at + size));
    at += size;
    if (at < bytes.length) setTimeout(write, 0);
  };
  write();
}

const INVOCATION_HEAD = 'HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: abc\r\nLambda-Runtime-Deadline-Ms: 99\r\nLambda-Runtime-Invoked-Function-Arn: arn:x\r\nLambda-Runtime-Cognito-Identity: {"cognitoIdentityId":"i"}\r\n';
const ACCEPTED = 'HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{"status":"OK"}';

describe('RuntimeApiClient against a raw server', () => {
  const servers: Server[] = [];
  after(() => {
    for (const server of servers) server.close();
  });

  it('sends well-formed requests: Host, Content-Type, Content-Length in bytes, the error type', async () => {
    const heads: string[] = [];
    const bodies: string[] = [];
    const raw = await rawServer(({ head, body, socket }) => {
      heads.push(head);
      bodies.push(body);
      socket.write(ACCEPTED);
    });
    servers.push(raw.server);
    const client = new RuntimeApiClient(raw.address);
    assert.equal(await respond(client, 'a/b', `"${EURO}"`), undefined);
    assert.equal(await new Promise((resolve) => client.fail('r', '{}', 'Handled', resolve)), undefined);
    client.close();
    const port = raw.address.split(':')[1];
    assert.equal(heads[0], `POST /2018-06-01/runtime/invocation/a%2Fb/response HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(`"${EURO}"`)}`);
    assert.match(heads[1]!, /\r\nLambda-Runtime-Function-Error-Type: Handled\r\n/);
    assert.deepEqual(bodies, [`"${EURO}"`, '{}']);
    assert.equal(raw.connections(), 1);
  });

  it('reads a chunked invocation trickled in small reads, as Go servers send larger bodies', async () => {
    const event = JSON.stringify({ text: EURO.repeat(50) });
    const raw = await rawServer(({ socket }) => {
      const bytes = Buffer.from(event);
      const chunks = [bytes.subarray(0, 7), bytes.subarray(7, 300), bytes.subarray(300)];
      // Latin-1 write keeps the chunk bytes as they are, cutting characters in the middle.
      const body = chunks.map((chunk) => `${chunk.length.toString(16)};ext=1\r\n${chunk.toString('latin1')}\r\n`).join('');
      const bytesOut = Buffer.from(`${INVOCATION_HEAD}Transfer-Encoding: chunked\r\n\r\n${body}0\r\nX-Trailer: t\r\n\r\n`, 'latin1');
      let at = 0;
      const write = () => {
        socket.write(bytesOut.subarray(at, at + 5));
        at += 5;
        if (at < bytesOut.length) setTimeout(write, 0);
      };
      write();
    });
    servers.push(raw.server);
    const client = new RuntimeApiClient(raw.address);
    const { failure, invocation } = await next(client);
    client.close();
    assert.equal(failure, undefined);
    assert.deepEqual(invocation, {
      requestId: 'abc',
      invokedFunctionArn: 'arn:x',
      deadlineMs: 99,
      clientContext: undefined,
      traceId: undefined,
      cognitoIdentity: '{"cognitoIdentityId":"i"}',
      body: event,
    });
  });

  it('a server that closes the idle connection: the next call connects again', async () => {
    let firstClosed!: () => void;
    const closed = new Promise<void>((resolve) => (firstClosed = resolve));
    const raw = await rawServer(({ socket }) => {
      socket.once('close', firstClosed);
      // Written out, then closed from this side.
      socket.end(ACCEPTED, () => socket.destroy());
    });
    servers.push(raw.server);
    const client = new RuntimeApiClient(raw.address);
    assert.equal(await respond(client, 'a', '{}'), undefined);
    // The server has closed the first connection before the next call.
    await closed;
    assert.equal(await respond(client, 'b', '{}'), undefined);
    client.close();
    assert.equal(raw.connections(), 2);
  });

  it('a server that answers Connection: close: the next call connects again', async () => {
    const raw = await rawServer(({ socket }) => socket.write('HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'));
    servers.push(raw.server);
    const client = new RuntimeApiClient(raw.address);
    assert.equal(await respond(client, 'a', '{}'), undefined);
    assert.equal(await respond(client, 'b', '{}'), undefined);
    client.close();
    assert.equal(raw.connections(), 2);
  });

  it('a reused connection that fails before answering: the call is sent once more, on a new connection', async () => {
    const raw = await rawServer(({ socket, index }) => {
      if (index === 1) socket.resetAndDestroy();
      else socket.write(ACCEPTED);
    });
    servers.push(raw.server);
    const client = new RuntimeApiClient(raw.address);
    assert.equal(await respond(client, 'a', '{}'), undefined);
    assert.equal(await respond(client, 'b', '{}'), undefined);
    client.close();
    assert.equal(raw.connections(), 2);
  });

  it('but only once: a new connection that fails too fails the call', async () => {
    // Connection 1 answers its first request and drops the next one; every later connection drops its request.
    const raw = await rawServer(({ socket, connection, index }) => {
      if (connection === 1 && index === 0) socket.write(ACCEPTED);
      else socket.destroy();
    });
    servers.push(raw.server);
    const client = new RuntimeApiClient(raw.address);
    assert.equal(await respond(client, 'a', '{}'), undefined);
    const failure = await respond(client, 'b', '{}');
    client.close();
    assert.equal(failure!.fatal, true);
    assert.match(failure!.message, /^cannot reach the Runtime API at 127\.0\.0\.1:\d+ \(POST \/2018-06-01\/runtime\/invocation\/b\/response\): /);
    assert.equal(raw.connections(), 2);
  });

  it('a connection lost mid-response fails the call, fatally, without a retry', async () => {
    const raw = await rawServer(({ socket, index }) => {
      if (index === 0) socket.write(ACCEPTED);
      else socket.end(`${INVOCATION_HEAD}Content-Length: 100\r\n\r\n{"partial":`);
    });
    servers.push(raw.server);
    const client = new RuntimeApiClient(raw.address);
    assert.equal(await respond(client, 'a', '{}'), undefined);
    const { failure } = await next(client);
    client.close();
    assert.equal(failure!.fatal, true);
    assert.match(failure!.message, /^GET \/2018-06-01\/runtime\/invocation\/next: /);
    assert.equal(raw.connections(), 1);
  });

  it('statuses: a 5xx is fatal, a next that is not 200 is fatal, an invocation without a request id is fatal', async () => {
    const replies = [
      'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom',
      'HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}',
    ];
    const raw = await rawServer(({ socket, index }) => trickle(socket, replies[index]!));
    servers.push(raw.server);
    const client = new RuntimeApiClient(raw.address);
    assert.deepEqual(await respond(client, 'a', '{}'), { message: 'the Runtime API answered 500 to invocation/a/response: boom', status: 500, fatal: true });
    assert.deepEqual((await next(client)).failure, { message: 'the Runtime API answered 403 to invocation/next: no', status: 403, fatal: true });
    assert.deepEqual((await next(client)).failure, { message: 'the Runtime API sent an invocation without Lambda-Runtime-Aws-Request-Id', fatal: true });
    client.close();
  });

  it('a garbled response fails the call; the next call gets a new connection', async () => {
    const raw = await rawServer(({ socket, connection }) => socket.write(connection === 1 ? 'HTTP/1.1 OK\r\n\r\n' : ACCEPTED));
    servers.push(raw.server);
    const client = new RuntimeApiClient(raw.address);
    const failure = await respond(client, 'a', '{}');
    assert.equal(failure!.fatal, true);
    assert.match(failure!.message, /malformed response/);
    assert.equal(await respond(client, 'b', '{}'), undefined);
    client.close();
    assert.equal(raw.connections(), 2);
  });

  it('a response nobody asked for (two answers in one read): the call gets the first, the next call a new connection', async () => {
    const raw = await rawServer(({ socket, connection }) => socket.write(connection === 1 ? `${ACCEPTED}${ACCEPTED}` : ACCEPTED));
    servers.push(raw.server);
    const client = new RuntimeApiClient(raw.address);
    assert.equal(await respond(client, 'a', '{}'), undefined);
    assert.equal(await respond(client, 'b', '{}'), undefined);
    client.close();
    assert.equal(raw.connections(), 2);
  });

  it('nothing listening: a fatal failure naming the address', async () => {
    const raw = await rawServer(() => {});
    const { address } = raw;
    await new Promise((resolve) => raw.server.close(resolve));
    const client = new RuntimeApiClient(address);
    const { failure } = await next(client);
    assert.equal(failure!.fatal, true);
    assert.match(failure!.message, /^cannot reach the Runtime API at 127\.0\.0\.1:\d+ \(GET \/2018-06-01\/runtime\/invocation\/next\): connect ECONNREFUSED/);
  });
});
