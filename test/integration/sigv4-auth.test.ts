/**
 * SigV4 authentication and IAM authorization against requests signed by real clients:
 * @aws-sdk/client-lambda (header signatures), @smithy/signature-v4 presigned URLs and boto3.
 * Every failure is checked as the SDK reports it: exception name, message, status.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import {
  CreateFunctionCommand, GetFunctionCommand, InvokeCommand, LambdaClient, LambdaServiceException, ListFunctionsCommand,
} from '@aws-sdk/client-lambda';
import { SignatureV4 } from '@smithy/signature-v4';
import { parseKeysFile, type KeysFile } from '../../src/auth/keys-file.js';
import { NodeSha256 } from '../../src/auth/node-sha256.js';
import { ADMIN_POLICY, INVOKE_POLICY } from '../../src/auth/policy.js';
import { SessionIssuer } from '../../src/auth/session-issuer.js';
import { startAuthTestServer, type AuthTestServer } from '../helpers/auth-test-server.js';

const IDENTITY = { region: 'us-east-1', accountId: '123456789012' };
const ADMIN = { accessKeyId: 'AKIAADMIN00000000001', secretAccessKey: 'admin/secret+admin/secret+admin/secret+1' };
const INVOKER = { accessKeyId: 'AKIAINVOKER000000001', secretAccessKey: 'invoker-secret-invoker-secret-invoker-s1' };
const ORDERS = { accessKeyId: 'AKIAORDERS0000000001', secretAccessKey: 'orders-secret-orders-secret-orders-secr1' };

const KEYS: KeysFile = parseKeysFile({
  users: {
    admin: { accessKeys: [ADMIN], policy: ADMIN_POLICY },
    invoker: { accessKeys: [INVOKER], policy: INVOKE_POLICY },
    orders: {
      accessKeys: [ORDERS],
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'InvokeOrders', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: 'arn:aws:lambda:*:*:function:orders-*' },
          { Sid: 'NotAdmin', Effect: 'Deny', Action: 'lambda:Invoke*', Resource: 'arn:aws:lambda:*:*:function:orders-admin*' },
        ],
      },
    },
  },
  roles: {
    worker: { policy: { Statement: { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:orders-*' } } },
  },
}, 'test keys');

const MISMATCH = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

function client(url: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, extra: Record<string, unknown> = {}): LambdaClient {
  return new LambdaClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1, ...extra });
}

/** A client whose signed request is changed by `tamper` after signing, as a man in the middle would. */
function tamperingClient(url: string, tamper: (request: { headers: Record<string, string>; body: unknown }) => void): LambdaClient {
  const lambda = client(url, ADMIN);
  type Middleware = Parameters<typeof lambda.middlewareStack.addRelativeTo>[0];
  const middleware = (next: (args: { request: unknown }) => Promise<unknown>) => async (args: { request: unknown }) => {
    tamper(args.request as { headers: Record<string, string>; body: unknown });
    return next(args);
  };
  lambda.middlewareStack.addRelativeTo(
    middleware as unknown as Middleware,
    { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'tamper' },
  );
  return lambda;
}

/** The SDK error a command fails with. */
async function failure(promise: Promise<unknown>): Promise<LambdaServiceException> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof LambdaServiceException, `expected a LambdaServiceException, got ${String(error)}`);
    return error;
  }
  assert.fail('the request succeeded');
}

function payloadOf(output: { Payload?: Uint8Array }): { principal: string } {
  return JSON.parse(Buffer.from(output.Payload!).toString('utf8'));
}

