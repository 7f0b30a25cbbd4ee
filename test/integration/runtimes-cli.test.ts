/**
 * `serverfull runtimes`: list and install Node.js builds. Install is tested against a stand-in npm registry on
 * 127.0.0.1 serving a small fake `node-<os>-<arch>` package whose `bin/node` runs the repository's `.node/22`
 * (no download from the internet); a tarball that does not match the registry's integrity is not installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/fixture-server.js';
import { runCli } from '../helpers/cli-process.js';

const PACKAGE = `node-${process.platform}-${process.arch}`;

/** A tarball of a package whose `bin/node` runs `node`: what `npm pack` gives. */
function fakeNodePackage(work: string, node: string): Buffer {
  const root = join(work, 'pack');
  mkdirSync(join(root, 'package/bin'), { recursive: true });
  writeFileSync(join(root, 'package/package.json'), JSON.stringify({ name: PACKAGE, version: '22.3.0' }));
  writeFileSync(join(root, 'package/bin/node'), `#!/bin/sh\nexec '${node}' "$@"\n`);
  chmodSync(join(root, 'package/bin/node'), 0o755);
  const tar = spawnSync('tar', ['-czf', join(work, 'package.tgz'), '-C', root, 'package']);
  assert.equal(tar.status, 0, String(tar.stderr));
  return readFileSync(join(work, 'package.tgz'));
}

describe('serverfull runtimes', () => {
  let work: string;
  let registry: Server;
  let registryUrl: string;
  let tarball: Buffer;
  /** The integrity the stand-in's metadata gives for the 22.3.0 tarball. */
  let integrity: string;
  const requests: Array<{ url: string; accept: string | undefined }> = [];

  before(async () => {
    const node22 = join(REPO_ROOT, '.node/22/bin/node');
    if (!existsSync(node22)) throw new Error(`${node22} is missing: run bash scripts/install-node.sh 22 (CI installs it)`);
    work = mkdtempSync(join(tmpdir(), 'serverfull-runtimes-cli-'));
    tarball = fakeNodePackage(work, realpathSync(node22));
    integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
    registry = createServer((req, res) => {
      requests.push({ url: req.url!, accept: req.headers.accept });
      if (req.url === `/${PACKAGE}`) {
        const dist = (version: string) => ({ tarball: `${registryUrl}/${PACKAGE}/-/${PACKAGE}-${version}.tgz`, integrity });
        res.setHeader('content-type', 'application/json');
        // The newest stable 22 is 22.3.0: not a newer major, not a release candidate.
        res.end(JSON.stringify({
          name: PACKAGE,
          versions: { '22.1.0': { dist: dist('22.1.0') }, '22.3.0': { dist: dist('22.3.0') }, '22.4.0-rc.1': { dist: dist('22.4.0-rc.1') }, '24.0.0': { dist: dist('24.0.0') } },
        }));
      } else if (req.url === `/${PACKAGE}/-/${PACKAGE}-22.3.0.tgz`) {
        res.end(tarball);
      } else if (req.url === `/tampered/${PACKAGE}`) {
        res.end(JSON.stringify({ versions: { '22.3.0': { dist: { tarball: `${registryUrl}/tampered.tgz`, integrity } } } }));
      } else if (req.url === `/unchecked/${PACKAGE}`) {
        res.end(JSON.stringify({ versions: { '22.3.0': { dist: { tarball: `${registryUrl}/${PACKAGE}/-/${PACKAGE}-22.3.0.tgz` } } } }));
      } else if (req.url === '/tampered.tgz') {
        res.end(Buffer.concat([tarball, Buffer.from('x')]));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((resolve) => registry?.close(resolve));
    rmSync(work, { recursive: true, force: true });
  });

  it('installs the newest stable release of the major from the registry npm uses, checked, and lists it', async () => {
    const dir = join(work, 'runtimes');
    const install = runCli(['runtimes', 'install', 'nodejs22.x', '--runtimes-dir', dir], { npm_config_registry: `${registryUrl}/` });
    assert.equal(await install.exited, 0, install.stderr());
    assert.match(install.stderr(), new RegExp(`installing Node\\.js 22\\.3\\.0 \\(${PACKAGE}@22\\.3\\.0 from ${registryUrl}/\\)`));
    assert.deepEqual(requests.map((r) => r.url), [`/${PACKAGE}`, `/${PACKAGE}/-/${PACKAGE}-22.3.0.tgz`]);
    assert.match(requests[0]!.accept!, /application\/vnd\.npm\.install-v1\+json/);
    assert.ok(existsSync(join(dir, 'nodejs22.x/bin/node')));
    assert.deepEqual(readdirSync(dir), ['nodejs22.x'], 'nothing left of the download');

    const listed = runCli(['runtimes'], { SERVERFULL_RUNTIMES_DIR: dir });
    assert.equal(await listed.exited, 0, listed.stderr());
    const [runtime, version, folder] = listed.stdout().trim().split('\t');
    assert.equal(runtime, 'nodejs22.x');
    assert.match(version!, /^22\.\d+\.\d+$/);
    assert.equal(folder, realpathSync(join(dir, 'nodejs22.x')));
  });

  it('installs nothing from a tarball that does not match the registry\'s integrity', async () => {
    const dir = join(work, 'tampered-runtimes');
    const install = runCli(['runtimes', 'install', 'nodejs22.x', '--runtimes-dir', dir], { npm_config_registry: `${registryUrl}/tampered` });
    assert.equal(await install.exited, 1);
    assert.match(install.stderr(), /serverfull: runtimes install nodejs22\.x: .*tampered\.tgz does not match the registry's integrity \(sha512-/);
    assert.deepEqual(readdirSync(dir), [], 'no runtime, no leftovers');
  });

  it('installs nothing the registry gives no integrity for', async () => {
    const dir = join(work, 'unchecked-runtimes');
    const install = runCli(['runtimes', 'install', 'nodejs22.x', '--runtimes-dir', dir], { npm_config_registry: `${registryUrl}/unchecked/` });
    assert.equal(await install.exited, 1);
    assert.match(install.stderr(), /22\.3\.0: the registry's metadata gives no integrity to check the tarball against/);
    assert.ok(!existsSync(join(dir, 'nodejs22.x')));
  });

  it('refuses a runtime that is not a Node.js runtime, and says what it takes', async () => {
    const install = runCli(['runtimes', 'install', '../python3.12'], { npm_config_registry: 'http://127.0.0.1:9/' });
    assert.equal(await install.exited, 2);
    assert.match(install.stderr(), /RUNTIME must be one of nodejs18\.x, nodejs20\.x, nodejs22\.x, nodejs24\.x \(got "\.\.\/python3\.12"\)/);
  });
});
