/**
 * The Parameter Store with `--auth sigv4`: `ssm:*` actions on parameter ARNs enforced for users,
 * function roles that declare an API confined to their namespace (`/<api>/<function>/`,
 * `/<api>/common/`, `/global/`, read only), and the SDK, boto3 and the aws CLI signing for `ssm`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetParameterCommand, GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { writeKeysFile } from '../../src/auth/keys-file.js';
import { serve, type RunningServer } from '../../src/index.js';
import { FIXTURES } from '../helpers/fixture-server.js';

const ADMIN = { accessKeyId: 'AKIAADMIN00000000001', secretAccessKey: 'admin-secret-0000000000000000000000000' };
const AUDITOR = { accessKeyId: 'AKIAAUDIT00000000001', secretAccessKey: 'audit-secret-0000000000000000000000000' };
const PIPELINE = { accessKeyId: 'AKIAPIPE000000000001', secretAccessKey: 'pipe-secret-00000000000000000000000000' };
const ACCOUNT = '123456789012';
const AWS_CLI = '/usr/bin/aws';

describe('the Parameter Store with --auth sigv4', { timeout: 60_000 }, () => {
  let dir: string;
  let server: RunningServer;
  let lambda: LambdaClient;
  let admin: SSMClient;
  let pipeline: SSMClient;
  const ssm = (credentials: typeof ADMIN) => new SSMClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  const invoke = async (fn: string, event: unknown) =>
    JSON.parse(Buffer.from((await lambda.send(new InvokeCommand({ FunctionName: fn, Payload: JSON.stringify(event) }))).Payload!).toString());

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'serverfull-ssm-auth-'));
    writeKeysFile(join(dir, 'keys.json'), {
      users: {
        admin: { accessKeys: [ADMIN], policy: { Statement: [{ Effect: 'Allow', Action: ['lambda:*', 'ssm:*'], Resource: '*' }] } },
        // A deployment pipeline: writes and reads its API's parameters, nothing else.
        auditor: {
          accessKeys: [AUDITOR],
          policy: { Statement: [
            { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' },
            { Effect: 'Deny', Action: 'kms:Decrypt', Resource: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/aws/ssm` },
          ] },
        },
        pipeline: {
          accessKeys: [PIPELINE],
          policy: { Statement: [{ Effect: 'Allow', Action: ['ssm:PutParameter', 'ssm:GetParameter*'], Resource: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/orders/*` }] },
        },
      },
      roles: {
        // No policy of its own for SSM: its functions get the namespace policy.
        'orders-fn': { api: 'orders' },
      },
    });
    server = await serve({
      auth: 'sigv4', port: 0, logLevel: 'silent', accountId: ACCOUNT, dataDir: join(dir, 'data'), env: {}, root: FIXTURES, isolation: 'worker',
      keys: join(dir, 'keys.json'),
      functions: {
        checkout: { handler: 'functions/read-parameters.handler', timeout: 30, role: `arn:aws:iam::${ACCOUNT}:role/orders-fn` },
        'with-db': { handler: 'functions/read-parameters.handler', timeout: 30, role: `arn:aws:iam::${ACCOUNT}:role/orders-fn`, environment: { RESOLVED: 'url={{resolve:ssm:/orders/common/db-url:1}}' } },
        'with-other': { handler: 'functions/read-parameters.handler', timeout: 30, role: `arn:aws:iam::${ACCOUNT}:role/orders-fn`, environment: { RESOLVED: '{{resolve:ssm-secure:/orders/billing/secret}}' } },
      },
    });
    lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 });
    admin = ssm(ADMIN);
    pipeline = ssm(PIPELINE);
    for (const name of ['/orders/checkout/api-key', '/orders/common/db-url', '/global/active-stack', '/orders/billing/secret', '/other/thing']) {
      await admin.send(new PutParameterCommand({ Name: name, Value: `value of ${name}`, Type: name.endsWith('key') ? 'SecureString' : 'String' }));
    }
  });
  after(async () => {
    lambda.destroy();
    admin.destroy();
    pipeline.destroy();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an unsigned request as AWS does', async () => {
    const response = await fetch(server.url, { method: 'POST', headers: { 'X-Amz-Target': 'AmazonSSM.GetParameter', 'Content-Type': 'application/x-amz-json-1.1' }, body: '{"Name":"/global/active-stack"}' });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException');
  });

  it('lets a function read its own namespace, its API\'s common one and the global one, and nothing else', async () => {
    const out = await invoke('checkout', {
      names: ['/orders/checkout/api-key', '/orders/common/db-url', '/global/active-stack', '/orders/billing/secret', '/other/thing'],
      paths: ['/orders/checkout', '/orders'],
      put: '/orders/checkout/api-key',
      extension: ['/orders/checkout/api-key', '/orders/billing/secret'],
    });
    assert.equal(out.endpoint, server.url);
    assert.equal(out.values['/orders/checkout/api-key'], 'value of /orders/checkout/api-key');
    assert.equal(out.values['/orders/common/db-url'], 'value of /orders/common/db-url');
    assert.equal(out.values['/global/active-stack'], 'value of /global/active-stack');
    for (const name of ['/orders/billing/secret', '/other/thing']) {
      assert.equal(out.values[name].error, 'AccessDeniedException', name);
      assert.equal(out.values[name].message, `User: arn:aws:sts::${ACCOUNT}:assumed-role/orders-fn/checkout is not authorized to perform: ssm:GetParameter `
        + `on resource: arn:aws:ssm:us-east-1:${ACCOUNT}:parameter${name} because no identity-based policy allows the ssm:GetParameter action`);
    }
    assert.deepEqual(out.paths['/orders/checkout'], ['/orders/checkout/api-key']);
    assert.equal(out.paths['/orders'].error, 'AccessDeniedException');
    assert.equal(out.put.error, 'AccessDeniedException');
    // The extension's interface knows the function by its token, and applies the same policy.
    assert.equal(out.extension[0].status, 200);
    assert.equal(out.extension[0].body.Parameter.Value, 'value of /orders/checkout/api-key');
    assert.equal(out.extension[1].status, 403);
    assert.equal(out.extension[1].body.__type, 'AccessDeniedException');
  });

  it('resolves {{resolve:ssm:...}} in a function\'s environment as the function may read it, and fails its start otherwise', async () => {
    assert.equal((await invoke('with-db', {})).resolved, 'url=value of /orders/common/db-url');
    const refused = await lambda.send(new InvokeCommand({ FunctionName: 'with-other', Payload: '{}' }));
    assert.equal(refused.FunctionError, 'Unhandled');
    assert.equal(JSON.parse(Buffer.from(refused.Payload!).toString()).errorType, 'Runtime.InitError');
    const error = JSON.parse(Buffer.from(refused.Payload!).toString());
    assert.match(error.errorMessage, /environment variable RESOLVED: cannot resolve \{\{resolve:ssm-secure:\/orders\/billing\/secret\}\}: AccessDeniedException: User: .*assumed-role\/orders-fn\/with-other is not authorized/);
    assert.doesNotMatch(error.errorMessage, /value of/);
  });

  it('gives a deployment pipeline the writes its policy allows; GetParameters needs the action on every name', async () => {
    assert.equal((await pipeline.send(new PutParameterCommand({ Name: '/orders/common/db-url', Value: 'v2', Overwrite: true }))).Version, 2);
    await assert.rejects(pipeline.send(new PutParameterCommand({ Name: '/global/active-stack', Value: 'blue', Overwrite: true })), { name: 'AccessDeniedException' });
    await assert.rejects(pipeline.send(new GetParametersCommand({ Names: ['/orders/common/db-url', '/other/thing'] })), { name: 'AccessDeniedException' });
    const { Parameter } = await admin.send(new GetParameterCommand({ Name: '/orders/common/db-url:1' }));
    assert.equal(Parameter?.Value, 'value of /orders/common/db-url');
  });

  it('checks kms:Decrypt on a SecureString\'s key when the caller\'s policy says anything about it', async () => {
    const auditor = ssm(AUDITOR);
    try {
      await assert.rejects(auditor.send(new GetParameterCommand({ Name: '/orders/checkout/api-key', WithDecryption: true })), (error: Error) => {
        assert.equal(error.name, 'AccessDeniedException');
        assert.match(error.message, new RegExp(`^User: arn:aws:iam::${ACCOUNT}:user/auditor is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:${ACCOUNT}:alias/aws/ssm with an explicit deny`));
        return true;
      });
      assert.notEqual((await auditor.send(new GetParameterCommand({ Name: '/orders/checkout/api-key' }))).Parameter?.Value, 'value of /orders/checkout/api-key');
      assert.equal((await auditor.send(new GetParameterCommand({ Name: '/global/active-stack', WithDecryption: true }))).Parameter?.Value, 'value of /global/active-stack');
    } finally {
      auditor.destroy();
    }
  });

  it('the aws CLI (v2) and boto3 sign for ssm with nothing changed but the endpoint', { skip: existsSync(AWS_CLI) ? false : `${AWS_CLI} not installed` }, async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: ADMIN.accessKeyId, AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
    const boto = `
import boto3, sys
ssm = boto3.client('ssm', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
print(ssm.put_parameter(Name='/orders/boto/token', Value='t0ken', Type='SecureString')['Version'])
print(ssm.get_parameter(Name='/orders/boto/token', WithDecryption=True)['Parameter']['Value'])
pages = ssm.get_paginator('get_parameters_by_path').paginate(Path='/orders', Recursive=True, PaginationConfig={'PageSize': 2})
print(sum(len(page['Parameters']) for page in pages))
try:
    ssm.get_parameter(Name='/orders/none')
except ssm.exceptions.ParameterNotFound as error:
    print(error.response['Error']['Code'])
`;
    // Python programs take about a second each to start: at once.
    const [put, python, denied] = await Promise.all([
      promisify(execFile)(AWS_CLI, ['ssm', 'put-parameter', '--endpoint-url', server.url, '--name', '/cli/flag', '--value', 'on', '--type', 'String', '--output', 'json'], { env }),
      promisify(execFile)('python3', ['-c', boto, server.url, ADMIN.accessKeyId, ADMIN.secretAccessKey]),
      promisify(execFile)(AWS_CLI, ['ssm', 'get-parameter', '--endpoint-url', server.url, '--name', '/global/active-stack'],
        { env: { ...env, AWS_ACCESS_KEY_ID: PIPELINE.accessKeyId, AWS_SECRET_ACCESS_KEY: PIPELINE.secretAccessKey } }).catch((error: { stderr: string }) => error),
    ]);
    assert.equal(JSON.parse(put.stdout).Version, 1);
    assert.deepEqual(python.stdout.trim().split('\n'), ['1', 't0ken', '4', 'ParameterNotFound']);
    assert.match((denied as { stderr: string }).stderr, /AccessDeniedException/);
  });
});