describe('SigV4 authentication and authorization', () => {
  const issuer = new SessionIssuer();
  let server: AuthTestServer;
  let skewedServer: AuthTestServer;
  before(async () => {
    server = await startAuthTestServer({ keys: () => KEYS, identity: IDENTITY, issuer });
    // The same keys, on a server whose clock runs 10 minutes ahead.
    skewedServer = await startAuthTestServer({ keys: () => KEYS, identity: IDENTITY, issuer, now: () => Date.now() + 10 * 60_000 });
  });
  after(async () => {
    await server.close();
    await skewedServer.close();
  });

  describe('accepts what the AWS SDK signs', () => {
    it('Invoke by name', async () => {
      const out = await client(server.url, ADMIN).send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{"a":1}') }));
      assert.equal(payloadOf(out).principal, 'arn:aws:iam::123456789012:user/admin');
    });

    it('Invoke by full ARN with a qualifier (the path is double-encoded in the signature)', async () => {
      const out = await client(server.url, ADMIN).send(new InvokeCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:hello:prod',
        Payload: Buffer.from('[1,2,3]'),
        InvocationType: 'Event',
        ClientContext: Buffer.from('{"custom":{"a":"b c"}}').toString('base64'),
      }));
      assert.equal(payloadOf(out).principal, 'arn:aws:iam::123456789012:user/admin');
    });

    it('CreateFunction with a JSON body holding a zip', async () => {
      await client(server.url, ADMIN).send(new CreateFunctionCommand({
        FunctionName: 'made', Runtime: 'nodejs22.x', Handler: 'index.handler', Role: 'arn:aws:iam::123456789012:role/r',
        Code: { ZipFile: Buffer.alloc(2048, 7) },
      }));
    });

    it('ListFunctions with query parameters that need escaping', async () => {
      await client(server.url, ADMIN).send(new ListFunctionsCommand({ Marker: 'a b/c+d=e&f~g*', MaxItems: 5, FunctionVersion: 'ALL' }));
    });

    it('a role session from the issuer, with its session token', async () => {
      const credentials = issuer.issue('worker', 'orders-fn');
      assert.match(credentials.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
      const out = await client(server.url, credentials).send(new InvokeCommand({ FunctionName: 'orders-list' }));
      assert.equal(payloadOf(out).principal, 'arn:aws:sts::123456789012:assumed-role/worker/orders-fn');
    });
  });

  describe('refuses with the exception AWS sends', () => {
    it('(control: the tampering hook itself, changing nothing, breaks nothing)', async () => {
      const out = await tamperingClient(server.url, () => {}).send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{}') }));
      assert.equal(payloadOf(out).principal, 'arn:aws:iam::123456789012:user/admin');
    });

    it('no signature: MissingAuthenticationTokenException', async () => {
      const lambda = tamperingClient(server.url, (request) => {
        delete request.headers.authorization;
      });
      const error = await failure(lambda.send(new InvokeCommand({ FunctionName: 'hello' })));
      assert.equal(error.name, 'MissingAuthenticationTokenException');
      assert.equal(error.message, 'Missing Authentication Token');
      assert.equal(error.$metadata.httpStatusCode, 403);
    });

    it('no signature, on the wire: the header and {"message"}', async () => {
      const response = await fetch(`${server.url}/2015-03-31/functions/hello/invocations`, { method: 'POST', body: '{}' });
      assert.equal(response.status, 403);
      assert.equal(response.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
      assert.deepEqual(await response.json(), { message: 'Missing Authentication Token' });
    });

    it('an unsigned upload is refused before its body is read', async () => {
      const before = server.bodiesRead();
      const response = await fetch(`${server.url}/2015-03-31/functions`, { method: 'POST', body: JSON.stringify({ FunctionName: 'x', Code: { ZipFile: 'A'.repeat(4096) } }) });
      assert.equal(response.status, 403);
      assert.equal(response.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
      assert.equal(server.bodiesRead(), before);
    });

    it('an unknown access key: UnrecognizedClientException', async () => {
      const error = await failure(client(server.url, { accessKeyId: 'AKIAUNKNOWN000000001', secretAccessKey: ADMIN.secretAccessKey }).send(new InvokeCommand({ FunctionName: 'hello' })));
      assert.equal(error.name, 'UnrecognizedClientException');
      assert.equal(error.message, 'The security token included in the request is invalid.');
    });

    it('a wrong secret: InvalidSignatureException, without the secret in the answer', async () => {
      const wrong = { accessKeyId: ADMIN.accessKeyId, secretAccessKey: 'not-the-secret-not-the-secret-not-the-se' };
      const error = await failure(client(server.url, wrong).send(new InvokeCommand({ FunctionName: 'hello' })));
      assert.equal(error.name, 'InvalidSignatureException');
      assert.equal(error.message, MISMATCH);
      assert.ok(!JSON.stringify(error).includes(ADMIN.secretAccessKey));
    });

    it('a client clock 10 minutes behind: "Signature expired"', async () => {
      const error = await failure(client(server.url, ADMIN, { systemClockOffset: -10 * 60_000 }).send(new InvokeCommand({ FunctionName: 'hello' })));
      assert.equal(error.name, 'InvalidSignatureException');
      assert.match(error.message, /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
    });

    it('a client clock 10 minutes ahead: "Signature not yet current"', async () => {
      const error = await failure(client(server.url, ADMIN, { systemClockOffset: 10 * 60_000 }).send(new InvokeCommand({ FunctionName: 'hello' })));
      assert.equal(error.name, 'InvalidSignatureException');
      assert.match(error.message, /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 5 min\.\)$/);
    });

    it('a server clock 10 minutes ahead of the X-Amz-Date: "Signature expired"', async () => {
      const error = await failure(client(skewedServer.url, ADMIN).send(new InvokeCommand({ FunctionName: 'hello' })));
      assert.equal(error.name, 'InvalidSignatureException');
      assert.match(error.message, /^Signature expired: /);
    });

    it('a body changed after signing, x-amz-content-sha256 left as signed', async () => {
      const lambda = tamperingClient(server.url, (request) => {
        request.body = Buffer.from('{"amount":1000000}');
        request.headers['content-length'] = String((request.body as Buffer).length);
      });
      const error = await failure(lambda.send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{"amount":1}') })));
      assert.equal(error.name, 'InvalidSignatureException');
      assert.equal(error.message, MISMATCH);
    });

    it('a body changed after signing, x-amz-content-sha256 recomputed to match it', async () => {
      const lambda = tamperingClient(server.url, (request) => {
        request.body = Buffer.from('{"amount":1000000}');
        request.headers['content-length'] = String((request.body as Buffer).length);
        request.headers['x-amz-content-sha256'] = createHash('sha256').update(request.body as Buffer).digest('hex');
      });
      const error = await failure(lambda.send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{"amount":1}') })));
      assert.equal(error.name, 'InvalidSignatureException');
    });

    it('a signed header changed after signing', async () => {
      const lambda = tamperingClient(server.url, (request) => {
        request.headers['x-amz-invocation-type'] = 'Event';
      });
      const error = await failure(lambda.send(new InvokeCommand({ FunctionName: 'hello', InvocationType: 'RequestResponse' })));
      assert.equal(error.name, 'InvalidSignatureException');
      assert.equal(error.message, MISMATCH);
    });

    it('a path changed after signing (another function)', async () => {
      const lambda = tamperingClient(server.url, (request) => {
        const r = request as unknown as { path: string };
        r.path = r.path.replace('hello', 'other');
      });
      const error = await failure(lambda.send(new InvokeCommand({ FunctionName: 'hello' })));
      assert.equal(error.name, 'InvalidSignatureException');
    });

    it('an action the policy does not allow: AccessDeniedException, in Lambda\'s words', async () => {
      const error = await failure(client(server.url, INVOKER).send(new GetFunctionCommand({ FunctionName: 'hello' })));
      assert.equal(error.name, 'AccessDeniedException');
      assert.equal(error.$metadata.httpStatusCode, 403);
      assert.equal(error.message, 'User: arn:aws:iam::123456789012:user/invoker is not authorized to perform: lambda:GetFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:hello because no identity-based policy allows the lambda:GetFunction action');
    });
  });

  describe('policy: an explicit Deny beats an Allow, with wildcards', () => {
    it('orders-* is allowed', async () => {
      const out = await client(server.url, ORDERS).send(new InvokeCommand({ FunctionName: 'orders-api' }));
      assert.equal(payloadOf(out).principal, 'arn:aws:iam::123456789012:user/orders');
    });

    it('orders-admin* is denied, explicitly', async () => {
      const error = await failure(client(server.url, ORDERS).send(new InvokeCommand({ FunctionName: 'orders-admin-panel' })));
      assert.equal(error.name, 'AccessDeniedException');
      assert.equal(error.message, 'User: arn:aws:iam::123456789012:user/orders is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:orders-admin-panel with an explicit deny in an identity-based policy');
    });

    it('a qualified ARN is checked as such: orders-admin:prod is denied too', async () => {
      const error = await failure(client(server.url, ORDERS).send(new InvokeCommand({ FunctionName: 'orders-admin', Qualifier: 'prod' })));
      assert.match(error.message, /on resource: arn:aws:lambda:us-east-1:123456789012:function:orders-admin:prod with an explicit deny/);
    });

    it('anything else is denied, implicitly', async () => {
      const error = await failure(client(server.url, ORDERS).send(new InvokeCommand({ FunctionName: 'billing' })));
      assert.match(error.message, /because no identity-based policy allows the lambda:InvokeFunction action$/);
    });
  });

  describe('temporary credentials', () => {
    it('without the session token: UnrecognizedClientException', async () => {
      const { accessKeyId, secretAccessKey } = issuer.issue('worker', 'orders-fn');
      const error = await failure(client(server.url, { accessKeyId, secretAccessKey }).send(new InvokeCommand({ FunctionName: 'orders-list' })));
      assert.equal(error.name, 'UnrecognizedClientException');
    });

    it('with another session\'s token: UnrecognizedClientException', async () => {
      const one = issuer.issue('worker', 'a-session');
      const two = issuer.issue('worker', 'b-session');
      const error = await failure(client(server.url, { ...one, sessionToken: two.sessionToken }).send(new InvokeCommand({ FunctionName: 'orders-list' })));
      assert.equal(error.name, 'UnrecognizedClientException');
    });

    it('from another issuer: UnrecognizedClientException', async () => {
      const error = await failure(client(server.url, new SessionIssuer().issue('worker', 'x-session')).send(new InvokeCommand({ FunctionName: 'orders-list' })));
      assert.equal(error.name, 'UnrecognizedClientException');
    });

    it('expired: ExpiredTokenException', async () => {
      const old = new SessionIssuer({ key: Buffer.alloc(32, 1), now: () => Date.now() - 2 * 3600_000 });
      const local = await startAuthTestServer({ keys: () => KEYS, identity: IDENTITY, issuer: new SessionIssuer({ key: Buffer.alloc(32, 1) }) });
      try {
        const error = await failure(client(local.url, old.issue('worker', 'w-session', 3600)).send(new InvokeCommand({ FunctionName: 'orders-list' })));
        assert.equal(error.name, 'ExpiredTokenException');
        assert.equal(error.message, 'The security token included in the request is expired');
      } finally {
        await local.close();
      }
    });

    it('the role\'s policy applies: a session of worker may not invoke billing', async () => {
      const error = await failure(client(server.url, issuer.issue('worker', 'orders-fn')).send(new InvokeCommand({ FunctionName: 'billing' })));
      assert.equal(error.message, 'User: arn:aws:sts::123456789012:assumed-role/worker/orders-fn is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:billing because no identity-based policy allows the lambda:InvokeFunction action');
    });
  });

  describe('presigned URLs', () => {
    const signer = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
      new SignatureV4({ credentials, region: 'eu-west-1', service: 'lambda', sha256: NodeSha256 });

    async function presigned(credentials: Parameters<typeof signer>[0], method: string, path: string, body?: string, options: { signingDate?: Date; expiresIn?: number } = {}) {
      const { host, hostname, port, protocol } = new URL(server.url);
      const request = await signer(credentials).presign({
        method, protocol, hostname, port: Number(port), path, query: { MaxItems: '10' }, headers: { host }, body,
      }, options);
      const query = Object.entries(request.query ?? {}).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
      return `${server.url}${path}?${query}`;
    }

    it('a GET with a presigned query is accepted (any region in the scope)', async () => {
      const response = await fetch(await presigned(ADMIN, 'GET', '/2015-03-31/functions/'));
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { principal: 'arn:aws:iam::123456789012:user/admin' });
    });

    it('a POST with a body, and a session token in the query', async () => {
      const body = '{"order":42}';
      const response = await fetch(await presigned(issuer.issue('worker', 'p-session'), 'POST', '/2015-03-31/functions/orders-x/invocations', body), { method: 'POST', body });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { principal: 'arn:aws:sts::123456789012:assumed-role/worker/p-session' });
    });

    it('a different body than presigned is refused', async () => {
      const response = await fetch(await presigned(ADMIN, 'POST', '/2015-03-31/functions/hello/invocations', '{"a":1}'), { method: 'POST', body: '{"a":2}' });
      assert.equal(response.status, 403);
      assert.equal(response.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
    });

    it('a changed signature is refused', async () => {
      const url = await presigned(ADMIN, 'GET', '/2015-03-31/functions/');
      const response = await fetch(url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`));
      assert.equal(response.status, 403);
      assert.deepEqual(await response.json(), { message: MISMATCH });
    });

    it('an expired one is refused: "Signature expired"', async () => {
      const url = await presigned(ADMIN, 'GET', '/2015-03-31/functions/', undefined, { signingDate: new Date(Date.now() - 3600_000), expiresIn: 60 });
      const response = await fetch(url);
      assert.equal(response.status, 403);
      assert.equal(response.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
      assert.match(((await response.json()) as { message: string }).message, /^Signature expired: /);
    });

    it('one missing a part is refused: IncompleteSignatureException', async () => {
      const url = (await presigned(ADMIN, 'GET', '/2015-03-31/functions/')).replace(/&?X-Amz-SignedHeaders=[^&]*/, '');
      const response = await fetch(url);
      assert.equal(response.status, 403);
      assert.equal(response.headers.get('x-amzn-errortype'), 'IncompleteSignatureException');
    });
  });

  describe('boto3', () => {
    // One Python process for all cases: importing boto3 takes seconds.
    const script = `
import json, sys, boto3, botocore
url, cases = sys.argv[1], json.loads(sys.argv[2])
results = []
for key, secret, name in cases:
    client = boto3.client('lambda', endpoint_url=url, region_name='us-east-1', aws_access_key_id=key, aws_secret_access_key=secret,
                          config=botocore.config.Config(retries={'max_attempts': 1}))
    try:
        out = client.invoke(FunctionName=name, Payload=json.dumps({'n': 5}).encode())
        results.append({'principal': json.loads(out['Payload'].read())['principal']})
    except botocore.exceptions.ClientError as error:
        results.append({'code': error.response['Error']['Code'], 'message': error.response['Error']['Message']})
print(json.dumps(results))
`;

    it('signs Invokes the verifier accepts or refuses as AWS would', async (t) => {
      // Finding boto3 without importing it: the import alone takes a second.
      const probe = spawn('python3', ['-c', 'import importlib.util, sys; sys.exit(importlib.util.find_spec("boto3") is None)'], { stdio: 'ignore' });
      const [probed] = await once(probe, 'close');
      if (probed !== 0) return t.skip('boto3 is not installed');
      const cases = [
        [ADMIN.accessKeyId, ADMIN.secretAccessKey, 'arn:aws:lambda:us-east-1:123456789012:function:hello:1'],
        [ADMIN.accessKeyId, 'x'.repeat(40), 'hello'],
        [ORDERS.accessKeyId, ORDERS.secretAccessKey, 'orders-admin'],
      ];
      const child = spawn('python3', ['-c', script, server.url, JSON.stringify(cases)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk) => (out += chunk));
      child.stderr.on('data', (chunk) => (err += chunk));
      const [code] = await once(child, 'close');
      assert.equal(code, 0, err);
      assert.deepEqual(JSON.parse(out), [
        { principal: 'arn:aws:iam::123456789012:user/admin' },
        { code: 'InvalidSignatureException', message: MISMATCH },
        {
          code: 'AccessDeniedException',
          message: 'User: arn:aws:iam::123456789012:user/orders is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:orders-admin with an explicit deny in an identity-based policy',
        },
      ]);
    });
  });
});

