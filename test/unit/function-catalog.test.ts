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
import { AwsError } from '../../src/errors.js';

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
  ephemeralStorage: 512,
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

  it('tell of a replaced manifest what changed: a new object is a new function, the same object is untouched', async () => {
    const declared = (name: string, extra: Partial<FunctionDefinition> = {}): FunctionDefinition => Object.freeze({
      name, version: '$LATEST', runtime: 'nodejs22.x', handler: 'index.handler', root: process.cwd(),
      timeout: 3, memorySize: 128, environment: {}, isolation: 'worker' as const, description: '', ...extra,
    });
    const kept = declared('kept');
    const { catalog, heard } = openCatalog(await tempDir('data'), [kept, declared('changed', { reservedConcurrency: 5 }), declared('dropped')]);
    try {
      await catalog.createFunction('deployed', CONFIG, await packageZip(), false, {});
      heard.length = 0;
      const changed = declared('changed');
      catalog.replaceManifest([kept, changed, declared('added')]);
      assert.deepEqual(heard.map((h) => h.event), [
        'removed changed:$LATEST', 'reserved changed=undefined', 'removed dropped:$LATEST', 'added changed:$LATEST', 'added added:$LATEST',
      ]);
      assert.equal(catalog.resolve('kept', undefined), kept);
      assert.equal(catalog.resolve('changed', undefined), changed);
      assert.equal(catalog.resolve('dropped', undefined), undefined);
      heard.length = 0;
      // A declared name that is also deployed: refused as a whole, nothing told.
      assert.throws(() => catalog.replaceManifest([declared('deployed')]), (error: unknown) => error instanceof ConfigError && /also deployed/.test(error.message));
      assert.deepEqual(heard, []);
      assert.equal(catalog.resolve('kept', undefined), kept);
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

/** Whether `error` is an AwsError of `type` (and, given, with a message matching `message`). */
function awsError(type: string, message?: RegExp) {
  return (error: unknown) => error instanceof AwsError && error.type === type && (message === undefined || message.test(error.message));
}

describe('FunctionCatalog versions', () => {
  it('publishes numbered snapshots of $LATEST and resolves each by number', async () => {
    const { catalog } = openCatalog(await tempDir('data'));
    try {
      const created = await catalog.createFunction('fn', CONFIG, await packageZip(), true, {});
      assert.equal(created.record.version, '1');
      assert.equal(created.arn, 'arn:aws:lambda:us-east-1:123456789012:function:fn:1');
      catalog.updateConfiguration('fn', { timeout: 9 }, undefined);
      const second = catalog.publishVersion('fn', undefined, 'the second', undefined);
      assert.equal(second.record.version, '2');
      assert.equal(second.record.config.description, 'the second');
      assert.deepEqual(catalog.listVersions('fn').map((v) => v.record.version), ['$LATEST', '1', '2']);
      assert.equal(catalog.resolve('fn', '1')!.timeout, 3, 'a published version keeps its configuration');
      assert.equal(catalog.resolve('fn', '2')!.timeout, 9);
      assert.equal(catalog.resolve('fn', undefined)!.version, '$LATEST');
      assert.equal(catalog.resolve('fn', '3'), undefined);
      assert.throws(() => catalog.getVersion('fn', '3'), awsError('ResourceNotFoundException'));
    } finally {
      catalog.close();
    }
  });

  it('publishing again with nothing changed returns the last version instead of a new one', async () => {
    const { catalog, heard } = openCatalog(await tempDir('data'));
    try {
      const zip = await packageZip();
      await catalog.createFunction('fn', CONFIG, zip, false, {});
      assert.equal(catalog.publishVersion('fn', undefined, undefined, undefined).record.version, '1');
      heard.length = 0;
      assert.equal(catalog.publishVersion('fn', undefined, 'another description', undefined).record.version, '1');
      assert.equal((await catalog.updateCode('fn', zip, true, undefined)).record.version, '1', 'the same code again publishes nothing new');
      assert.deepEqual(heard.map((h) => h.event), ['added fn:$LATEST'], 'no version was added');
      catalog.updateConfiguration('fn', { memorySize: 256 }, undefined);
      assert.equal(catalog.publishVersion('fn', undefined, undefined, undefined).record.version, '2', 'a changed configuration is a new version');
      catalog.updateConfiguration('fn', { memorySize: 128 }, undefined);
      assert.equal(catalog.publishVersion('fn', undefined, undefined, undefined).record.version, '3', 'changed back is still a change from version 2');
    } finally {
      catalog.close();
    }
  });

  it('never reuses a deleted version’s number, and remembers the next one across a restart', async () => {
    const dataDir = await tempDir('data');
    const first = openCatalog(dataDir).catalog;
    try {
      await first.createFunction('fn', CONFIG, await packageZip(), true, {});
      first.updateConfiguration('fn', { timeout: 4 }, undefined);
      first.publishVersion('fn', undefined, undefined, undefined);
      first.deleteFunction('fn', '2');
      first.updateConfiguration('fn', { timeout: 5 }, undefined);
      assert.equal(first.publishVersion('fn', undefined, undefined, undefined).record.version, '3');
    } finally {
      first.close();
    }
    const second = openCatalog(dataDir).catalog;
    try {
      assert.deepEqual(second.listVersions('fn').map((v) => v.record.version), ['$LATEST', '1', '3']);
      second.updateConfiguration('fn', { timeout: 6 }, undefined);
      assert.equal(second.publishVersion('fn', undefined, undefined, undefined).record.version, '4');
    } finally {
      second.close();
    }
  });

  it('refuses to publish with a stale CodeSha256 or RevisionId, and to delete $LATEST alone', async () => {
    const { catalog } = openCatalog(await tempDir('data'));
    try {
      const created = await catalog.createFunction('fn', CONFIG, await packageZip(), false, {});
      assert.throws(() => catalog.publishVersion('fn', 'not-the-sha', undefined, undefined), awsError('InvalidParameterValueException', /CodeSHA256 \(not-the-sha\) is different/));
      assert.throws(() => catalog.publishVersion('fn', undefined, undefined, 'stale'), awsError('PreconditionFailedException'));
      assert.equal(catalog.publishVersion('fn', created.record.codeSha256, undefined, created.record.revisionId).record.version, '1');
      assert.throws(() => catalog.deleteFunction('fn', '$LATEST'), awsError('InvalidParameterValueException'));
    } finally {
      catalog.close();
    }
  });
});

describe('FunctionCatalog aliases', () => {
  /** A function with versions 1 and 2. */
  async function twoVersions() {
    const { catalog } = openCatalog(await tempDir('data'));
    await catalog.createFunction('fn', CONFIG, await packageZip(), true, {});
    catalog.updateConfiguration('fn', { timeout: 7 }, undefined);
    catalog.publishVersion('fn', undefined, undefined, undefined);
    return catalog;
  }

  it('resolves an alias to its version, and follows it when it moves', async () => {
    const catalog = await twoVersions();
    try {
      catalog.createAlias('fn', 'live', '1', 'production', undefined);
      assert.equal(catalog.resolve('fn', 'live')!.version, '1');
      assert.equal(catalog.getVersion('fn', 'live').arn, 'arn:aws:lambda:us-east-1:123456789012:function:fn:live');
      const moved = catalog.updateAlias('fn', 'live', { functionVersion: '2' }, undefined);
      assert.equal(catalog.resolve('fn', 'live')!.version, '2');
      assert.throws(() => catalog.updateAlias('fn', 'live', { functionVersion: '1' }, 'stale'), awsError('PreconditionFailedException'));
      catalog.updateAlias('fn', 'live', { functionVersion: '1' }, moved.revisionId);
      assert.equal(catalog.resolve('fn', 'live')!.version, '1', 'rolled back');
      catalog.createAlias('fn', 'edge', '$LATEST', '', undefined);
      assert.equal(catalog.resolve('fn', 'edge')!.version, '$LATEST');
    } finally {
      catalog.close();
    }
  });

  it('routes by weight: the additional version gets the draws below its weight', async (t) => {
    const catalog = await twoVersions();
    try {
      catalog.createAlias('fn', 'canary', '1', '', { '2': 0.25 });
      const draws = [0.1, 0.24, 0.25, 0.9];
      t.mock.method(Math, 'random', () => draws.shift()!);
      assert.deepEqual([1, 2, 3, 4].map(() => catalog.resolve('fn', 'canary')!.version), ['2', '2', '1', '1']);
      t.mock.restoreAll();
      catalog.updateAlias('fn', 'canary', { weights: null }, undefined);
      assert.equal(catalog.getAlias('fn', 'canary').weights, undefined, 'weights removed');
      for (let i = 0; i < 20; i++) assert.equal(catalog.resolve('fn', 'canary')!.version, '1');
    } finally {
      catalog.close();
    }
  });

  it('refuses aliases to versions that do not exist, weights with $LATEST or on the main version, and duplicates', async () => {
    const catalog = await twoVersions();
    try {
      assert.throws(() => catalog.createAlias('fn', 'a', '9', '', undefined), awsError('ResourceNotFoundException'));
      assert.throws(() => catalog.createAlias('fn', 'a', '$LATEST', '', { '1': 0.5 }), awsError('InvalidParameterValueException', /\$LATEST is not supported/));
      assert.throws(() => catalog.createAlias('fn', 'a', '1', '', { '1': 0.5 }), awsError('InvalidParameterValueException', /already included/));
      assert.throws(() => catalog.createAlias('fn', 'a', '1', '', { '9': 0.5 }), awsError('ResourceNotFoundException'));
      assert.deepEqual(catalog.listAliases('fn', undefined), [], 'nothing refused was kept');
      catalog.createAlias('fn', 'a', '1', '', undefined);
      assert.throws(() => catalog.createAlias('fn', 'a', '2', '', undefined), awsError('ResourceConflictException'));
    } finally {
      catalog.close();
    }
  });

  it('keeps a version an alias routes to, as its main or weighted version, from being deleted', async () => {
    const catalog = await twoVersions();
    try {
      catalog.createAlias('fn', 'main', '1', '', undefined);
      catalog.createAlias('fn', 'weighted', '1', '', { '2': 0.5 });
      assert.throws(() => catalog.deleteFunction('fn', '2'), awsError('ResourceConflictException', /\[weighted\]/));
      assert.throws(() => catalog.deleteFunction('fn', '1'), awsError('ResourceConflictException', /\[main, weighted\]/));
      assert.throws(() => catalog.deleteFunction('fn', 'main'), awsError('InvalidParameterValueException', /Use DeleteAlias/));
      catalog.deleteAlias('fn', 'weighted');
      catalog.deleteAlias('fn', 'weighted');
      catalog.deleteFunction('fn', '2');
      assert.equal(catalog.resolve('fn', '2'), undefined);
    } finally {
      catalog.close();
    }
  });

  it('keeps aliases and their weights across a restart', async () => {
    const dataDir = await tempDir('data');
    const first = openCatalog(dataDir).catalog;
    try {
      await first.createFunction('fn', CONFIG, await packageZip(), true, {});
      first.updateConfiguration('fn', { timeout: 7 }, undefined);
      first.publishVersion('fn', undefined, undefined, undefined);
      first.createAlias('fn', 'canary', '1', 'split', { '2': 0.1 });
    } finally {
      first.close();
    }
    const second = openCatalog(dataDir).catalog;
    try {
      const alias = second.getAlias('fn', 'canary');
      assert.deepEqual({ v: alias.functionVersion, d: alias.description, w: alias.weights }, { v: '1', d: 'split', w: { '2': 0.1 } });
    } finally {
      second.close();
    }
  });
});

describe('FunctionCatalog reserved concurrency', () => {
  it('sets, reports and removes a function’s reserved concurrency, and keeps it across a restart', async () => {
    const dataDir = await tempDir('data');
    const first = openCatalog(dataDir);
    try {
      await first.catalog.createFunction('fn', CONFIG, await packageZip(), false, {});
      assert.equal(first.catalog.putConcurrency('fn', 50), 50);
      assert.equal(first.catalog.getFunction('fn').reservedConcurrency, 50);
    } finally {
      first.catalog.close();
    }
    const second = openCatalog(dataDir);
    try {
      assert.equal(second.catalog.getFunction('fn').reservedConcurrency, 50);
      assert.ok(second.heard.some((h) => h.event === 'reserved fn=50'), 'the runtime hears of it on load');
      second.catalog.deleteConcurrency('fn');
      assert.equal(second.catalog.getFunction('fn').reservedConcurrency, undefined);
    } finally {
      second.catalog.close();
    }
  });

  it('refuses to leave the account fewer than its minimum unreserved executions, counting other functions', async () => {
    // Concurrency 1000: at least 100 must stay unreserved.
    const { catalog } = openCatalog(await tempDir('data'));
    try {
      const zip = await packageZip();
      await catalog.createFunction('a', CONFIG, zip, false, {});
      await catalog.createFunction('b', CONFIG, zip, false, {});
      assert.throws(() => catalog.putConcurrency('a', 901), awsError('InvalidParameterValueException', /minimum value of \[100\]/));
      assert.equal(catalog.putConcurrency('a', 900), 900);
      assert.throws(() => catalog.putConcurrency('b', 1), awsError('InvalidParameterValueException'), 'a holds all that may be reserved');
      assert.equal(catalog.putConcurrency('a', 500), 500, 'a function’s own reservation does not count against its change');
      assert.equal(catalog.putConcurrency('b', 400), 400);
      assert.equal(catalog.getFunction('a').reservedConcurrency, 500, 'a refused change leaves the old value');
    } finally {
      catalog.close();
    }
  });

  it('refuses changes to manifest functions, and reports their declared reserved concurrency', async () => {
    const declared: FunctionDefinition = {
      name: 'declared', version: '$LATEST', runtime: 'nodejs22.x', handler: () => null, root: process.cwd(),
      timeout: 3, memorySize: 128, environment: {}, isolation: 'inline', description: '', reservedConcurrency: 5,
    };
    const { catalog, heard } = openCatalog(await tempDir('data'), [declared]);
    try {
      assert.equal(catalog.getFunction('declared').reservedConcurrency, 5);
      assert.deepEqual(heard.map((h) => h.event), ['reserved declared=5']);
      assert.throws(() => catalog.putConcurrency('declared', 10), awsError('ResourceConflictException', /declared in test/));
      assert.throws(() => catalog.publishVersion('declared', undefined, undefined, undefined), awsError('ResourceConflictException'));
      assert.equal(catalog.resolve('declared', undefined), declared);
      assert.throws(() => catalog.putConcurrency('nope', 1), awsError('ResourceNotFoundException'));
    } finally {
      catalog.close();
    }
  });
});
