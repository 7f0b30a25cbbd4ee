/** Deployment packages: hostile zips are refused without touching anything outside, and packing is reproducible. */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { createZip, extractZip, MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES } from '../../src/deploy/zip-archive.js';
import { AwsError } from '../../src/errors.js';

const COULD_NOT_UNZIP = 'Could not unzip uploaded file. Please check your file, then try to upload again.';
const CENTRAL_HEADER_SIGNATURE = Buffer.from([0x50, 0x4b, 0x01, 0x02]);

const scratch: string[] = [];
after(() => Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'serverfull-zip-'));
  scratch.push(dir);
  return dir;
}

/** An empty `dest` folder inside a parent that must hold nothing else afterwards. */
async function destination(): Promise<{ parent: string; dest: string }> {
  const parent = await tempDir();
  const dest = path.join(parent, 'dest');
  await mkdir(dest);
  return { parent, dest };
}

interface FixtureEntry {
  readonly name: string;
  readonly data?: Buffer | string;
  readonly mode?: number;
  readonly compress?: boolean;
  readonly directory?: boolean;
}

function buildZip(entries: readonly FixtureEntry[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.on('error', reject);
    for (const { name, data = '', mode, compress = true, directory = false } of entries) {
      if (directory) zip.addEmptyDirectory(name, mode === undefined ? {} : { mode });
      else zip.addBuffer(Buffer.from(data), name, { compress, ...(mode === undefined ? {} : { mode }) });
    }
    zip.end();
  });
}

/** yazl refuses unsafe names, so fixtures use a harmless name of the same length and swap the bytes. */
function renameEntry(zip: Buffer, from: string, to: string): Buffer {
  assert.equal(Buffer.byteLength(from), Buffer.byteLength(to));
  const patched = Buffer.from(zip);
  const needle = Buffer.from(from);
  let replaced = 0;
  for (let at = patched.indexOf(needle); at !== -1; at = patched.indexOf(needle, at + 1)) {
    Buffer.from(to).copy(patched, at);
    replaced += 1;
  }
  assert.equal(replaced, 2, 'the name appears in the local header and the central directory');
  return patched;
}

/** Rewrites the size fields of the only entry, in both headers, as a lying archiver would. */
function declareSizes(zip: Buffer, sizes: { compressed?: number; uncompressed: number }): Buffer {
  const patched = Buffer.from(zip);
  const central = patched.lastIndexOf(CENTRAL_HEADER_SIGNATURE);
  patched.writeUInt32LE(sizes.uncompressed, central + 24);
  patched.writeUInt32LE(sizes.uncompressed, 22);
  if (sizes.compressed !== undefined) {
    patched.writeUInt32LE(sizes.compressed, central + 20);
    patched.writeUInt32LE(sizes.compressed, 18);
  }
  return patched;
}

async function assertRefused(promise: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AwsError);
    assert.equal(error.name, 'InvalidParameterValueException');
    assert.equal(error.type, 'InvalidParameterValueException');
    assert.equal(error.status, 400);
    assert.equal(error.message, message);
    return true;
  });
}

/** The zip-slip guarantee: the parent still holds only an empty destination. */
async function assertNothingWritten(parent: string, dest: string): Promise<void> {
  assert.deepEqual(await readdir(parent), ['dest']);
  assert.deepEqual(await readdir(dest), []);
}

async function writeTree(root: string, files: Record<string, string>, executable: readonly string[] = []): Promise<void> {
  for (const [name, content] of Object.entries(files).reverse()) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), content);
    await chmod(path.join(root, name), executable.includes(name) ? 0o755 : 0o600);
  }
}

async function entryNames(zip: Buffer): Promise<string[]> {
  const zipfile = await yauzl.fromBufferPromise(zip, { lazyEntries: true });
  const names: string[] = [];
  for await (const entry of zipfile.eachEntry()) names.push(entry.fileName);
  return names;
}

const fileMode = async (file: string): Promise<number> => (await stat(file)).mode & 0o777;

