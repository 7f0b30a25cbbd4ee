/**
 * `serve()`'s (and `startLambda()`'s, `bundleFunction()`'s) options are typed: this file compiles only while every wrong option below is
 * refused by the type checker (each `@ts-expect-error` must find an error), and its tests show
 * the right ones start a server, while the loose path the CLI takes keeps its run-time checks.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { serve, startLambda, type ServeOptions } from '../../src/index.js';
import { bundleFunction } from '../../src/lambda/lambda-bundle.js';
import { serveUnchecked } from '../../src/serve.js';
import { ConfigError } from '../../src/config/config-error.js';

/** Never called: only compiled. An unused `@ts-expect-error` (a wrong option accepted) fails the build. */
export function wrongOptionsDoNotCompile(): void {
  // @ts-expect-error port is a number
  void serve({ port: '8080' });
  // @ts-expect-error isolation is 'worker' | 'inline' | 'process'
  void serve({ isolation: 'banana' });
  // @ts-expect-error logLevel is one of the log thresholds
  void serve({ logLevel: 'verbose' });
  // @ts-expect-error logFormat is 'json' | 'pretty'
  void serve({ logFormat: 'xml' });
  // @ts-expect-error mock is a boolean
  void serve({ mock: 'true' });
  // @ts-expect-error concurrency is a number
  void serve({ concurrency: '10' });
  // @ts-expect-error httpPort is a number
  void serve({ httpPort: null });
  // @ts-expect-error region is a string
  void serve({ region: 42 });
  // @ts-expect-error dataDir is a string
  void serve({ dataDir: false });
  // @ts-expect-error eventQueueLimit is a number
  void serve({ eventQueueLimit: '10' });
  // @ts-expect-error kmsKeyFile is a path
  void serve({ kmsKeyFile: true });
  // @ts-expect-error logRetention is a number of days
  void serve({ logRetention: '7d' });
  // @ts-expect-error deployedIsolation is 'worker' | 'inline' | 'process'
  void serve({ deployedIsolation: 'sandboxed' });
  // @ts-expect-error sandbox is 'auto' | 'on' | 'off'
  void serve({ sandbox: true });
  // @ts-expect-error a misspelt setting is not an option
  void serve({ prot: 8080 });
  // startLambda() and bundleFunction() take the same typed settings.
  // @ts-expect-error isolation is 'worker' | 'inline' | 'process'
  void startLambda({ functionName: 'f', isolation: 'banana' });
  // @ts-expect-error region is a string
  void bundleFunction({ functionName: 'f', out: 'f.zip', region: 42 });
  // @ts-expect-error out is required
  void bundleFunction({ functionName: 'f' });
  const options: ServeOptions = { port: 0 };
  // @ts-expect-error the settings are read-only once given
  options.port = 1;
}

describe('serve() options', () => {
  it('every setting, given with its type, starts a server with it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'serverfull-serve-options-'));
    const kmsKeyFile = join(mkdtempSync(join(tmpdir(), 'serverfull-serve-options-key-')), 'serverfull.key');
    writeFileSync(kmsKeyFile, randomBytes(32));
    const bounds = { eventQueueLimit: 50, eventQueueBytes: 65_536, maxEventAge: 60, eventRetryDelay: 5, codeStorageLimit: 1_000_000, kmsKeyFile, logRetention: 3, logMaxBytes: 1_000_000 };
    const security = {
      auth: 'none' as const, insecure: false, allowedOrigins: ['http://localhost:5173'], allowedHosts: ['lambda.internal'],
      maxConnections: 50, headersTimeout: 5, requestTimeout: 60, maxConcurrentUploads: 2,
    };
    const development = { watch: true };
    const server = await serve({
      host: '127.0.0.1', port: 0, httpPort: 0, parametersPort: 0, region: 'eu-west-1', accountId: '123456789012', isolation: 'inline', deployedIsolation: 'worker', sandbox: 'off', functionNetwork: 'all',
      concurrency: 5, idleTimeout: 60, scaling: 'eager', shutdownTimeout: 1, dataDir, logLevel: 'silent', logFormat: 'json', mock: true, ...bounds, ...security, ...development,
      functions: { hello: async () => 'hi' },
    });
    try {
      assert.deepEqual({ ...server.settings, port: undefined }, {
        host: '127.0.0.1', port: undefined, httpPort: 0, parametersPort: 0, region: 'eu-west-1', accountId: '123456789012', isolation: 'inline', deployedIsolation: 'worker', sandbox: 'off', functionNetwork: 'all',
        concurrency: 5, idleTimeout: 60, scaling: 'eager', shutdownTimeout: 1, dataDir, logLevel: 'silent', logFormat: 'json', mock: true, ...bounds, ...security, ...development,
      });
      assert.ok(server.port > 0);
      const response = await fetch(`${server.url}/2015-03-31/functions/hello/invocations`, { method: 'POST', body: '{}' });
      assert.equal(response.status, 200);
      await response.text();
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('settings as text (the CLI\'s flags) and untyped callers still meet the run-time checks', async () => {
    // Text is parsed as the CLI's flags are, then checked.
    const server = await serveUnchecked({ port: '0', isolation: 'inline', logLevel: 'silent', dataDir: mkdtempSync(join(tmpdir(), 'serverfull-serve-options-')) });
    try {
      assert.equal(server.settings.isolation, 'inline');
    } finally {
      await server.close();
      rmSync(server.settings.dataDir, { recursive: true, force: true });
    }
    await assert.rejects(serveUnchecked({ port: 'x', logLevel: 'silent' }), (error: unknown) => error instanceof ConfigError && /--port/.test(error.message));
    // A JavaScript caller has no type checker: the same check refuses the value.
    const fromJavaScript = { isolation: 'banana', logLevel: 'silent' } as unknown as ServeOptions;
    await assert.rejects(serve(fromJavaScript), (error: unknown) => error instanceof ConfigError && /must be one of "worker", "inline"/.test(error.message));
  });
});
