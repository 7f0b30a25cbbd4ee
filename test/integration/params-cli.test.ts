/** `serverfull params put|get|list|delete` against a running server, a secret given on standard input. */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { serve, type RunningServer } from '../../src/index.js';
import { CLI } from '../helpers/cli-process.js';
import { tempDataDir } from '../helpers/fixture-server.js';

const run = promisify(execFile);

describe('serverfull params', { timeout: 60_000 }, () => {
  const dataDir = tempDataDir();
  let server: RunningServer;
  const params = (args: string[]) => run(process.execPath, [CLI, 'params', ...args, '--endpoint', server.url], { env: { PATH: process.env.PATH, HOME: dataDir } });

  before(async () => {
    server = await serve({ port: 0, logLevel: 'silent', env: {}, dataDir, functions: { noop: async () => 'ok' } });
  });
  after(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('puts a secret read from standard input, gets it back decrypted, lists and deletes', async () => {
    const put = spawn(process.execPath, [CLI, 'params', 'put', '/app/common/token', '-', '--type', 'SecureString', '--endpoint', server.url],
      { env: { PATH: process.env.PATH, HOME: dataDir }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    put.stdout.on('data', (chunk) => (out += chunk));
    put.stdin.end('s3cret\n');
    const code = await new Promise((resolve) => put.once('close', resolve));
    assert.equal(code, 0);
    assert.equal(out, '/app/common/token version 1\n');
    const [plain, list] = await Promise.all([params(['get', '/app/common/token', '--decrypt']), params(['list', '/app'])]);
    assert.equal(plain.stdout, 's3cret\n');
    assert.equal(list.stdout, '/app/common/token\tSecureString\t1\n');
    assert.equal((await params(['delete', '/app/common/token'])).stdout, 'deleted /app/common/token\n');
    const missing = await params(['get', '/app/common/token']).catch((error: { code: number; stderr: string }) => error);
    assert.equal((missing as { code: number }).code, 1);
    assert.equal((missing as { stderr: string }).stderr, 'serverfull params: ParameterNotFound\n');
  });
});
