/**
 * `serverfull keys add|list` as a child process: the file it writes (mode 0600, valid), the
 * credentials profile it prints once, and that those credentials sign requests the verifier accepts.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GetFunctionCommand, InvokeCommand, LambdaClient, LambdaServiceException } from '@aws-sdk/client-lambda';
import { loadKeysFile } from '../../src/auth/keys-file.js';
import { runCli } from '../helpers/cli-process.js';
import { startAuthTestServer } from '../helpers/auth-test-server.js';

const PROFILE = /^\[(\S+)\]\naws_access_key_id = (AKIA[A-Z0-9]{16})\naws_secret_access_key = ([A-Za-z0-9+/]{40})\n$/;

async function keys(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = runCli(['keys', ...args]);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

function tempKeysPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'serverfull-keys-cli-')), 'nested', 'keys.json');
}

describe('serverfull keys', () => {
  it('add creates the file with mode 0600 and prints a credentials profile that signs accepted requests', async () => {
    const path = tempKeysPath();
    const added = await keys('add', 'ci', '--keys', path);
    assert.equal(added.code, 0, added.stderr);
    const [, profile, accessKeyId, secretAccessKey] = PROFILE.exec(added.stdout) ?? assert.fail(`not a profile: ${added.stdout}`);
    assert.equal(profile, 'ci');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.match(added.stderr, /shown only this once/);
    assert.ok(!added.stderr.includes(secretAccessKey!), 'the secret is printed once, on stdout only');

    const server = await startAuthTestServer({ keys: () => loadKeysFile(path), identity: { region: 'us-east-1', accountId: '000000000000' } });
    try {
      const lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey! }, maxAttempts: 1 });
      // A new user gets the invoke policy: Invoke passes, GetFunction does not.
      await lambda.send(new InvokeCommand({ FunctionName: 'any' }));
      await assert.rejects(lambda.send(new GetFunctionCommand({ FunctionName: 'any' })), (error: unknown) => error instanceof LambdaServiceException && error.name === 'AccessDeniedException');
    } finally {
      await server.close();
    }
  });

  it('add again gives the user a second key; --policy admin|FILE replaces the policy; list shows ids, not secrets', async () => {
    const path = tempKeysPath();
    const first = await keys('add', 'ops', '--keys', path, '--policy', 'admin');
    const second = await keys('add', 'ops', '--keys', path);
    assert.equal(second.code, 0, second.stderr);
    const file = loadKeysFile(path);
    assert.equal(file.users.get('ops')?.accessKeys.length, 2);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).users.ops.policy.Statement[0].Action, ['lambda:*', 'logs:*', 'sns:*', 'ssm:*'], 'the second add kept the admin policy');

    const policyFile = join(mkdtempSync(join(tmpdir(), 'serverfull-policy-')), 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'lambda:Get*', Resource: '*' }] }));
    assert.equal((await keys('add', 'ops', '--keys', path, '--policy', policyFile)).code, 0);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).users.ops.policy.Statement[0].Action, 'lambda:Get*');

    const listed = await keys('list', '--keys', path);
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, /^ops\tAKIA[A-Z0-9]{16},AKIA[A-Z0-9]{16},AKIA[A-Z0-9]{16}\n$/);
    assert.ok(!listed.stdout.includes(PROFILE.exec(first.stdout)![3]!));
  });

  it('refuses to touch a keys file others can read, and a bad policy file, with a clear message and exit 2', async () => {
    const path = tempKeysPath();
    assert.equal((await keys('add', 'a', '--keys', path)).code, 0);
    chmodSync(path, 0o644);
    const refused = await keys('add', 'b', '--keys', path);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /accessible by group or others \(mode 0644\).*chmod 600/);
    assert.equal(refused.stdout, '', 'no key is printed when nothing was written');

    chmodSync(path, 0o600);
    const policyFile = join(mkdtempSync(join(tmpdir(), 'serverfull-policy-')), 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ Statement: [{ Effect: 'Allow', NotAction: 'lambda:Delete*', Resource: '*' }] }));
    const unsupported = await keys('add', 'b', '--keys', path, '--policy', policyFile);
    assert.equal(unsupported.code, 2);
    assert.match(unsupported.stderr, /"NotAction" is not supported by serverfull/);
    assert.equal(loadKeysFile(path).users.has('b'), false);
  });

  it('without an action or a name: usage errors', async () => {
    assert.equal((await keys()).code, 2);
    assert.match((await keys('add')).stderr, /keys add needs a user NAME/);
    assert.equal((await keys('--help')).code, 0);
  });
});