const PROJECT = {
  'index.js': 'export const handler = async () => "ok";\n',
  'lib/util.js': 'export const util = 1;\n',
  'lib/deep/nested/data.json': '{"deep":true}\n',
  'bin/run.sh': '#!/bin/sh\necho hi\n',
};

describe('limits', () => {
  it('are the AWS Lambda quotas', () => {
    assert.equal(MAX_ZIPPED_BYTES, 50 * 1024 * 1024);
    assert.equal(MAX_UNZIPPED_BYTES, 250 * 1024 * 1024);
  });
});

describe('createZip → extractZip', () => {
  it('round-trips nested folders, contents and the executable bit', async () => {
    const project = await tempDir();
    await writeTree(project, { ...PROJECT, '.git/config': 'x', '.serverfull/state': 'x' }, ['bin/run.sh']);
    const { dest } = await destination();

    const result = await extractZip(await createZip(project), dest);

    assert.deepEqual(result, {
      files: 4,
      unzippedBytes: Object.values(PROJECT).reduce((sum, text) => sum + Buffer.byteLength(text), 0),
    });
    for (const [name, content] of Object.entries(PROJECT)) {
      assert.equal(await readFile(path.join(dest, name), 'utf8'), content);
    }
    assert.equal(await fileMode(path.join(dest, 'bin/run.sh')), 0o755);
    assert.equal(await fileMode(path.join(dest, 'lib/util.js')), 0o644);
    assert.equal(await fileMode(path.join(dest, 'lib/deep')), 0o755);
    assert.deepEqual((await readdir(dest)).sort(), ['bin', 'index.js', 'lib']);
  });
});

describe('createZip', () => {
  it('lists files only, sorted, with POSIX separators, skipping .git and .serverfull at the top', async () => {
    const project = await tempDir();
    await writeTree(project, { ...PROJECT, 'a.js': '', 'B.js': '', 'lib/.git/kept': '', '.git/HEAD': '', '.serverfull/x': '' });
    assert.deepEqual(await entryNames(await createZip(project)), [
      'B.js',
      'a.js',
      'bin/run.sh',
      'index.js',
      'lib/.git/kept',
      'lib/deep/nested/data.json',
      'lib/util.js',
    ]);
  });

  it('gives the same bytes twice, and for the same content in another folder with other times and modes', async () => {
    const first = await tempDir();
    const second = await tempDir();
    await writeTree(first, PROJECT, ['bin/run.sh']);
    await writeTree(second, Object.fromEntries(Object.entries(PROJECT).reverse()), ['bin/run.sh']);
    await chmod(path.join(second, 'index.js'), 0o644);
    await utimes(path.join(second, 'index.js'), new Date('2001-02-03'), new Date('2001-02-03'));

    const zip = await createZip(first);
    assert.ok(zip.equals(await createZip(first)));
    assert.ok(zip.equals(await createZip(second)));
  });

  it('gives the same bytes in any time zone', async () => {
    const project = await tempDir();
    await writeTree(project, PROJECT);
    const original = process.env.TZ;
    try {
      process.env.TZ = 'Pacific/Kiritimati';
      const east = await createZip(project);
      process.env.TZ = 'America/Los_Angeles';
      assert.ok(east.equals(await createZip(project)));
    } finally {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    }
  });

  it('follows symlinks inside the folder only, and not round a cycle', async () => {
    const outside = await tempDir();
    await writeFile(path.join(outside, 'secret'), 'secret');
    const project = await tempDir();
    await writeTree(project, { 'real.js': 'real', 'lib/util.js': 'util' });
    await symlink('real.js', path.join(project, 'alias.js'));
    await symlink('lib', path.join(project, 'libalias'));
    await symlink('..', path.join(project, 'lib', 'loop'));
    await symlink(path.join(outside, 'secret'), path.join(project, 'secret'));
    await symlink(outside, path.join(project, 'outdir'));
    await symlink('missing.js', path.join(project, 'broken.js'));

    const zip = await createZip(project);
    assert.deepEqual(await entryNames(zip), ['alias.js', 'lib/util.js', 'libalias/util.js', 'real.js']);
    const { dest } = await destination();
    await extractZip(zip, dest);
    assert.equal(await readFile(path.join(dest, 'alias.js'), 'utf8'), 'real');
  });

  it('zips an empty folder to an empty archive', async () => {
    const { dest } = await destination();
    assert.deepEqual(await extractZip(await createZip(await tempDir()), dest), { files: 0, unzippedBytes: 0 });
  });

  it('throws a plain Error for a missing folder or a file', async () => {
    const project = await tempDir();
    await writeFile(path.join(project, 'file'), 'x');
    for (const target of [path.join(project, 'missing'), path.join(project, 'file')]) {
      await assert.rejects(createZip(target), (error: unknown) => {
        assert.ok(error instanceof Error && !(error instanceof AwsError));
        assert.match(error.message, /^Cannot zip /);
        return true;
      });
    }
  });
});

