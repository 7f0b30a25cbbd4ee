/**
 * @module test/helpers/auth-test-server
 * A minimal HTTP server that only authenticates and authorizes, with `auth/request-auth`
 * (`begin` before the body is read, `finish` after):
 * 200 with the principal's ARN, or the `AwsError` rendered as AWS renders it. Real clients
 * (the AWS SDK, boto3, presigned URLs) are pointed at it.
 */
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsError } from '../../src/errors.js';
import { createRequestAuth, type RequestAuthOptions } from '../../src/auth/request-auth.js';
import { signedRequestOf } from '../../src/auth/sigv4-verifier.js';
import type { Principal } from '../../src/auth/principal.js';

/** A running auth test server. */
export interface AuthTestServer {
  readonly url: string;
  readonly server: Server;
  /** How many request bodies the server has read: a request refused before its body adds none. */
  bodiesRead(): number;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1, a free port. */
export async function startAuthTestServer(options: RequestAuthOptions): Promise<AuthTestServer> {
  const auth = createRequestAuth(options);
  let bodiesRead = 0;
  const reply = (response: ServerResponse, outcome: Principal | AwsError, close = false) => {
    if (outcome instanceof AwsError) {
      response.writeHead(outcome.status, {
        'Content-Type': 'application/json', 'x-amzn-RequestId': 'test', 'x-amzn-ErrorType': outcome.type, ...(close ? { Connection: 'close' } : {}),
      }).end(outcome.toBody());
      return;
    }
    // Answers every operation with the principal: the SDK reads unknown fields as nothing.
    response.writeHead(200, { 'Content-Type': 'application/json', 'x-amzn-RequestId': 'test' }).end(JSON.stringify({ principal: outcome.arn }));
  };
  const server = createServer((request, response) => {
    // As a pipeline should: the checks that need no body first, so a refused upload is never read.
    const pending = auth.begin(signedRequestOf(request));
    if (pending instanceof AwsError) return reply(response, pending, true);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodiesRead++;
      pending.finish(Buffer.concat(chunks)).then((outcome) => reply(response, outcome), (error: unknown) => {
        response.writeHead(500).end(String(error));
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    bodiesRead: () => bodiesRead,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
