/**
 * The data directory at rest: folders 0700 and files 0600 (new and older directories alike), and
 * environment variables encrypted in the database and its WAL, readable again after a restart; a
 * missing, wrong or malformed key file is a clear start error that leaves the data as it was.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CreateFunctionCommand, GetFunctionConfigurationCommand, UpdateFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ConfigError } from '../../src/config/config-error.js';
import { runCli } from '../helpers/cli-process.js';
import { startFixtureServer, tempDataDir, type FixtureServer } from '../helpers/fixture-server.js';
import { handlerZip } from '../helpers/zip-fixture.js';

const SECRET = 'hunter2';

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

/** The database and its WAL, as bytes on disk. */
function databaseBytes(dataDir: string): Buffer {
  return Buffer.concat(['serverfull.db', 'serverfull.db-wal'].map((name) => join(dataDir, name)).filter(existsSync).map((file) => readFileSync(file)));
}

async function createWithSecret(lambda: LambdaClient, name = 'secretive'): Promise<void> {
  await lambda.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: 'arn:aws:iam::000000000000:role/test',
    Code: { ZipFile: await handlerZip('at-rest') }, Timeout: 30, Environment: { Variables: { SECRET, GREETING: 'kept' } },
  }));
}

async function start(dataDir: string, kmsKeyFile?: string): Promise<FixtureServer> {
  return startFixtureServer({ dataDir, ...(kmsKeyFile === undefined ? {} : { kmsKeyFile }) });
}

async function assertRefusedToStart(dataDir: string, message: RegExp, kmsKeyFile?: string): Promise<void> {
  await assert.rejects(start(dataDir, kmsKeyFile), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, message);
    return true;
  });
}

