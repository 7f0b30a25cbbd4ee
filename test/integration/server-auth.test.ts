/**
 * `--auth sigv4` on a real server: every Lambda API request signed and checked against the
 * caller's policy, functions calling others with their role's credentials, and the browser checks
 * in front of all of it. Driven by the SDK, raw fetch and the `serverfull` CLI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { InvokeCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { writeKeysFile } from '../../src/auth/keys-file.js';
import { serve, type RunningServer } from '../../src/index.js';
import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { CLI } from '../helpers/cli-process.js';
import { FIXTURES } from '../helpers/fixture-server.js';

const ADMIN = { accessKeyId: 'AKIAADMIN00000000001', secretAccessKey: 'admin-secret-0000000000000000000000000' };
const APP = { accessKeyId: 'AKIAAPP0000000000001', secretAccessKey: 'app-secret-00000000000000000000000000000' };
const ACCOUNT = '123456789012';
const AWS_CLI = '/usr/bin/aws';

function client(url: string, credentials: { accessKeyId: string; secretAccessKey: string }): LambdaClient {
  return new LambdaClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
}

describe('a server with --auth sigv4', { timeout: 60_000 }, () => {
  let dir: string;
  let server: RunningServer;
  let admin: LambdaClient;
  let app: LambdaClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'serverfull-auth-'));
    writeKeysFile(join(dir, 'keys.json'), {
      users: {
        admin: { accessKeys: [ADMIN], policy: { Statement: [{ Effect: 'Allow', Action: ['lambda:*', 'sns:*'], Resource: '*' }] } },
        app: {
          accessKeys: [APP],
          policy: {
            Statement: [
              { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: 'arn:aws:lambda:*:*:function:orders-*' },
              { Effect: 'Deny', Action: 'lambda:InvokeFunction', Resource: 'arn:aws:lambda:*:*:function:orders-admin*' },
              { Effect: 'Allow', Action: 'sns:Publish', Resource: `arn:aws:sns:us-east-1:${ACCOUNT}:orders` },
            ],
          },
        },
      },
      roles: {
        caller: { policy: { Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:orders-*` }] } },
      },
    });
    const echo = { handler: 'functions/echo.handler', timeout: 30 };
    const caller = { handler: 'functions/call-other.handler', timeout: 30 };
    server = await serve({
      auth: 'sigv4', port: 0, logLevel: 'silent', accountId: ACCOUNT, dataDir: join(dir, 'data'), env: {}, root: FIXTURES, isolation: 'worker',
      keys: join(dir, 'keys.json'),
      functions: {
        'orders-list': echo, 'orders-admin': echo, other: echo,
        'with-role': { ...caller, role: `arn:aws:iam::${ACCOUNT}:role/caller` },
        'without-role': caller,
      },
    });
    admin = client(server.url, ADMIN);
    app = client(server.url, APP);
  });
  after(async () => {
    admin.destroy();
    app.destroy();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('checks SNS requests against sns:* actions on the topic\'s ARN', async () => {
    const sns = (credentials: { accessKeyId: string; secretAccessKey: string }) => new SNSClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const [adminSns, appSns] = [sns(ADMIN), sns(APP)];
    try {
      const { TopicArn } = await adminSns.send(new CreateTopicCommand({ Name: 'orders' }));
      const billing = (await adminSns.send(new CreateTopicCommand({ Name: 'billing' }))).TopicArn;
      assert.ok((await appSns.send(new PublishCommand({ TopicArn, Message: 'allowed' }))).MessageId);
      for (const command of [new PublishCommand({ TopicArn: billing, Message: 'not allowed' }), new CreateTopicCommand({ Name: 'mine' })]) {
        await assert.rejects(appSns.send(command as never), (error: Error & { $metadata: { httpStatusCode?: number } }) => {
          assert.equal(error.name, 'AuthorizationErrorException', error.message);
          assert.equal(error.$metadata.httpStatusCode, 403);
          assert.match(error.message, /is not authorized to perform: sns:(Publish|CreateTopic)/);
          return true;
        });
      }
      const unsigned = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `Action=Publish&TopicArn=${TopicArn}&Message=x` });
      assert.equal(unsigned.status, 403);
    } finally {
      adminSns.destroy();
      appSns.destroy();
    }
  });

  it('refuses an unsigned request as AWS does, and answers the health check to anyone', async () => {
    const response = await fetch(`${server.url}/2015-03-31/functions/orders-list/invocations`, { method: 'POST', body: '{}' });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    assert.deepEqual(await response.json(), { message: 'Missing Authentication Token' });
    assert.equal((await fetch(`${server.url}/healthcheck`)).status, 200);
  });

  it('runs what a signed caller is allowed, and refuses the rest with AccessDeniedException', async () => {
    assert.equal((await admin.send(new InvokeCommand({ FunctionName: 'orders-admin', Payload: '{}' }))).StatusCode, 200);
    assert.ok((await admin.send(new ListFunctionsCommand({}))).Functions!.length >= 5);
    assert.equal((await app.send(new InvokeCommand({ FunctionName: 'orders-list', Payload: '{}' }))).StatusCode, 200);
    for (const name of ['orders-admin', 'other', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:orders-admin:$LATEST`]) {
      await assert.rejects(app.send(new InvokeCommand({ FunctionName: name, Payload: '{}' })), (error: Error) => {
        assert.equal(error.name, 'AccessDeniedException', name);
        assert.match(error.message, new RegExp(`^User: arn:aws:iam::${ACCOUNT}:user/app is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:${ACCOUNT}:function:`));
        return true;
      });
    }
    await assert.rejects(app.send(new ListFunctionsCommand({})), { name: 'AccessDeniedException' });
  });

  it('refuses a wrong secret and an unknown key', async () => {
    const wrong = client(server.url, { accessKeyId: ADMIN.accessKeyId, secretAccessKey: 'not-the-secret-0000000000000000000000000' });
    const unknown = client(server.url, { accessKeyId: 'AKIAUNKNOWN000000001', secretAccessKey: ADMIN.secretAccessKey });
    try {
      await assert.rejects(wrong.send(new InvokeCommand({ FunctionName: 'orders-list' })), { name: 'InvalidSignatureException' });
      await assert.rejects(unknown.send(new InvokeCommand({ FunctionName: 'orders-list' })), { name: 'UnrecognizedClientException' });
    } finally {
      wrong.destroy();
      unknown.destroy();
    }
  });

  it("gives functions their role's credentials: allowed calls go through, a function without a role is refused", async () => {
    const call = async (fn: string, target: string) => JSON.parse(Buffer.from((await admin.send(new InvokeCommand({ FunctionName: fn, Payload: JSON.stringify({ target }) }))).Payload!).toString());
    assert.deepEqual(await call('with-role', 'orders-list'), { ok: true, status: 200 });
    const denied = await call('with-role', 'other');
    assert.equal(denied.error, 'AccessDeniedException');
    assert.match(denied.message, new RegExp(`^User: arn:aws:sts::${ACCOUNT}:assumed-role/caller/with-role is not authorized`));
    assert.equal((await call('without-role', 'orders-list')).error, 'UnrecognizedClientException');
  });

  it('keeps web pages out even with a valid signature: Origin and a foreign Host are refused', async () => {
    const pages: Record<string, string>[] = [{ Origin: 'https://evil.example' }, { 'Sec-Fetch-Site': 'cross-site' }];
    for (const headers of pages) {
      const response = await fetch(`${server.url}/2015-03-31/functions/orders-list/invocations`, { method: 'POST', body: '{}', headers });
      assert.equal(response.status, 403);
      assert.equal(response.headers.get('x-amzn-errortype'), 'AccessDeniedException');
      assert.match(((await response.json()) as { Message: string }).Message, /refused/);
    }
  });

  it('serverfull invoke signs with the usual AWS credential chain', async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: ADMIN.accessKeyId, AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey, AWS_REGION: 'us-east-1' };
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'invoke', 'orders-list', '--endpoint', server.url, '--payload', '{"via":"cli"}'], { env });
    assert.deepEqual(JSON.parse(stdout).event, { via: 'cli' });
    const refused = await promisify(execFile)(process.execPath, [CLI, 'invoke', 'orders-list', '--endpoint', server.url], { env: { ...env, AWS_SECRET_ACCESS_KEY: 'wrong-secret-00000000000000000000000000' } }).catch((error: { code: number; stderr: string }) => error);
    assert.notEqual((refused as { code: number }).code, 0);
    assert.match((refused as { stderr: string }).stderr, /InvalidSignatureException|signature/);
  });

  it('the aws CLI (v2) and boto3 work with a key and nothing changed but the endpoint', { skip: existsSync(AWS_CLI) ? false : `${AWS_CLI} not installed` }, async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: ADMIN.accessKeyId, AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
    const out = join(dir, 'cli-out.json');
    const deniedOut = join(dir, 'cli-denied.json');
    const boto = `
import boto3, json, sys
client = boto3.client('lambda', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
print(json.loads(client.invoke(FunctionName='orders-list', Payload=b'{"via":"boto3"}')['Payload'].read())['event']['via'])
try:
    client.list_functions()
except client.exceptions.ClientError as error:
    print(error.response['Error']['Code'])
`;
    // Three Python programs that each take about a second to start: at once.
    const [, denied, python] = await Promise.all([
      promisify(execFile)(AWS_CLI, ['lambda', 'invoke', '--endpoint-url', server.url, '--function-name', 'orders-list', '--cli-binary-format', 'raw-in-base64-out', '--payload', '{"via":"aws"}', out], { env }),
      promisify(execFile)(AWS_CLI, ['lambda', 'invoke', '--endpoint-url', server.url, '--function-name', 'orders-admin', deniedOut],
        { env: { ...env, AWS_ACCESS_KEY_ID: APP.accessKeyId, AWS_SECRET_ACCESS_KEY: APP.secretAccessKey } }).catch((error: { stderr: string }) => error),
      promisify(execFile)('python3', ['-c', boto, server.url, APP.accessKeyId, APP.secretAccessKey]),
    ]);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')).event, { via: 'aws' });
    assert.match((denied as { stderr: string }).stderr, /AccessDeniedException/);
    assert.deepEqual(python.stdout.trim().split('\n'), ['boto3', 'AccessDeniedException']);
  });
});
