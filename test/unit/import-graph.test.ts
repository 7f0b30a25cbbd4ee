/** Which project files a function is made of (hot reload's import graph): its handler and project imports, not packages. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { FunctionDefinition } from '../../src/registry/function-definition.js';
import { belongsTo, functionFiles } from '../../src/watch/import-graph.js';

const root = mkdtempSync(join(tmpdir(), 'serverfull-import-graph-'));
after(() => rmSync(root, { recursive: true, force: true }));

const write = (name: string, text: string) => writeFileSync(join(root, name), text);
const definition = (handler: FunctionDefinition['handler'], extra: Partial<FunctionDefinition> = {}): FunctionDefinition => ({
  name: 'fn', version: '$LATEST', runtime: 'nodejs22.x', handler, root, timeout: 3, memorySize: 128, environment: {}, isolation: 'worker', description: '', ...extra,
});

describe('functionFiles', () => {
  write('package.json', '{"type":"module"}');
  mkdirSync(join(root, 'lib'));
  mkdirSync(join(root, 'node_modules/dep'), { recursive: true });
  write('node_modules/dep/package.json', '{"name":"dep","type":"module","main":"index.js"}');
  write('node_modules/dep/index.js', 'export const dep = 1;\n');
  write('lib/shared.ts', 'export const shared: number = 1;\n');
  write('lib/data.json', '{"a":1}\n');
  write('handler.mjs', "import { shared } from './lib/shared.ts';\nimport data from './lib/data.json' with { type: 'json' };\nimport { dep } from 'dep';\nexport const handler = async () => shared + data.a + dep;\n");
  write('other.mjs', 'export const handler = async () => 2;\n');
  write('broken.mjs', "import { gone } from './missing.mjs';\nexport const handler = async () => gone;\n");

  it('names the handler and every project module it imports, and no package', async () => {
    const files = await functionFiles(definition('handler.handler'));
    assert.ok(files?.kind === 'files');
    assert.deepEqual([...files.files].sort(), [join(root, 'handler.mjs'), join(root, 'lib/data.json'), join(root, 'lib/shared.ts')]);
    assert.ok(belongsTo(files, join(root, 'lib/shared.ts')));
    assert.ok(!belongsTo(files, join(root, 'other.mjs')));
    assert.ok(!belongsTo(files, join(root, 'node_modules/dep/index.js')));
  });

  it('still names the handler when it does not build, so that fixing it reloads it', async () => {
    const files = await functionFiles(definition('broken.handler'));
    assert.ok(files?.kind === 'files' && files.files.has(join(root, 'broken.mjs')));
  });

  it('a custom runtime or a Python function is its whole folder; a handler given as a function or a mock has no files', async () => {
    const files = await functionFiles(definition('anything', { runtime: 'provided.al2023', isolation: 'process' }));
    assert.deepEqual(files, { kind: 'folder', folder: root });
    assert.deepEqual(await functionFiles(definition('app.handler', { runtime: 'python3.12', isolation: 'process' })), { kind: 'folder', folder: root });
    assert.ok(belongsTo(files!, join(root, 'lib/shared.ts')));
    assert.ok(!belongsTo(files!, `${root}-sibling/bootstrap`));
    assert.equal(await functionFiles(definition(async () => 1)), undefined);
    assert.equal(await functionFiles(definition('handler.handler', { mock: { errors: [] } })), undefined);
  });
});