describe('data at rest', () => {
  it('creates the data directory 0700 and its files 0600', async () => {
    const dataDir = join(tempDataDir(), 'nested', 'data');
    const fx = await start(dataDir);
    try {
      await createWithSecret(fx.lambda);
      assert.equal(mode(dataDir), 0o700);
      assert.equal(mode(join(dataDir, 'code')), 0o700);
      for (const file of ['serverfull.db', 'serverfull.db-wal', 'serverfull.key']) {
        assert.ok(existsSync(join(dataDir, file)), file);
        assert.equal(mode(join(dataDir, file)), 0o600, file);
      }
      for (const entry of readdirSync(join(dataDir, 'code'))) {
        assert.equal(mode(join(dataDir, 'code', entry)), entry.endsWith('.zip') ? 0o600 : 0o700, entry);
      }
    } finally {
      await fx.close();
    }
  });

  it('keeps environment variables out of the database and its WAL, and reads them back after a restart', async () => {
    const dataDir = tempDataDir();
    const fx = await start(dataDir);
    try {
      await createWithSecret(fx.lambda);
      await fx.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'secretive', Description: 'changed', Environment: { Variables: { SECRET, GREETING: 'kept' } } }));
      assert.ok(databaseBytes(dataDir).length > 0);
      assert.equal(databaseBytes(dataDir).includes(SECRET), false, 'the secret is not in serverfull.db or its WAL');
      assert.equal(databaseBytes(dataDir).includes('GREETING'), false, 'nor are the variable names');
    } finally {
      await fx.close();
    }
    assert.equal(databaseBytes(dataDir).includes(SECRET), false, 'nor after the server stopped');
    const again = await start(dataDir);
    try {
      const config = await again.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'secretive' }));
      assert.deepEqual(config.Environment?.Variables, { SECRET, GREETING: 'kept' });
      assert.equal((await again.invoke('secretive', {})).json.greeting, 'kept');
    } finally {
      await again.close();
    }
  });

  it('opens a data directory from before encryption, rewrites its variables encrypted and tightens its modes', async () => {
    const dataDir = tempDataDir();
    await cp(fileURLToPath(new URL('../../../test/fixtures/data-dir-0.1', import.meta.url)), dataDir, { recursive: true });
    chmodSync(dataDir, 0o755);
    assert.ok(databaseBytes(dataDir).includes('"STAGE"'), 'the fixture holds plaintext variables');
    const fx = await start(dataDir);
    try {
      const config = await fx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'legacy' }));
      assert.deepEqual(config.Environment?.Variables, { STAGE: 'v2' });
      assert.equal(databaseBytes(dataDir).includes('"STAGE"'), false, 'the plaintext is gone from the database and its WAL');
      assert.equal(mode(dataDir), 0o700);
      assert.equal(mode(join(dataDir, 'serverfull.db')), 0o600);
      assert.equal(mode(join(dataDir, 'code')), 0o700);
      for (const entry of readdirSync(join(dataDir, 'code'))) if (entry.endsWith('.zip')) assert.equal(mode(join(dataDir, 'code', entry)), 0o600);
    } finally {
      await fx.close();
    }
  });

  it('refuses to start without the key file that encrypted the variables, and starts again once it is back', async () => {
    const dataDir = tempDataDir();
    const fx = await start(dataDir);
    await createWithSecret(fx.lambda);
    await fx.close();
    const key = join(dataDir, 'serverfull.key');
    renameSync(key, `${key}.away`);
    await assertRefusedToStart(dataDir, /environment variables of function secretive version \$LATEST are encrypted, but the key file .*serverfull\.key is missing/);
    assert.equal(existsSync(key), false, 'no new key replaced the lost one');
    renameSync(`${key}.away`, key);
    const back = await start(dataDir);
    try {
      assert.deepEqual((await back.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'secretive' }))).Environment?.Variables, { SECRET, GREETING: 'kept' });
    } finally {
      await back.close();
    }
  });

  it('refuses to start with a different key, saying which key each side holds', async () => {
    const dataDir = tempDataDir();
    const fx = await start(dataDir);
    await createWithSecret(fx.lambda);
    await fx.close();
    const other = join(tempDataDir(), 'other.key');
    writeFileSync(other, randomBytes(32).toString('hex'));
    await assertRefusedToStart(dataDir, /encrypted with key [0-9a-f]{12}, but --kms-key-file .*other\.key holds key [0-9a-f]{12}/, other);
    writeFileSync(join(dataDir, 'serverfull.key'), `${randomBytes(32).toString('base64')}\n`);
    await assertRefusedToStart(dataDir, /encrypted with key [0-9a-f]{12}, but the key file .*serverfull\.key holds key/);
  });

  it('uses the key file --kms-key-file names, creating none in the data directory', async () => {
    const dataDir = tempDataDir();
    const keyFile = join(tempDataDir(), 'kms.key');
    writeFileSync(keyFile, randomBytes(32));
    const fx = await start(dataDir, keyFile);
    try {
      await createWithSecret(fx.lambda);
      assert.equal(existsSync(join(dataDir, 'serverfull.key')), false);
      assert.equal(databaseBytes(dataDir).includes(SECRET), false);
    } finally {
      await fx.close();
    }
    const again = await start(dataDir, keyFile);
    try {
      assert.equal((await again.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'secretive' }))).Environment?.Variables?.SECRET, SECRET);
    } finally {
      await again.close();
    }
    await assertRefusedToStart(dataDir, /are encrypted, but the key file .* is missing/);
  });

  it('refuses a missing or malformed --kms-key-file', async () => {
    const dataDir = tempDataDir();
    await assertRefusedToStart(dataDir, /--kms-key-file \(SERVERFULL_KMS_KEY_FILE\): cannot read the key file .*nope\.key/, join(dataDir, 'nope.key'));
    const short = join(tempDataDir(), 'short.key');
    writeFileSync(short, 'too short');
    await assertRefusedToStart(dataDir, /must hold a 32-byte key/, short);
  });

  it('the CLI says what is wrong with the key and exits 2, without a stack trace', async () => {
    const dataDir = tempDataDir();
    const fx = await start(dataDir);
    await createWithSecret(fx.lambda);
    await fx.close();
    const other = join(tempDataDir(), 'other.key');
    writeFileSync(other, randomBytes(32));
    const cli = runCli(['start', '--port', '0', '--kms-key-file', other], { SERVERFULL_DATA_DIR: dataDir });
    assert.equal(await cli.exited, 2);
    assert.match(cli.stderr(), /^serverfull: the environment variables of function secretive version \$LATEST were encrypted with key/);
    assert.doesNotMatch(cli.stderr(), /\n\s+at /);
  });
});
