/** The catalog's change feed: the listener hears of a change only once it is committed, and never of a failed one. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { DeploymentStore, type StoredConfiguration } from '../../src/deploy/deployment-store.js';
import { EnvironmentCipher } from '../../src/deploy/environment-cipher.js';
import { FunctionCatalog, type CatalogListener } from '../../src/deploy/function-catalog.js';
import { createZip } from '../../src/deploy/zip-archive.js';
import type { FunctionDefinition } from '../../src/registry/function-definition.js';
import { ConfigError } from '../../src/config/config-error.js';

const scratch: string[] = [];
after(() => Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true }))));

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `serverfull-catalog-${prefix}-`));
  scratch.push(dir);
  return dir;
}

const CONFIG: StoredConfiguration = {
  runtime: 'nodejs22.x',
  handler: 'index.handler',
  role: 'arn:aws:iam::123456789012:role/serverfull',
  timeout: 3,
  memorySize: 128,
  environment: {},
  description: '',
  architectures: ['x86_64'],
};

async function packageZip(): Promise<Buffer> {
  const dir = await tempDir('code');
  await writeFile(path.join(dir, 'index.mjs'), 'export const handler = async () => 1;\n');
  return createZip(dir);
}

/** One notification, with what the catalog answered for it at the moment it was delivered. */
interface Heard {
  readonly event: string;
  /** Whether the catalog already served (added) or no longer served (removed) the version; undefined while it is being constructed. */
  readonly visible: boolean | undefined;
}

/** A catalog whose listener asks the catalog itself, at notification time, whether the change is there. */
function openCatalog(dataDir: string, manifest: readonly FunctionDefinition[] = [], heard: Heard[] = []): { catalog: FunctionCatalog; heard: Heard[] } {
  let catalog: FunctionCatalog | undefined;
  const answers = <T>(question: (c: FunctionCatalog) => T): T | undefined => {
    try {
      return question(catalog!);
    } catch {
      return undefined;
    }
  };
  const listener: CatalogListener = {
    versionAdded: (d) => heard.push({
      event: `added ${d.name}:${d.version}`, visible: catalog && answers((c) => c.getVersion(d.name, d.version)) !== undefined,
    }),
    versionRemoved: (name, version) => heard.push({
      event: `removed ${name}:${version}`, visible: catalog && answers((c) => c.getVersion(name, version)) === undefined,
    }),
    reservedConcurrencyChanged: (name, limit) => heard.push({
      event: `reserved ${name}=${limit}`, visible: catalog && answers((c) => c.getFunction(name).reservedConcurrency) === limit,
    }),
  };
  catalog = new FunctionCatalog({
    dataDir,
    identity: { region: 'us-east-1', accountId: '123456789012' },
    isolation: 'worker',
    concurrency: 1000,
    manifest,
    manifestSource: 'test',
    listener,
  });
  return { catalog, heard };
}

describe('FunctionCatalog notifications', () => {
  it('are delivered after the change is committed and visible', async () => {
    const { catalog, heard } = openCatalog(await tempDir('data'));
    try {
      const zip = await packageZip();
      await catalog.createFunction('fn', CONFIG, zip, true, {});
      catalog.updateConfiguration('fn', { timeout: 5 }, undefined);
      catalog.publishVersion('fn', undefined, undefined, undefined);
      await catalog.updateCode('fn', zip, false, undefined);
      catalog.putConcurrency('fn', 7);
      catalog.deleteFunction('fn', '1');
      catalog.deleteFunction('fn', undefined);
      assert.deepEqual(heard, [
        'added fn:$LATEST', 'added fn:1',
        'added fn:$LATEST',
        'added fn:2',
        'added fn:$LATEST',
        'reserved fn=7',
        'removed fn:1',
        'removed fn:$LATEST', 'removed fn:2', 'reserved fn=undefined',
      ].map((event) => ({ event, visible: true })));
    } finally {
      catalog.close();
    }
  });

  it('are delivered for what a restart loads, once it is loaded', async () => {
    const dataDir = await tempDir('data');
    const first = openCatalog(dataDir);
    try {
      await first.catalog.createFunction('fn', CONFIG, await packageZip(), true, {});
      first.catalog.putConcurrency('fn', 3);
    } finally {
      first.catalog.close();
    }
    const second = openCatalog(dataDir);
    second.catalog.close();
    // Loading happens in the constructor: the notices come once every version is in memory, in load order.
    assert.deepEqual(second.heard.map((h) => h.event), ['added fn:$LATEST', 'reserved fn=3', 'added fn:1']);
  });

  it('are not delivered when the catalog fails to open', async () => {
    const dataDir = await tempDir('data');
    const first = openCatalog(dataDir);
    await first.catalog.createFunction('fn', CONFIG, await packageZip(), false, {});
    first.catalog.close();
    // The manifest declares a name the data directory also holds: opening refuses, after the manifest was read.
    const declared: FunctionDefinition = {
      name: 'fn', version: '$LATEST', runtime: 'nodejs22.x', handler: () => null, root: dataDir,
      timeout: 3, memorySize: 128, environment: {}, isolation: 'inline', description: '', reservedConcurrency: 5,
    };
    const heard: Heard[] = [];
    assert.throws(() => openCatalog(dataDir, [declared], heard), ConfigError);
    assert.deepEqual(heard, []);
  });

  it('are not delivered when the transaction fails', async () => {
    const dataDir = await tempDir('data');
    // A real failure inside SQLite's transaction: a trigger refuses the version row of one function.
    const file = path.join(dataDir, 'serverfull.db');
    new DeploymentStore(file, EnvironmentCipher.forDataDir(dataDir, undefined)).close();
    const db = new DatabaseSync(file);
    db.exec(`CREATE TRIGGER refuse_broken BEFORE INSERT ON versions WHEN NEW.function_name = 'broken'
      BEGIN SELECT RAISE(ABORT, 'injected failure'); END;`);
    db.close();

    const { catalog, heard } = openCatalog(dataDir);
    try {
      await assert.rejects(catalog.createFunction('broken', CONFIG, await packageZip(), true, {}), /injected failure/);
      assert.deepEqual(heard, []);
      assert.equal(catalog.resolve('broken', undefined), undefined);
      await catalog.createFunction('fine', CONFIG, await packageZip(), false, {});
      assert.deepEqual(heard, [{ event: 'added fine:$LATEST', visible: true }]);
    } finally {
      catalog.close();
    }
  });
});
