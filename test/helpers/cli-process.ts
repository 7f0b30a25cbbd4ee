/**
 * @module test/helpers/cli-process
 * Runs the real `serverfull` binary as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { NO_RUNTIMES, REPO_ROOT, tempDataDir } from './fixture-server.js';
import { waitUntil } from './wait-until.js';

/** Path of the CLI entry point. */
export const CLI = join(REPO_ROOT, 'bin/serverfull.js');

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A CLI child process with its output collected. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Spawns `serverfull ...args` (node given `nodeArgs`), over a fresh data directory (removed once the child has exited) unless `env` names one. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: readonly string[] = []): CliProcess {
  const dataDir = env.SERVERFULL_DATA_DIR === undefined ? tempDataDir() : undefined;
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    // No runtimes directory unless told: servers run every function on this Node.js, whatever the machine has installed.
    env: { PATH: process.env.PATH, SERVERFULL_DATA_DIR: dataDir, SERVERFULL_RUNTIMES_DIR: NO_RUNTIMES, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    resolve(code);
  }));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Polls `/healthcheck` until the server answers; fails at once if the server exits first. */
export async function waitHealthy(url: string, cli: CliProcess): Promise<void> {
  const exited = () => cli.child.exitCode !== null || cli.child.signalCode !== null;
  await waitUntil(async () => {
    if (exited()) throw new Error(`server exited: ${cli.stderr()}${cli.stdout()}`);
    try {
      return (await fetch(`${url}/healthcheck`)).ok;
    } catch {
      return false; // not listening yet
    }
  }, `the server at ${url} answers /healthcheck`, { detail: () => cli.stderr() });
}

/**
 * The address a `serverfull start` child started with `--port 0` (or `--http-port 0`) listens on,
 * read from its log line (at log level info or lower): `serverfull` for the Lambda API, `API Gateway`
 * for the gateway. Fails at once if the server exits first.
 */
export async function listeningUrl(cli: CliProcess, api: 'serverfull' | 'API Gateway' = 'serverfull'): Promise<string> {
  const line = new RegExp(`${api} listening on (http://[^\\s"]+)`);
  await waitUntil(() => {
    if (cli.child.exitCode !== null || cli.child.signalCode !== null) throw new Error(`server exited: ${cli.stderr()}${cli.stdout()}`);
    return line.test(cli.stdout());
  }, `the server logs where ${api} listens`, { detail: () => `${cli.stderr()}${cli.stdout()}` });
  return line.exec(cli.stdout())![1]!;
}
