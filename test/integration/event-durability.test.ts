/** Kill -9 with hundreds of Event invocations queued: after a restart every acknowledged event runs, none is lost. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { listeningUrl, runCli, type CliProcess } from '../helpers/cli-process.js';
import { FIXTURE_MANIFEST, lambdaClient, tempDataDir } from '../helpers/fixture-server.js';
import { gate } from '../helpers/gate.js';
import { waitUntil } from '../helpers/wait-until.js';

const EVENTS = 500;

async function startServer(dataDir: string, concurrency: number): Promise<{ cli: CliProcess; url: string }> {
  // Inline: no cold start of a worker or process per execution; a failed attempt (none expected) is retried at once.
  const cli = runCli(['start', '--port', '0', '--http-port', '0', '--config', FIXTURE_MANIFEST, '--isolation', 'inline', '--concurrency', String(concurrency)], {
    SERVERFULL_DATA_DIR: dataDir, SERVERFULL_EVENT_RETRY_DELAY: '0',
  });
  return { cli, url: await listeningUrl(cli) };
}

describe('Event invocation durability', () => {
  it(`runs every one of ${EVENTS} acknowledged events after a kill -9 and a restart`, async () => {
    const dataDir = tempDataDir();
    const out = mkdtempSync(join(tmpdir(), 'serverfull-events-'));
    const held = gate();
    try {
      // Two executions at once, held at the gate: the rest of the events wait in the queue.
      const first = await startServer(dataDir, 2);
      const lambda = lambdaClient(first.url);
      let next = 0;
      const sender = async () => {
        for (let i = next++; i < EVENTS; i = next++) {
          const output = await lambda.send(new InvokeCommand({
            FunctionName: 'record', InvocationType: 'Event', Payload: JSON.stringify({ file: join(out, String(i)), value: i, gate: held.dir }),
          }));
          assert.equal(output.StatusCode, 202);
        }
      };
      await Promise.all(Array.from({ length: 16 }, sender));
      await held.arrived(2);
      first.cli.child.kill('SIGKILL');
      await first.cli.exited;
      lambda.destroy();
      assert.equal(readdirSync(out).length, 0, 'no event finished before the kill');

      held.open();
      const second = await startServer(dataDir, 50);
      try {
        await waitUntil(() => readdirSync(out).filter((name) => !name.endsWith('.tmp')).length === EVENTS, `all ${EVENTS} events run after the restart`, {
          detail: () => {
            const present = new Set(readdirSync(out));
            const missing = Array.from({ length: EVENTS }, (_, i) => String(i)).filter((name) => !present.has(name));
            return `${present.size} files, missing ${missing.join(', ')}; ${second.cli.stderr()}${second.cli.stdout().split('\n').filter((line) => !/"msg":"request"/.test(line)).join('\n')}`;
          },
        });
        const values = readdirSync(out).filter((name) => !name.endsWith('.tmp')).map(Number).sort((a, b) => a - b);
        assert.deepEqual(values, Array.from({ length: EVENTS }, (_, i) => i));
        assert.match(second.cli.stdout(), new RegExp(`${EVENTS} queued events from before the restart are run again`));
      } finally {
        second.cli.child.kill('SIGTERM');
        await second.cli.exited;
      }
    } finally {
      held.open();
      held.remove();
      await rm(out, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
