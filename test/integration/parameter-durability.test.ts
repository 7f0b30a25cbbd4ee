/** Kill -9 while parameters are being written: every acknowledged version survives, SecureStrings still open. */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { GetParameterCommand, GetParameterHistoryCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { listeningUrl, runCli } from '../helpers/cli-process.js';
import { tempDataDir } from '../helpers/fixture-server.js';
import { waitUntil } from '../helpers/wait-until.js';

const ssmClient = (url: string) => new SSMClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });

describe('parameter durability', () => {
  it('keeps every acknowledged version through kill -9', async () => {
    const dataDir = tempDataDir();
    /** The last acknowledged version of each parameter. */
    const acknowledged = new Map<string, number>();
    try {
      const first = runCli(['start', '--port', '0', '--isolation', 'inline', '--parameters-port', '0'], { SERVERFULL_DATA_DIR: dataDir });
      const ssm = ssmClient(await listeningUrl(first));
      let killed = false;
      const writer = async (id: number) => {
        const name = `/durability/w${id}`;
        for (let version = 1; !killed; version++) {
          try {
            await ssm.send(new PutParameterCommand({ Name: name, Value: `${name}@${version}`, Type: 'SecureString', Overwrite: true }));
            acknowledged.set(name, version);
          } catch {
            return; // killed mid-request: that version was never acknowledged
          }
        }
      };
      const writers = [0, 1, 2].map(writer);
      await waitUntil(() => [...acknowledged.values()].reduce((sum, v) => sum + v, 0) >= 15, 'versions are acknowledged');
      killed = true;
      first.child.kill('SIGKILL');
      await Promise.all([first.exited, ...writers]);
      ssm.destroy();

      const second = runCli(['start', '--port', '0', '--isolation', 'inline', '--parameters-port', '0'], { SERVERFULL_DATA_DIR: dataDir });
      const again = ssmClient(await listeningUrl(second));
      try {
        for (const [name, version] of acknowledged) {
          const { Parameter } = await again.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
          // A write under way at the kill may have committed without its answer getting out: never fewer.
          assert.ok(Parameter!.Version! >= version, `${name}: version ${version} was acknowledged, ${Parameter!.Version} is there`);
          assert.equal(Parameter!.Value, `${name}@${Parameter!.Version}`);
          const history = await again.send(new GetParameterHistoryCommand({ Name: name, MaxResults: 50 }));
          const kept = Math.min(version, 50);
          assert.deepEqual(history.Parameters!.slice(0, kept).map((p) => p.Version), Array.from({ length: kept }, (_, i) => i + 1));
        }
      } finally {
        again.destroy();
        second.child.kill('SIGTERM');
        await second.exited;
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