describe('extractZip refuses', () => {
  it('bytes that are not a zip', async () => {
    const { dest } = await destination();
    await assertRefused(extractZip(Buffer.from('definitely not a zip file'), dest), COULD_NOT_UNZIP);
    await assertRefused(extractZip(Buffer.alloc(0), dest), COULD_NOT_UNZIP);
  });

  it('a zip cut in half', async () => {
    const zip = await buildZip([{ name: 'index.js', data: 'x'.repeat(1000) }, { name: 'b.js', data: 'y' }]);
    const { dest } = await destination();
    await assertRefused(extractZip(zip.subarray(0, zip.length >> 1), dest), COULD_NOT_UNZIP);
  });

  it('data whose CRC does not match', async () => {
    const zip = Buffer.from(await buildZip([{ name: 'a.txt', data: 'hello world', compress: false }]));
    zip[zip.indexOf('hello world')] = 'j'.charCodeAt(0);
    const { dest } = await destination();
    await assertRefused(extractZip(zip, dest), COULD_NOT_UNZIP);
  });

  for (const [placeholder, evil] of [
    ['xx/evil.js', '../evil.js'],
    ['xabs.js', '/abs.js'],
    ['b/xx/xx/evil.js', 'a/../../evil.js'],
    ['xx_evil.js', '..\\evil.js'],
    ['C_/evil.js', 'C:/evil.js'],
    ['evil_.js', 'evil\0.js'],
  ] as const) {
    it(`the zip-slip entry ${JSON.stringify(evil)}, writing nothing at all`, async () => {
      const zip = await buildZip([{ name: 'ok.js', data: 'fine' }, { name: placeholder, data: 'evil' }]);
      const { parent, dest } = await destination();
      await assertRefused(extractZip(renameEntry(zip, placeholder, evil), dest), COULD_NOT_UNZIP);
      await assertNothingWritten(parent, dest);
    });
  }

  it('a symlink entry, creating no link', async () => {
    const zip = await buildZip([{ name: 'link', data: '/etc/passwd', mode: 0o120777 }]);
    const { parent, dest } = await destination();
    await assertRefused(extractZip(zip, dest), COULD_NOT_UNZIP);
    await assertNothingWritten(parent, dest);
  });

  it('a bomb whose declared size is over the limit, before writing anything', async () => {
    const zip = await buildZip([{ name: 'small.txt', data: 'x' }, { name: 'zeros.bin', data: Buffer.alloc(300_000) }]);
    assert.ok(zip.length < 10_000);
    const { parent, dest } = await destination();
    await assertRefused(extractZip(zip, dest, { maxUnzippedBytes: 100_000 }), 'Unzipped size must be smaller than 100000 bytes');
    await assertNothingWritten(parent, dest);
  });

  it('many entries that together pass the limit', async () => {
    const zip = await buildZip(['a', 'b', 'c'].map((name) => ({ name, data: Buffer.alloc(40_000) })));
    const { dest } = await destination();
    await assertRefused(extractZip(zip, dest, { maxUnzippedBytes: 100_000 }), 'Unzipped size must be smaller than 100000 bytes');
  });

  it('the default limit in the message', async () => {
    const zip = declareSizes(await buildZip([{ name: 'huge.bin', data: 'x' }]), { uncompressed: MAX_UNZIPPED_BYTES + 1 });
    const { dest } = await destination();
    await assertRefused(extractZip(zip, dest), 'Unzipped size must be smaller than 262144000 bytes');
  });

  it('a deflated entry whose headers claim it is smaller than it inflates to', async () => {
    const zip = declareSizes(await buildZip([{ name: 'zeros.bin', data: Buffer.alloc(300_000) }]), { uncompressed: 1000 });
    const { dest } = await destination();
    await assert.rejects(extractZip(zip, dest, { maxUnzippedBytes: 100_000 }), (error: unknown) => {
      assert.ok(error instanceof AwsError);
      assert.ok([COULD_NOT_UNZIP, 'Unzipped size must be smaller than 100000 bytes'].includes(error.message));
      return true;
    });
    assert.ok((await stat(path.join(dest, 'zeros.bin')).catch(() => ({ size: 0 }))).size <= 100_000);
  });

  it('a stored entry whose headers claim fewer bytes than it holds', async () => {
    const data = Buffer.alloc(300_000, 'z');
    const zip = declareSizes(await buildZip([{ name: 'z.bin', data, compress: false }]), { compressed: 1000, uncompressed: 1000 });
    const { dest } = await destination();
    await assertRefused(extractZip(zip, dest, { maxUnzippedBytes: 100_000 }), COULD_NOT_UNZIP);
    assert.ok((await stat(path.join(dest, 'z.bin')).catch(() => ({ size: 0 }))).size <= 1000);
  });

  it('more entries than maxEntries', async () => {
    const zip = await buildZip(['a', 'b', 'c', 'd'].map((name) => ({ name, data: name })));
    const { parent, dest } = await destination();
    await assertRefused(extractZip(zip, dest, { maxEntries: 3 }), COULD_NOT_UNZIP);
    await assertNothingWritten(parent, dest);
    assert.equal((await extractZip(zip, dest, { maxEntries: 4 })).files, 4);
  });

  for (const [first, second] of [
    ['index.mjs', 'index.mjs'],
    ['lib/a.js', 'lib//a.js'],
    ['lib/a.js', 'lib/./a.js'],
    ['lib/', 'lib'],
  ] as const) {
    it(`two entries for one path (${JSON.stringify(first)} and ${JSON.stringify(second)}), writing nothing at all`, async () => {
      const entries = [first, second].map((name) => (name.endsWith('/') ? { name, directory: true } : { name, data: `from ${name}` }));
      const zip = await buildZip(entries);
      const { parent, dest } = await destination();
      await assertRefused(extractZip(zip, dest), COULD_NOT_UNZIP);
      await assertNothingWritten(parent, dest);
    });
  }

  it('a file where a folder must go', async () => {
    const zip = await buildZip([{ name: 'a', data: 'file' }, { name: 'a/b', data: 'nested' }]);
    const { dest } = await destination();
    await assertRefused(extractZip(zip, dest), COULD_NOT_UNZIP);
  });
});

describe('extractZip accepts', () => {
  it('an empty zip, extracting nothing', async () => {
    const { dest } = await destination();
    assert.deepEqual(await extractZip(await buildZip([]), dest), { files: 0, unzippedBytes: 0 });
    assert.deepEqual(await readdir(dest), []);
  });

  it('directory entries, backslash separators and modes from the archive', async () => {
    const zip = await buildZip([
      { name: 'empty', directory: true, mode: 0o40700 },
      { name: 'tool', data: 'bin', mode: 0o100711 },
      { name: 'plain.txt', data: 'p', mode: 0o100666 },
      { name: 'win_dir_file.txt', data: 'w' },
    ]);
    const { dest } = await destination();
    const result = await extractZip(renameEntry(zip, 'win_dir_file.txt', 'win\\dir\\file.txt'), dest);
    assert.deepEqual(result, { files: 3, unzippedBytes: 5 });
    assert.equal(await fileMode(path.join(dest, 'empty')), 0o755);
    assert.equal(await fileMode(path.join(dest, 'tool')), 0o755);
    assert.equal(await fileMode(path.join(dest, 'plain.txt')), 0o644);
    assert.equal(await readFile(path.join(dest, 'win/dir/file.txt'), 'utf8'), 'w');
  });
});
