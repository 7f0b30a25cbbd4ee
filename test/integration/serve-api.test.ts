/** The programmatic API: `serve({ functions })`, the static map of the original serverfull. */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Context } from 'aws-lambda';
import { ConfigError, serve } from '../../src/index.js';
import { FIXTURES, FIXTURE_MANIFEST, lambdaClient, tempDataDir } from '../helpers/fixture-server.js';
import { InvokeCommand } from '@aws-sdk/client-lambda';

async function invoke(url: string, name: string, event: unknown) {
  const lambda = lambdaClient(url);
  try {
    const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(event) }));
    return { out, json: JSON.parse(Buffer.from(out.Payload!).toString()) };
  } finally {
    lambda.destroy();
  }
}

describe('serve()', () => {
  it('serves handler functions and file handlers side by side', async () => {
    const server = await serve({
      dataDir: tempDataDir(),
      port: 0,
      logLevel: 'silent',
      root: FIXTURES,
      functions: {
        add: async (event: { a: number; b: number }, context: Context) => ({ sum: event.a + event.b, fn: context.functionName, env: process.env.ADD_VAR ?? null }),
        echo: { handler: 'functions/echo.handler', environment: { SECRET: 's3' } },
      },
    });
    try {
      const add = await invoke(server.url, 'add', { a: 2, b: 3 });
      assert.deepEqual(add.json, { sum: 5, fn: 'add', env: null });
      const echo = await invoke(server.url, 'echo', { x: 1 });
      assert.equal(echo.json.env.SECRET, 's3');
      assert.deepEqual(server.functions.map((f) => [f.name, f.isolation]), [['add', 'inline'], ['echo', 'worker']]);
    } finally {
      await server.close();
    }
  });

  it('a callback handler function works inline', async () => {
    const server = await serve({ port: 0, logLevel: 'silent', dataDir: tempDataDir(), functions: { cb: (_event, _context, callback) => callback(null, 'called back') } });
    try {
      assert.equal((await invoke(server.url, 'cb', {})).json, 'called back');
    } finally {
      await server.close();
    }
  });

  it('refuses a function declared in both the manifest and the map', async () => {
    await assert.rejects(serve({ port: 0, logLevel: 'silent', dataDir: tempDataDir(), config: FIXTURE_MANIFEST, functions: { echo: async () => 1 } }), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /function "echo" is declared twice/);
      return true;
    });
  });

  it('a start that fails releases every store it had opened: the data directory serves a next start', async () => {
    const dataDir = tempDataDir();
    // The event queue's database is the last store opened: make it impossible to open.
    mkdirSync(join(dataDir, 'events.db'), { recursive: true });
    await assert.rejects(serve({ port: 0, logLevel: 'silent', dataDir, functions: { f: async () => 1 } }), /event queue/);
    rmSync(join(dataDir, 'events.db'), { recursive: true });
    const server = await serve({ port: 0, logLevel: 'silent', dataDir, functions: { f: async () => 1 } });
    await server.close();
  });

  it('close() stops listening', async () => {
    const server = await serve({ port: 0, logLevel: 'silent', dataDir: tempDataDir(), functions: { f: async () => 1 } });
    await server.close();
    await assert.rejects(fetch(`${server.url}/healthcheck`));
  });
});
