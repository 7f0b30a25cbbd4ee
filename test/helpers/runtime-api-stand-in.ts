/**
 * @module test/helpers/runtime-api-stand-in
 * A minimal Lambda Runtime API for testing runtimes: queue invocations, park `next`
 * long polls until one is queued, collect responses, errors and init errors.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The optional `Lambda-Runtime-*` headers of one invocation. */
export interface InvocationHeaders {
  readonly traceId?: string;
  /** JSON text, as the Invoke API decoded it from `X-Amz-Client-Context`. */
  readonly clientContext?: string;
  /** JSON text. */
  readonly cognitoIdentity?: string;
}

/** How the runtime answered one invocation (or init). */
export interface RuntimeAnswer {
  readonly kind: 'response' | 'error';
  readonly requestId: string;
  readonly body: string;
  readonly json: any;
  /** `Lambda-Runtime-Function-Error-Type`, on errors. */
  readonly errorType?: string;
}

/** A Runtime API on 127.0.0.1 and what runtimes posted to it. */
export interface RuntimeApiStandIn {
  /** `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`. */
  readonly address: string;
  /** Every request received, as `METHOD path`, in order. */
  readonly calls: readonly string[];
  /**
   * How many `next` requests are parked. A runtime that was killed leaves its request here until
   * the stand-in has seen the connection close: an invocation handed to it then would be lost.
   */
  readonly waiting: number;
  /** Queues an invocation; resolves with the runtime's answer to it. */
  invoke(event: unknown, headers?: InvocationHeaders): Promise<RuntimeAnswer>;
  /** Resolves with the first `/init/error` posted. */
  initError(): Promise<RuntimeAnswer>;
  /** Answers the next response or error POST with `status` (413, 500, ...) instead of 202; the invocation still settles with what was posted. */
  refuseNextAnswer(status: number): void;
  close(): Promise<void>;
}

const PREFIX = '/2018-06-01/runtime/';
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:stand-in';
/** How long each invocation may run, as `Lambda-Runtime-Deadline-Ms` tells the runtime: ample for a loaded machine. */
export const DEADLINE_MS = 30_000;

interface Queued {
  readonly requestId: string;
  readonly body: string;
  readonly headers: InvocationHeaders;
  readonly answered: (answer: RuntimeAnswer) => void;
}

/** Starts a stand-in on a free port. */
export async function startRuntimeApiStandIn(): Promise<RuntimeApiStandIn> {
  const queue: Queued[] = [];
  const parked: ServerResponse[] = [];
  const inFlight = new Map<string, Queued>();
  const calls: string[] = [];
  let initError: RuntimeAnswer | undefined;
  const initWaiters: Array<(answer: RuntimeAnswer) => void> = [];
  let refusal: number | undefined;

  const deliver = () => {
    while (queue.length > 0 && parked.length > 0) {
      const invocation = queue.shift()!;
      const res = parked.shift()!;
      inFlight.set(invocation.requestId, invocation);
      const { traceId, clientContext, cognitoIdentity } = invocation.headers;
      res.writeHead(200, {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': invocation.requestId,
        'lambda-runtime-deadline-ms': String(Date.now() + DEADLINE_MS),
        'lambda-runtime-invoked-function-arn': FUNCTION_ARN,
        ...(traceId === undefined ? {} : { 'lambda-runtime-trace-id': traceId }),
        ...(clientContext === undefined ? {} : { 'lambda-runtime-client-context': clientContext }),
        ...(cognitoIdentity === undefined ? {} : { 'lambda-runtime-cognito-identity': cognitoIdentity }),
      });
      res.end(invocation.body);
    }
  };

  const server = createServer((req, res) => {
    const path = req.url ?? '';
    calls.push(`${req.method} ${path.startsWith(PREFIX) ? path.slice(PREFIX.length) : path}`);
    readBody(req, (body) => route(req, res, path, body));
  });

  const route = (req: IncomingMessage, res: ServerResponse, path: string, body: string) => {
    if (req.method === 'GET' && path === `${PREFIX}invocation/next`) {
      parked.push(res);
      res.on('close', () => {
        const index = parked.indexOf(res);
        if (index >= 0) parked.splice(index, 1);
      });
      return deliver();
    }
    const errorType = req.headers['lambda-runtime-function-error-type'] as string | undefined;
    if (req.method === 'POST' && path === `${PREFIX}init/error`) {
      initError ??= answer('error', '', body, errorType);
      for (const waiter of initWaiters.splice(0)) waiter(initError);
      return accepted(res);
    }
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (req.method !== 'POST' || !match) return reply(res, 404, { errorType: 'InvalidRequest', errorMessage: `No route for ${req.method} ${path}` });
    const requestId = decodeURIComponent(match[1]!);
    const invocation = inFlight.get(requestId);
    if (!invocation) return reply(res, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
    inFlight.delete(requestId);
    if (refusal === undefined) accepted(res);
    else reply(res, refusal, { errorType: 'Refused', errorMessage: `the stand-in was told to answer ${refusal}` });
    refusal = undefined;
    invocation.answered(answer(match[2] as 'response' | 'error', requestId, body, errorType));
  };

  // A runtime under test may share this process: the stand-in's side of the connection must not count as the runtime's event loop work.
  server.on('connection', (socket) => socket.unref());
  server.keepAliveTimeout = 60_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    address: `127.0.0.1:${port}`,
    calls,
    get waiting() {
      return parked.length;
    },
    invoke(event, headers = {}) {
      return new Promise((answered) => {
        queue.push({ requestId: randomUUID(), body: JSON.stringify(event), headers, answered });
        deliver();
      });
    },
    refuseNextAnswer(status) {
      refusal = status;
    },
    initError() {
      return initError ? Promise.resolve(initError) : new Promise((resolve) => initWaiters.push(resolve));
    },
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}

function readBody(req: IncomingMessage, done: (body: string) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
}

function answer(kind: 'response' | 'error', requestId: string, body: string, errorType: string | undefined): RuntimeAnswer {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { kind, requestId, body, json, errorType };
}

function accepted(res: ServerResponse): void {
  reply(res, 202, { status: 'OK' });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
