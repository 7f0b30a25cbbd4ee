/**
 * @module test/helpers/auth-test-server
 * A minimal HTTP server that only authenticates and authorizes, with `auth/request-auth`:
 * 200 with the principal's ARN, or the `AwsError` rendered as AWS renders it. Real clients
 * (the AWS SDK, boto3, presigned URLs) are pointed at it.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsError } from '../../src/errors.js';
import { createRequestAuth, type RequestAuthOptions } from '../../src/auth/request-auth.js';
import { signedRequestOf } from '../../src/auth/sigv4-verifier.js';

/** A running auth test server. */
export interface AuthTestServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1, a free port. */
export async function startAuthTestServer(options: RequestAuthOptions): Promise<AuthTestServer> {
  const auth = createRequestAuth(options);
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      auth.check(signedRequestOf(request, Buffer.concat(chunks))).then((outcome) => {
        if (outcome instanceof AwsError) {
          const body = outcome.toBody();
          response.writeHead(outcome.status, { 'Content-Type': 'application/json', 'x-amzn-RequestId': 'test', 'x-amzn-ErrorType': outcome.type }).end(body);
          return;
        }
        // Answers every operation with the principal: the SDK reads unknown fields as nothing.
        const body = JSON.stringify({ principal: outcome.arn });
        response.writeHead(200, { 'Content-Type': 'application/json', 'x-amzn-RequestId': 'test' }).end(body);
      }, (error: unknown) => {
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
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
