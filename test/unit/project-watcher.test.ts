/** The project watcher: batches of changed files, with node_modules, dot folders and the data directory left out, and new folders watched. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ProjectWatcher } from '../../src/watch/project-watcher.js';
import { waitUntil } from '../helpers/wait-until.js';

describe('ProjectWatcher', () => {
  const root = mkdtempSync(join(tmpdir(), 'serverfull-project-watcher-'));
  const batches: Array<ReadonlySet<string>> = [];
  let watcher: ProjectWatcher;
  const seen = () => batches.flatMap((batch) => [...batch]);
  before(() => {
    for (const folder of ['src', 'node_modules/pkg', '.git', 'data']) mkdirSync(join(root, folder), { recursive: true });
    // A link back up the tree: followed, it would be watched without end (the watcher's `failed` throws here).
    symlinkSync(root, join(root, 'src/loop'));
    watcher = new ProjectWatcher({ folders: [root], ignored: [join(root, 'data')], changed: (paths) => void batches.push(paths), failed: (_f, error) => { throw error; } });
  });
  after(() => {
    watcher.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('reports a changed file, and nothing of ignored places written just before it', async () => {
    for (const ignored of ['node_modules/pkg/index.js', '.git/index', 'data/serverfull.db', 'src/.handler.mjs.swp']) writeFileSync(join(root, ignored), 'x');
    writeFileSync(join(root, 'src/handler.mjs'), 'export const handler = 1;\n');
    await waitUntil(() => seen().includes(join(root, 'src/handler.mjs')), 'the handler change is reported');
    assert.deepEqual(seen().filter((path) => !path.startsWith(join(root, 'src/handler.mjs'))), []);
  });

  it('watches a folder created after the start', async () => {
    mkdirSync(join(root, 'src/later'));
    await waitUntil(() => seen().includes(join(root, 'src/later')), 'the new folder is reported');
    writeFileSync(join(root, 'src/later/module.mjs'), 'export const n = 1;\n');
    await waitUntil(() => seen().includes(join(root, 'src/later/module.mjs')), 'a file in the new folder is reported');
  });

  it('watches a folder included later (a new function elsewhere), but never the data directory', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'serverfull-project-watcher-elsewhere-'));
    try {
      watcher.include(join(root, 'data'));
      watcher.include(elsewhere);
      writeFileSync(join(root, 'data/later.db'), 'x');
      writeFileSync(join(elsewhere, 'handler.mjs'), 'export const handler = 1;\n');
      await waitUntil(() => seen().includes(join(elsewhere, 'handler.mjs')), 'the included folder\'s change is reported');
      assert.ok(!seen().includes(join(root, 'data/later.db')));
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('reports the files of a folder that appears with them, however fast they came', async () => {
    mkdirSync(join(root, 'src/burst/deep'), { recursive: true });
    writeFileSync(join(root, 'src/burst/deep/module.mjs'), 'export const n = 1;\n');
    await waitUntil(() => seen().includes(join(root, 'src/burst/deep/module.mjs')), 'the file of the new folder is reported');
  });
});
