/** Nothing reachable beyond loopback without authentication, unless the operator says --insecure. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { serve } from '../../src/index.js';
import { ConfigError } from '../../src/config/config-error.js';
import { CLI, listeningUrl, runCli } from '../helpers/cli-process.js';
import { tempDataDir } from '../helpers/fixture-server.js';

describe('binding beyond loopback', { timeout: 60_000 }, () => {
  it('is refused at start with --auth none, saying how to add keys', async () => {
    for (const host of ['0.0.0.0', '::']) {
      await assert.rejects(serve({ host, port: 0, logLevel: 'silent', dataDir: tempDataDir(), env: {} }), (error: Error) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, new RegExp(`--host ${host.replace('.', '\\.')} would let anyone who can reach it run code on this machine`));
        assert.match(error.message, /serverfull keys add NAME/);
        assert.match(error.message, /--insecure/);
        return true;
      });
    }
    const cli = spawnSync(process.execPath, [CLI, 'start', '--host', '0.0.0.0', '--port', '0', '--data-dir', tempDataDir()], { encoding: 'utf8' });
    assert.notEqual(cli.status, 0);
    assert.match(cli.stderr, /would let anyone who can reach it run code/);
  });

  it('loopback addresses and names need nothing', async () => {
    for (const host of ['127.0.0.1', 'localhost', '::1']) {
      const server = await serve({ host, port: 0, logLevel: 'silent', dataDir: tempDataDir(), env: {} });
      await server.close();
    }
  });

  it('--insecure starts it, with a warning at every start', async () => {
    const cli = runCli(['start', '--host', '0.0.0.0', '--port', '0', '--insecure'], { SERVERFULL_DATA_DIR: tempDataDir() });
    try {
      await listeningUrl(cli);
      assert.match(cli.stdout() + cli.stderr(), /serving on 0\.0\.0\.0 without authentication \(--insecure\)/);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });

  it('--auth sigv4 needs a keys file: by default keys.json in the data directory', async () => {
    const dataDir = tempDataDir();
    await assert.rejects(serve({ auth: 'sigv4', port: 0, logLevel: 'silent', dataDir, env: {} }),
      new RegExp(`no keys file ${dataDir}/keys\\.json: create it with serverfull keys add NAME`));
  });
});
