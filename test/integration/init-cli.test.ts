/**
 * `serverfull init`: the project it creates works as it is: its `npm test` passes (serverfull linked from this
 * repository, no network), its manifest passes the published schema, and it never overwrites a file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli-process.js';
import { REPO_ROOT } from '../helpers/fixture-server.js';
import { schemaErrors } from '../helpers/json-schema-check.js';

/** Runs `command args` in `cwd`; resolves with its exit code and output. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.on('error', (error) => (output += `cannot run ${command}: ${error.message}`));
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

describe('serverfull init', () => {
  let work: string;
  let project: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'serverfull-init-'));
    project = join(work, 'My App');
    const init = runCli(['init', project]);
    assert.equal(await init.exited, 0, init.stderr());
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it('creates the manifest, a TypeScript function, its test, package.json and .gitignore', () => {
    for (const file of ['serverfull.json', 'src/hello.ts', 'test/hello.test.mjs', 'package.json', 'tsconfig.json', '.gitignore']) {
      assert.ok(existsSync(join(project, file)), file);
    }
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    assert.equal(pkg.name, 'my-app');
    assert.equal(pkg.scripts.start, 'serverfull start');
    assert.match(pkg.scripts.test, /^node --test /);
    // serverfull is not on a package registry: the project depends on the folder of the serverfull that made it.
    assert.match(pkg.dependencies.serverfull, /^file:/);
    assert.equal(realpathSync(resolve(project, pkg.dependencies.serverfull.slice('file:'.length))), realpathSync(REPO_ROOT));
    assert.match(readFileSync(join(project, '.gitignore'), 'utf8'), /^\.serverfull\/$/m);
    const manifest = JSON.parse(readFileSync(join(project, 'serverfull.json'), 'utf8'));
    assert.equal(manifest.$schema, './node_modules/serverfull/schema/serverfull.schema.json');
    const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schema/serverfull.schema.json'), 'utf8'));
    assert.deepEqual(schemaErrors(schema, manifest), []);
  });

  it('passes its own npm test, in process', async () => {
    // Installed offline, as npm install makes a file: dependency: a link to this repository.
    mkdirSync(join(project, 'node_modules/.bin'), { recursive: true });
    symlinkSync(REPO_ROOT, join(project, 'node_modules/serverfull'));
    assert.ok(existsSync(join(project, 'node_modules/serverfull/schema/serverfull.schema.json')), 'the $schema path resolves');
    const bin = dirname(process.execPath);
    // The npm on PATH (Node.js builds from the npm registry have none), on this test's Node.js.
    const { code, output } = await run('npm', ['test'], project, {
      PATH: `${bin}:${process.env.PATH}`, HOME: work, npm_config_update_notifier: 'false', npm_config_fund: 'false',
    });
    assert.equal(code, 0, output);
    assert.match(output, /# pass 2|ℹ pass 2/);
  });

  it('never overwrites: a file in the way stops it', async () => {
    const again = runCli(['init', project]);
    assert.equal(await again.exited, 2);
    assert.match(again.stderr(), /already has serverfull\.json, .*package\.json: choose an empty folder/);
  });
});
