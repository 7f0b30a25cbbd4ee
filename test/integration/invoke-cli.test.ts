/**
 * `serverfull invoke` and `serverfull deploy` as AWS SDK clients, against a stand-in server that
 * records each request: they sign with the credential chain (placeholder keys when it has
 * none), send the invocation options as the Invoke API's headers, and report an error
 * response the way any AWS client parses it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FIXTURES } from '../helpers/fixture-server.js';
import { runCli } from '../helpers/cli-process.js';
import { join } from 'node:path';

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** No credentials from the environment, files or the instance metadata service: the chain finds none. */
const NO_CREDENTIALS = { AWS_EC2_METADATA_DISABLED: 'true', HOME: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials' };

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const cli = runCli(args, { ...NO_CREDENTIALS, ...env });
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

describe('serverfull invoke and deploy as SDK clients', () => {
  let server: Server;
  let endpoint: string;
  const requests: Recorded[] = [];
  let answer: (request: Recorded, response: ServerResponse) => void;

  before(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const recorded = { method: request.method!, url: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
        requests.push(recorded);
        answer(recorded, response);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => {
    requests.length = 0;
  });

  it('signs with placeholder keys when the credential chain has none, and with the chain\'s keys when it has some', async () => {
    answer = (_, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('"ok"');
    const placeholder = await run(['invoke', 'echo', '--endpoint', endpoint]);
    assert.equal(placeholder.code, 0, placeholder.stderr);
    assert.equal(placeholder.stdout, '"ok"\n');
    assert.match(String(requests[0]!.headers.authorization), /^AWS4-HMAC-SHA256 Credential=serverfull\/\d{8}\/us-east-1\/lambda\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/);

    const fromEnv = await run(['invoke', 'echo', '--endpoint', endpoint], { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'eu-west-1' });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.match(String(requests[1]!.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/lambda\/aws4_request, /);
  });

  it('sends --qualifier, --event and --tail as the Invoke API does, and prints the accepted event\'s request id', async () => {
    answer = (_, response) => response.writeHead(202, { 'x-amzn-requestid': 'e0000000-0000-4000-8000-000000000001' }).end();
    const result = await run(['invoke', 'orders', '--endpoint', endpoint, '--qualifier', 'live', '--event', '--payload', '{"id":7}']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'accepted (RequestId e0000000-0000-4000-8000-000000000001)\n');
    const [request] = requests;
    assert.equal(request!.method, 'POST');
    assert.equal(request!.url, '/2015-03-31/functions/orders/invocations?Qualifier=live');
    assert.equal(request!.headers['x-amz-invocation-type'], 'Event');
    assert.equal(request!.body, '{"id":7}');

    answer = (_, response) => response.writeHead(200, {
      'x-amz-function-error': 'Unhandled', 'x-amz-log-result': Buffer.from('START RequestId: r\nEND RequestId: r\n').toString('base64'),
    }).end('{"errorType":"Error","errorMessage":"no"}');
    const failed = await run(['invoke', 'orders', '--endpoint', endpoint, '--tail']);
    assert.equal(failed.code, 1);
    assert.equal(requests[1]!.headers['x-amz-log-type'], 'Tail');
    assert.equal(failed.stdout, '{"errorType":"Error","errorMessage":"no"}\n');
    assert.equal(failed.stderr, 'START RequestId: r\nEND RequestId: r\nfunction error (Unhandled)\n');
  });

  it('invoke and deploy print a service error the same way: <ErrorType>: <message>, exit 2', async () => {
    answer = (_, response) => response.writeHead(429, { 'content-type': 'application/json', 'x-amzn-errortype': 'TooManyRequestsException' })
      .end('{"Type":"User","message":"Rate exceeded","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}');
    const invoked = await run(['invoke', 'orders', '--endpoint', endpoint]);
    assert.equal(invoked.code, 2);
    assert.equal(invoked.stderr, 'serverfull invoke: TooManyRequestsException: Rate exceeded\n');
    // One attempt: a failing server is reported, not retried behind the caller's back.
    assert.equal(requests.length, 1);

    const deployed = await run(['deploy', join(FIXTURES, 'deploy-app'), '--name', 'orders', '--endpoint', endpoint]);
    assert.equal(deployed.code, 2);
    assert.match(deployed.stderr, /\nserverfull deploy: TooManyRequestsException: Rate exceeded\n$/);
    assert.equal(requests[1]!.url, '/2015-03-31/functions/orders');
    assert.match(String(requests[1]!.headers.authorization), /^AWS4-HMAC-SHA256 Credential=serverfull\//);
  });

  it('a response that is no AWS error (a proxy\'s page) is reported by its HTTP status, exit 2', async () => {
    answer = (_, response) => response.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>');
    const result = await run(['invoke', 'orders', '--endpoint', endpoint]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^serverfull invoke: HTTP 502: not an AWS response \(.*\)\n$/);
  });
});
