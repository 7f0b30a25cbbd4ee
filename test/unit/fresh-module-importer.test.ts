/** Hot reload's importer for inline functions: a fresh module instance per load, packages shared, the runtime's errors, nothing left behind. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HandlerLoadError } from '../../src/handler/function-errors.js';
import { freshModuleImporter } from '../../src/watch/fresh-module-importer.js';

const root = mkdtempSync(join(tmpdir(), 'serverfull-fresh-module-'));
after(() => rmSync(root, { recursive: true, force: true }));
const write = (name: string, text: string) => writeFileSync(join(root, name), text);

describe('freshModuleImporter', () => {
  mkdirSync(join(root, 'node_modules/counter'), { recursive: true });
  write('node_modules/counter/package.json', '{"name":"counter","main":"index.js"}');
  write('node_modules/counter/index.js', 'exports.token = {};\n');
  write('state.mjs', 'export const state = { inits: 0 };\nstate.inits += 1;\n');
  write('esm.mjs', "import { state } from './state.mjs';\nimport counter from 'counter';\nexport const handler = () => state;\nexport const token = counter.token;\n");
  write('common.cjs', "const { token } = require('counter');\nexports.handler = () => ({ token, dir: __dirname });\n");
  write('typed.mts', 'export const handler = (): number => 42;\n');
  write('broken.mjs', 'export const handler = () => {;\n');
  write('throws.mjs', "throw new Error('init failed in ' + import.meta.url);\n");
  write('missing.mjs', "import { gone } from './gone.mjs';\nexport const handler = () => gone;\n");

  it('gives each load a module instance of its own, project imports included, and shares packages', async () => {
    const kept: number[] = [];
    const importer = freshModuleImporter(({ loads }) => kept.push(loads));
    const first = await importer(join(root, 'esm.mjs'));
    const second = await importer(join(root, 'esm.mjs'));
    const stateOf = (module: Record<string, unknown>) => (module.handler as () => { inits: number })();
    assert.notEqual(stateOf(first), stateOf(second), 'a new instance of the imported project module');
    assert.equal(stateOf(second).inits, 1, 'its top level ran again, once');
    assert.equal(first.token, second.token, 'the package is loaded once');
    assert.deepEqual(kept, [1, 2]);
    assert.deepEqual(readdirSync(root).filter((name) => name.startsWith('.')), [], 'no bundle is left behind');
  });

  it('loads CommonJS (require of a package, __dirname of the handler\'s folder) and TypeScript', async () => {
    const importer = freshModuleImporter();
    const common = await importer(join(root, 'common.cjs'));
    const answer = ((common.default as Record<string, unknown>).handler as () => { token: unknown; dir: string })();
    assert.equal(answer.dir, root);
    assert.deepEqual(answer.token, {});
    assert.equal(((await importer(join(root, 'typed.mts'))).handler as () => number)(), 42);
  });

  it('fails as the Node.js runtime does: a syntax error, a module that cannot be found, an init error naming the handler\'s file', async () => {
    const importer = freshModuleImporter();
    await assert.rejects(importer(join(root, 'throws.mjs')), (error: unknown) => error instanceof Error
      && error.message === `init failed in file://${join(root, 'throws.mjs')}` && !error.stack!.includes('.serverfull-'));
    await assert.rejects(importer(join(root, 'broken.mjs')), (error: unknown) => error instanceof HandlerLoadError && error.payload.errorType === 'Runtime.UserCodeSyntaxError');
    await assert.rejects(importer(join(root, 'missing.mjs')), (error: unknown) => error instanceof HandlerLoadError
      && error.payload.errorType === 'Runtime.ImportModuleError' && /Cannot find module '\.\/gone\.mjs'/.test(error.payload.errorMessage));
  });
});
