/**
 * The Invoke API through @aws-sdk/client-lambda over real HTTP: invocation types, Tail
 * logs, name forms, headers and every service error.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, ResourceNotFoundException, InvalidRequestContentException, InvalidParameterValueException } from '@aws-sdk/client-lambda';
import { createLogger } from '../../src/log.js';
import { decodeLog, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { exchangeUntilClose } from '../helpers/raw-http.js';
import { gate } from '../helpers/gate.js';
import { waitUntil } from '../helpers/wait-until.js';

describe('Invoke API', () => {
  let fx: FixtureServer;
  before(async () => {
    fx = await startFixtureServer();
  });
  after(() => fx.close());

  it('RequestResponse returns 200, the payload, the executed version and the request id', async () => {
    const out = await fx.invoke('echo', { hello: 'world' });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.ExecutedVersion, '$LATEST');
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(out.json.event, { hello: 'world' });
    assert.equal(out.json.requestId, out.$metadata.requestId, 'x-amzn-RequestId is context.awsRequestId');
  });

  it('treats an empty body as {}', async () => {
    const out = await fx.lambda.send(new InvokeCommand({ FunctionName: 'echo' }));
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload!).toString()).event, {});
  });

  it('accepts any JSON value as the event', async () => {
    for (const event of [42, 'text', [1, 2], null, true]) {
      const out = await fx.invoke('echo', event);
      assert.deepEqual(out.json.event, event);
    }
  });

  it('returns "null" for a handler that returns undefined', async () => {
    const out = await fx.invoke('faults', { fault: 'undefined' });
    assert.equal(out.text, 'null');
  });

  it('Event returns 202 at once and runs the function in the background', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'serverfull-event-')), 'event.json');
    // The function cannot write before the gate opens: a response that waited for it would never come.
    const held = gate();
    const out = await fx.invoke('record', { file, value: 'from an event', gate: held.dir }, { InvocationType: 'Event' });
    assert.equal(out.StatusCode, 202);
    assert.equal(out.text, '');
    assert.ok(out.$metadata.requestId);
    assert.equal(existsSync(file), false, 'the response did not wait for the function');
    await held.arrived();
    held.open();
    await waitUntil(() => existsSync(file), 'the event is recorded');
    assert.equal(readFileSync(file, 'utf8'), '"from an event"');
    held.remove();
  });

  it('DryRun returns 204 without running the function', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'serverfull-dryrun-')), 'event.json');
    // A server of its own: closing it waits for every invocation it started, in the background too.
    const own = await startFixtureServer();
    try {
      const out = await own.invoke('record', { file, value: 'dry' }, { InvocationType: 'DryRun' });
      assert.equal(out.StatusCode, 204);
    } finally {
      await own.close();
    }
    assert.equal(existsSync(file), false);
  });

  it('Tail returns START, the function output, END and REPORT, base64', async () => {
    const out = await fx.invoke('logs', { who: 'test' }, { LogType: 'Tail' });
    const log = decodeLog(out.LogResult);
    const id = out.$metadata.requestId!;
    assert.match(log, new RegExp(`^START RequestId: ${id} Version: \\$LATEST\\n`));
    assert.match(log, new RegExp(`\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${id}\\tINFO\\thello from test\\n`));
    assert.match(log, new RegExp(`\\t${id}\\tWARN\\ta warning\\n`));
    assert.match(log, new RegExp(`\\t${id}\\tERROR\\tan error line\\n`));
    assert.match(log, /raw stdout write\n/);
    assert.match(log, new RegExp(`END RequestId: ${id}\\n`));
    assert.match(log, new RegExp(`REPORT RequestId: ${id}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB`));
  });

  it('Tail keeps only the last 4 KB', async () => {
    const out = await fx.invoke('logs', { lines: 200 }, { LogType: 'Tail' });
    const bytes = Buffer.from(out.LogResult!, 'base64');
    assert.equal(bytes.length, 4096);
    assert.match(bytes.toString(), /line 199 x+\n/);
    assert.match(bytes.toString(), /REPORT RequestId/);
    assert.doesNotMatch(bytes.toString(), /START RequestId/);
  });

  it('reports Init Duration on a cold start only', async () => {
    const fresh = await startFixtureServer();
    try {
      const cold = decodeLog((await fresh.invoke('logs', {}, { LogType: 'Tail' })).LogResult);
      const warm = decodeLog((await fresh.invoke('logs', {}, { LogType: 'Tail' })).LogResult);
      assert.match(cold, /Init Duration: [\d.]+ ms/);
      assert.doesNotMatch(warm, /Init Duration/);
    } finally {
      await fresh.close();
    }
  });

  it('output from module initialisation appears in the first invocation log', async () => {
    const out = await fx.invoke('init-log', {}, { LogType: 'Tail' });
    assert.match(decodeLog(out.LogResult), /INFO\tinitialising the module\n/);
  });

  it('does not return a log without Tail', async () => {
    const out = await fx.invoke('logs', {});
    assert.equal(out.LogResult, undefined);
  });

  it('passes the client context to the function', async () => {
    const clientContext = { custom: { foo: 'bar' }, client: { installation_id: 'x' }, env: { locale: 'en' } };
    const out = await fx.invoke('echo', {}, { ClientContext: Buffer.from(JSON.stringify(clientContext)).toString('base64') });
    assert.deepEqual(out.json.clientContext, clientContext);
  });

  it('rejects a client context that is not base64 JSON', async () => {
    await assert.rejects(fx.invoke('echo', {}, { ClientContext: Buffer.from('not json').toString('base64') }), InvalidRequestContentException);
  });

  describe('function name forms', () => {
    const arn = 'arn:aws:lambda:us-east-1:000000000000:function:echo';
    const forms: Array<[string, string | undefined, string]> = [
      ['echo', undefined, arn],
      [arn, undefined, arn],
      ['000000000000:function:echo', undefined, arn],
      ['echo:$LATEST', undefined, `${arn}:$LATEST`],
      [`${arn}:$LATEST`, undefined, `${arn}:$LATEST`],
      ['echo', '$LATEST', `${arn}:$LATEST`],
    ];
    for (const [name, qualifier, invokedArn] of forms) {
      it(`${name}${qualifier ? ` with Qualifier ${qualifier}` : ''}`, async () => {
        const out = await fx.invoke(name, {}, { Qualifier: qualifier });
        assert.equal(out.StatusCode, 200);
        assert.equal(out.json.invokedFunctionArn, invokedArn);
        assert.equal(out.ExecutedVersion, '$LATEST');
      });
    }

    it('rejects a qualifier that disagrees with the name', async () => {
      await assert.rejects(fx.invoke('echo:$LATEST', {}, { Qualifier: 'prod' }), (error: Error) => {
        assert.ok(error instanceof InvalidParameterValueException);
        assert.equal(error.message, 'The derived qualifier from the function name does not match the specified qualifier.');
        return true;
      });
    });

    it('answers 404 for another region', async () => {
      await assert.rejects(fx.invoke('arn:aws:lambda:eu-west-1:000000000000:function:echo'), (error: Error) => {
        assert.ok(error instanceof ResourceNotFoundException);
        assert.equal(error.message, "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')");
        return true;
      });
    });

    it('answers 404 for an unknown version', async () => {
      await assert.rejects(fx.invoke('echo', {}, { Qualifier: '7' }), (error: Error) => {
        assert.ok(error instanceof ResourceNotFoundException);
        assert.equal(error.message, 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:echo:7');
        return true;
      });
    });

    it('answers ValidationException for a malformed name', async () => {
      await assert.rejects(fx.invoke('invalid:function:name'), (error: Error & { $metadata: { httpStatusCode?: number } }) => {
        assert.equal(error.name, 'ValidationException');
        assert.equal(error.$metadata.httpStatusCode, 400);
        assert.match(error.message, /Value 'invalid:function:name' at 'functionName' failed to satisfy constraint/);
        return true;
      });
    });
  });

  describe('service errors', () => {
    it('unknown function: 404 ResourceNotFoundException with the full ARN', async () => {
      await assert.rejects(fx.invoke('does-not-exist'), (error: Error & { $metadata: { httpStatusCode?: number } }) => {
        assert.ok(error instanceof ResourceNotFoundException);
        assert.equal(error.$metadata.httpStatusCode, 404);
        assert.equal(error.message, 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:does-not-exist:$LATEST');
        return true;
      });
    });

    it('unparseable payload: 400 InvalidRequestContentException', async () => {
      await assert.rejects(
        fx.lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{"unterminated": ') })),
        (error: Error) => {
          assert.ok(error instanceof InvalidRequestContentException);
          assert.match(error.message, /^Could not parse request body into json: Could not parse payload into json: /);
          return true;
        },
      );
    });

    it('invalid UTF-8 payload: 400 InvalidRequestContentException', async () => {
      await assert.rejects(
        fx.lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from([0x22, 0x87, 0x22]) })),
        InvalidRequestContentException,
      );
    });

    it('payload over 6 MB: 413 RequestEntityTooLargeException', async () => {
      const payload = Buffer.from(JSON.stringify('x'.repeat(6_291_456)));
      await assert.rejects(fx.lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: payload })), (error: Error & { $metadata: { httpStatusCode?: number } }) => {
        assert.equal(error.name, 'RequestEntityTooLargeException');
        assert.equal(error.$metadata.httpStatusCode, 413);
        assert.equal(error.message, 'Request must be smaller than 6291456 bytes for the InvokeFunction operation');
        return true;
      });
      assert.equal((await fx.invoke('echo', { after: 'too large' })).StatusCode, 200);
    });

    it('Event payload over 1 MB: 413, while the same payload works synchronously', async () => {
      const payload = Buffer.from(JSON.stringify('x'.repeat(1_048_576)));
      await assert.rejects(
        fx.lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: payload, InvocationType: 'Event' })),
        (error: Error & { $metadata: { httpStatusCode?: number } }) => error.$metadata.httpStatusCode === 413,
      );
      const out = await fx.lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: payload }));
      assert.equal(out.StatusCode, 200);
    });

    it('an invalid invocation type: 400 ValidationException', async () => {
      const response = await fetch(`${fx.server.url}/2015-03-31/functions/echo/invocations`, {
        method: 'POST',
        headers: { 'x-amz-invocation-type': 'Sometimes' },
        body: '{}',
      });
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('x-amzn-errortype'), 'ValidationException');
    });

    it('unknown route: 404 with an AWS error body', async () => {
      const response = await fetch(`${fx.server.url}/2015-03-31/nothing-here`);
      assert.equal(response.status, 404);
      assert.equal(response.headers.get('x-amzn-errortype'), 'UnknownOperationException');
      assert.deepEqual(await response.json(), { Type: 'User', message: 'Unknown operation' });
    });
  });

  it('a client that disconnects mid-body or mid-invocation does not disturb the server', async () => {
    // A server of its own whose request log this test reads: one line per request once the server is done with it.
    const lines: string[] = [];
    const own = await startFixtureServer({ logger: createLogger({ level: 'info', format: 'json', write: (line) => lines.push(line) }) });
    const handled = (name: string) => lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'request' && line.function === name).length;
    const { port } = new URL(own.server.url);
    /** Opens a connection and writes `raw`; resolves with the socket once the bytes are sent. */
    const send = (raw: string) =>
      new Promise<Socket>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.write(raw, () => resolve(socket)));
        socket.on('error', () => {});
      });
    try {
      // Half a body, then the connection ends: the server reads the bytes before the end of the stream.
      (await send('POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"a":')).destroy();
      await waitUntil(() => handled('echo') === 1, 'the server is done with the half-sent request', { detail: () => lines.join('') });
      // A whole request, and the client leaves while the function runs (held at a gate).
      const held = gate();
      const body = JSON.stringify({ gate: held.dir });
      const invocation = await send(`POST /2015-03-31/functions/counter/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      await held.arrived();
      invocation.destroy();
      held.open();
      await waitUntil(() => handled('counter') === 1, 'the server is done with the abandoned invocation', { detail: () => lines.join('') });
      held.remove();
      assert.equal((await own.invoke('echo', { after: 'disconnects' })).StatusCode, 200);
      assert.equal((await own.invoke('counter')).StatusCode, 200);
    } finally {
      await own.close();
    }
  });

  it('closes the connection after answering a request with Connection: close', { timeout: 30_000 }, async () => {
    // The timeout only turns a connection left open (a pending promise) into a failure.
    const requests = [
      'POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 7\r\n\r\n{"a":1}',
      'POST /2015-03-31/functions/missing/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}',
      'GET /healthcheck HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    ];
    for (const request of requests) {
      const raw = await exchangeUntilClose(fx.server.url, request);
      assert.match(raw.head, /\r\nConnection: close(\r\n|$)/i, raw.head);
    }
  });

  it('GET /healthcheck answers 200', async () => {
    const response = await fetch(`${fx.server.url}/healthcheck`);
    assert.equal(response.status, 200);
  });
});
