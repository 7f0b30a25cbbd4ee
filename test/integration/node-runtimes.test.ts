/**
 * Process environments run on the installed Node.js of their function's runtime (`runtimesDir`), sandboxed where the
 * sandbox is on; threads, runtimes with nothing installed and folders that are not what they claim run on the server's.
 * Uses the repository's `.node/22` and `.node/24` (scripts/install-node.sh; CI installs both).
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/log.js';
import { REPO_ROOT, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { SANDBOX_UNUSABLE } from '../helpers/sandbox-host.js';

const ROOT = join(REPO_ROOT, 'test/fixtures/node-runtimes');
const serverMajor = process.versions.node.split('.')[0];

/** The repository's Node.js build of `major`, real path; a clear failure when it is missing. */
function repoNode(major: string): string {
  const folder = join(REPO_ROOT, '.node', major);
  if (!existsSync(join(folder, 'bin/node'))) throw new Error(`${folder}/bin/node is missing: run bash scripts/install-node.sh ${major} (CI installs it)`);
  return realpathSync(folder);
}

describe('Node.js runtimes that match production', () => {
  let fx: FixtureServer;
  let runtimesDir: string;
  const lines: Array<Record<string, string>> = [];
  const node22 = repoNode('22');
  const node24 = repoNode('24');

  before(async () => {
    runtimesDir = mkdtempSync(join(tmpdir(), 'serverfull-runtimes-'));
    symlinkSync(node22, join(runtimesDir, 'nodejs22.x'));
    symlinkSync(node24, join(runtimesDir, 'nodejs24.x'));
    // A folder whose node is not of its runtime's major: not used.
    mkdirSync(join(runtimesDir, 'nodejs18.x/bin'), { recursive: true });
    writeFileSync(join(runtimesDir, 'nodejs18.x/bin/node'), '#!/bin/sh\necho v99.0.0\n');
    chmodSync(join(runtimesDir, 'nodejs18.x/bin/node'), 0o755);
    const logger = createLogger({ level: 'info', format: 'json', write: (line) => void lines.push(JSON.parse(line)) });
    const handler = 'version.handler';
    // A cold start on a loaded machine must not end as a timeout: the tests are about which Node.js runs.
    const timeout = 60;
    fx = await startFixtureServer({
      config: undefined,
      root: ROOT,
      runtimesDir,
      logger,
      functions: {
        on22: { handler, runtime: 'nodejs22.x', isolation: 'process', timeout, environment: { TAMPER: '1' } },
        on24: { handler, runtime: 'nodejs24.x', isolation: 'process', timeout },
        thread22: { handler, runtime: 'nodejs22.x', isolation: 'worker', timeout },
        missing20: { handler, runtime: 'nodejs20.x', isolation: 'process', timeout },
        fake18: { handler, runtime: 'nodejs18.x', isolation: 'process', timeout },
      },
    });
  });

  after(async () => {
    await fx?.close();
    rmSync(runtimesDir, { recursive: true, force: true });
  });

  it('runs a process environment on the Node.js its runtime names, first on its PATH', async () => {
    for (const [name, folder, major] of [['on22', node22, '22'], ['on24', node24, '24']] as const) {
      const { json, FunctionError } = await fx.invoke(name);
      assert.equal(FunctionError, undefined, JSON.stringify(json));
      assert.equal(json.version.split('.')[0], `v${major}`, name);
      assert.equal(json.path.split(':')[0], join(folder, 'bin'), name);
    }
  });

  it('shows the installed Node.js read-only in the sandbox: a function cannot replace it for others', { skip: SANDBOX_UNUSABLE }, async () => {
    const { json } = await fx.invoke('on22');
    assert.ok(['EROFS', 'EACCES'].includes(json.tamper), json.tamper);
    assert.ok(!existsSync(join(node22, 'bin/node-replaced')));
  });

  it('runs threads, runtimes not installed and a folder that is not its runtime on the server\'s Node.js', async () => {
    for (const name of ['thread22', 'missing20', 'fake18']) {
      const { json, FunctionError } = await fx.invoke(name);
      assert.equal(FunctionError, undefined, JSON.stringify(json));
      assert.equal(json.version, process.version, name);
    }
  });

  it('says once at start which Node.js runs each runtime, and how to install one that is missing', () => {
    const notes = lines.filter((line) => line.runtime !== undefined);
    const of = (runtime: string) => notes.filter((line) => line.runtime === runtime);
    assert.deepEqual(of('nodejs24.x').find((line) => line.level === 'info')?.functions, 'on24');
    assert.match(of('nodejs22.x').find((line) => line.level === 'info')!.msg, /^nodejs22\.x functions in process isolation run on Node\.js 22\.\d+\.\d+ from /);
    const missing = of('nodejs20.x');
    assert.equal(missing.length, 1);
    assert.equal(missing[0]!.level, 'warn');
    assert.match(missing[0]!.msg, /^nodejs20\.x functions run on Node\.js .* \(serverfull's own Node\.js\), not on Node\.js 20: install it with "serverfull runtimes install nodejs20\.x"/);
    assert.equal(of('nodejs18.x').length, 1);
    const thread = of('nodejs22.x').filter((line) => line.level === 'warn');
    if (serverMajor === '22') assert.equal(thread.length, 0);
    else assert.match(thread[0]!.msg, /only process isolation runs the installed Node\.js 22\./);
  });
});
