/**
 * @module test/helpers/fixture-server
 * Starts a real server on a free port over the fixture functions, with an SDK client for it.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { serve, type RunningServer, type ServeOptions } from '../../src/index.js';

/** The repository root (tests run from dist/test/...). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Fixture functions and their manifest. */
export const FIXTURES = join(REPO_ROOT, 'test/fixtures');
/** The fixture manifest. */
export const FIXTURE_MANIFEST = join(FIXTURES, 'serverfull.json');

/** A runtimes directory that does not exist: tests run every function on their own Node.js unless they set one. */
export const NO_RUNTIMES = join(tmpdir(), 'serverfull-test-no-runtimes');

/** A running fixture server and an SDK client pointed at it. */
export interface FixtureServer {
  readonly server: RunningServer;
  readonly lambda: LambdaClient;
  /** Invokes `name` with a JSON event and returns the SDK output with the payload decoded. */
  invoke(name: string, event?: unknown, extra?: Partial<ConstructorParameters<typeof InvokeCommand>[0]>): Promise<InvokeCommandOutput & { json: any; text: string }>;
  close(): Promise<void>;
}

/** A new empty data directory under the system's temp folder. */
export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'serverfull-test-'));
}

/** An SDK v3 Lambda client for a local endpoint: dummy credentials, no retries. */
export function lambdaClient(endpoint: string): LambdaClient {
  return new LambdaClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

/** Starts the fixture manifest (or other options) on 127.0.0.1, free ports for both APIs, silently, over a fresh data directory (removed on close unless given). */
export async function startFixtureServer(options: ServeOptions = {}): Promise<FixtureServer> {
  const dataDir = options.dataDir === undefined ? tempDataDir() : undefined;
  // No runtimes directory: every function runs on this Node.js, whatever the machine has installed (runtimesDir to test them).
  const server = await serve({ config: FIXTURE_MANIFEST, port: 0, httpPort: 0, logLevel: 'silent', env: {}, dataDir, runtimesDir: NO_RUNTIMES, ...options });
  const lambda = lambdaClient(server.url);
  return {
    server,
    lambda,
    async invoke(name, event = {}, extra = {}) {
      const output = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(event), ...extra }));
      const text = output.Payload ? Buffer.from(output.Payload).toString('utf8') : '';
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return Object.assign(output, { json, text });
    },
    async close() {
      lambda.destroy();
      await server.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Decodes an `X-Amz-Log-Result`. */
export function decodeLog(logResult: string | undefined): string {
  return Buffer.from(logResult ?? '', 'base64').toString('utf8');
}
