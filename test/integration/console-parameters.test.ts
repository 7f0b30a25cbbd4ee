/**
 * Parameters in the web console's JSON API: listed with their values, SecureStrings hidden until one is asked
 * for (decrypted alone); with auth on, only what the session's user may list and read.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { writeKeysFile } from '../../src/auth/keys-file.js';
import { serve, type RunningServer } from '../../src/index.js';

const ADMIN = { accessKeyId: 'AKIAADMIN00000000001', secretAccessKey: 'admin-secret-0000000000000000000000000' };
const VIEWER = { accessKeyId: 'AKIAVIEW000000000001', secretAccessKey: 'view-secret-00000000000000000000000000' };

/** A console API call as the page makes it: same origin, the session cookie when given. */
async function call(server: RunningServer, path: string, cookie?: string, init: RequestInit = {}): Promise<{ status: number; body: any; cookie: string | null }> {
  const headers = new Headers(init.headers);
  headers.set('sec-fetch-site', 'same-origin');
  if (init.method !== undefined) headers.set('origin', server.url);
  if (cookie) headers.set('cookie', cookie);
  if (init.body !== undefined) headers.set('content-type', 'application/json');
  const response = await fetch(`${server.url}/console/api/${path}`, { ...init, headers });
  return { status: response.status, body: await response.json(), cookie: response.headers.get('set-cookie') };
}

describe('parameters in the web console', { timeout: 60_000 }, () => {
  let dir: string;
  let server: RunningServer;
  let admin: string;
  let viewer: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'serverfull-console-params-'));
    writeKeysFile(join(dir, 'keys.json'), {
      users: {
        admin: { accessKeys: [ADMIN], policy: { Statement: [{ Effect: 'Allow', Action: ['lambda:*', 'ssm:*'], Resource: '*' }] } },
        viewer: { accessKeys: [VIEWER], policy: {
          Statement: [
            { Effect: 'Allow', Action: 'ssm:DescribeParameters', Resource: '*' },
            { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: 'arn:aws:ssm:*:*:parameter/public/*' },
          ],
        } },
      },
    });
    server = await serve({ auth: 'sigv4', keys: join(dir, 'keys.json'), port: 0, logLevel: 'silent', env: {}, dataDir: join(dir, 'data'), functions: { noop: async () => 'ok' } });
    const ssm = new SSMClient({ endpoint: server.url, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 });
    await ssm.send(new PutParameterCommand({ Name: '/public/motd', Value: '<b>hello</b>', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: '/secret/db-password', Value: 'hunter2', Type: 'SecureString' }));
    ssm.destroy();
    const login = async (key: typeof ADMIN) => (await call(server, 'session', undefined, { method: 'POST', body: JSON.stringify(key) })).cookie!.split(';')[0]!;
    admin = await login(ADMIN);
    viewer = await login(VIEWER);
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists parameters with their values, a SecureString\'s hidden until asked for', async () => {
    const { body } = await call(server, 'parameters', admin);
    assert.deepEqual(body.parameters.map((p: { name: string; value: string | null }) => [p.name, p.value]), [['/public/motd', '<b>hello</b>'], ['/secret/db-password', null]]);
    const shown = await call(server, `parameter?name=${encodeURIComponent('/secret/db-password')}&decrypt=true`, admin);
    assert.equal(shown.body.value, 'hunter2');
    const sealed = await call(server, `parameter?name=${encodeURIComponent('/secret/db-password')}`, admin);
    assert.notEqual(sealed.body.value, 'hunter2');
  });

  it('shows a user only what its policy lets it read, and needs a session', async () => {
    const { body } = await call(server, 'parameters', viewer);
    assert.deepEqual(body.parameters.map((p: { name: string; readable: boolean }) => [p.name, p.readable]), [['/public/motd', true], ['/secret/db-password', false]]);
    const refused = await call(server, `parameter?name=${encodeURIComponent('/secret/db-password')}&decrypt=true`, viewer);
    assert.equal(refused.status, 403);
    assert.doesNotMatch(JSON.stringify(refused.body), /hunter2/);
    assert.equal((await call(server, 'parameters')).status, 403);
  });
});
