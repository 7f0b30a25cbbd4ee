/**
 * Code storage through @aws-sdk/client-lambda over real HTTP: packages no version uses any more are
 * removed at once (DeleteFunction, DeleteFunction of a version, UpdateFunctionCode), the storage quota
 * refuses uploads past it with CodeStorageExceededException, and a zip with two entries for one path is
 * refused.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CreateFunctionCommand, DeleteFunctionCommand, PublishVersionCommand, UpdateFunctionCodeCommand, type LambdaClient,
} from '@aws-sdk/client-lambda';
import { startFixtureServer, tempDataDir } from '../helpers/fixture-server.js';
import { handlerZip } from '../helpers/zip-fixture.js';
import { waitUntil } from '../helpers/wait-until.js';
import yazl from 'yazl';

function create(lambda: LambdaClient, name: string, zip: Buffer, publish = false) {
  return lambda.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: 'arn:aws:iam::000000000000:role/test',
    Code: { ZipFile: zip }, Timeout: 30, Publish: publish,
  }));
}

async function rejectsWith(promise: Promise<unknown>, name: string, status: number, message?: string): Promise<void> {
  await assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, name, `${error.name}: ${error.message}`);
    assert.equal(error.$metadata?.httpStatusCode, status);
    if (message !== undefined) assert.equal(error.message, message);
    return true;
  });
}

/** Where a package is kept in a data directory: its unpacked folder and its zip. */
function packagePaths(dataDir: string, zip: Buffer): [string, string] {
  const hex = createHash('sha256').update(zip).digest('hex');
  return [join(dataDir, 'code', hex), join(dataDir, 'code', `${hex}.zip`)];
}

function stored(dataDir: string, zip: Buffer): boolean {
  return packagePaths(dataDir, zip).every((path) => existsSync(path));
}

/** Waits until nothing but kept packages is left in the code folder (removal finishes in the background). */
function codeEntries(dataDir: string): string[] {
  return readdirSync(join(dataDir, 'code')).sort();
}

describe('code storage', () => {
  it('removes packages as soon as no version uses them: version deletion, code update, function deletion', async () => {
    const dataDir = tempDataDir();
    const fx = await startFixtureServer({ dataDir });
    try {
      const [one, two, three] = await Promise.all([handlerZip('one'), handlerZip('two'), handlerZip('three')]);
      await create(fx.lambda, 'kept', one, true);
      // Another function with the same package: the package stays while either uses it.
      await create(fx.lambda, 'sharer', one);
      await fx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'kept', ZipFile: two, Publish: true }));
      await fx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'kept', ZipFile: three }));
      assert.ok(stored(dataDir, one) && stored(dataDir, two) && stored(dataDir, three));

      // Version 1 is gone, but `sharer` still uses its package.
      await fx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'kept', Qualifier: '1' }));
      assert.ok(stored(dataDir, one));
      await fx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'sharer' }));
      assert.ok(!packagePaths(dataDir, one).some((path) => existsSync(path)), 'the last user of package one is gone');

      // $LATEST moves off package three: nothing else uses it.
      await fx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'kept', ZipFile: two }));
      assert.ok(!packagePaths(dataDir, three).some((path) => existsSync(path)), 'the replaced package is removed');
      assert.ok(stored(dataDir, two));

      await fx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'kept' }));
      await waitUntil(() => codeEntries(dataDir).length === 0, 'the code folder is empty', { detail: () => codeEntries(dataDir).join(', ') });
      assert.equal(fx.server.settings.codeStorageLimit, 75 * 1024 ** 3, 'the default is AWS\'s 75 GB');
    } finally {
      await fx.close();
    }
  });

  it('refuses packages past the storage quota with CodeStorageExceededException, and takes them once space is freed', async () => {
    const [first, second] = await Promise.all([handlerZip('first'), handlerZip('second')]);
    const fx = await startFixtureServer({ codeStorageLimit: first.length + second.length - 1 });
    try {
      await create(fx.lambda, 'first', first);
      // The same package again takes no more space.
      await create(fx.lambda, 'same', first);
      await rejectsWith(create(fx.lambda, 'second', second), 'CodeStorageExceededException', 400, 'Code storage limit exceeded.');
      await rejectsWith(
        fx.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'first', ZipFile: second })),
        'CodeStorageExceededException', 400, 'Code storage limit exceeded.',
      );
      await fx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'first' }));
      await fx.lambda.send(new DeleteFunctionCommand({ FunctionName: 'same' }));
      const created = await create(fx.lambda, 'second', second);
      assert.equal(created.CodeSize, second.length);
      const out = await fx.invoke('second', {});
      assert.equal(out.json.label, 'second');
    } finally {
      await fx.close();
    }
  });

  it('counts packages kept from before a restart against the quota', async () => {
    const dataDir = tempDataDir();
    const [first, second] = await Promise.all([handlerZip('first'), handlerZip('second')]);
    const limit = first.length + second.length - 1;
    const before = await startFixtureServer({ dataDir, codeStorageLimit: limit });
    await create(before.lambda, 'first', first);
    await before.close();
    const after = await startFixtureServer({ dataDir, codeStorageLimit: limit });
    try {
      await rejectsWith(create(after.lambda, 'second', second), 'CodeStorageExceededException', 400);
      await after.lambda.send(new PublishVersionCommand({ FunctionName: 'first' }));
      assert.equal(statSync(packagePaths(dataDir, first)[1]).size, first.length);
    } finally {
      await after.close();
    }
  });

  it('refuses a zip with two entries for one path, storing nothing', async () => {
    const dataDir = tempDataDir();
    const fx = await startFixtureServer({ dataDir });
    try {
      const zip = new yazl.ZipFile();
      zip.addBuffer(Buffer.from('export const handler = async () => "reviewed";'), 'index.mjs');
      zip.addBuffer(Buffer.from('export const handler = async () => "smuggled";'), 'index.mjs');
      zip.end();
      const chunks: Buffer[] = [];
      for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
      await rejectsWith(create(fx.lambda, 'twice', Buffer.concat(chunks)), 'InvalidParameterValueException', 400,
        'Could not unzip uploaded file. Please check your file, then try to upload again.');
      await waitUntil(() => codeEntries(dataDir).length === 0, 'nothing is left in the code folder', { detail: () => codeEntries(dataDir).join(', ') });
    } finally {
      await fx.close();
    }
  });
});
