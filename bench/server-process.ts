/**
 * @module bench/server-process
 * Servers under test run in child processes so the load generator never shares their event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './repo-root.js';

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const STDERR_KEPT_BYTES = 4096;

const running = new Set<ChildProcess>();

/** A server child that answered its healthcheck. */
export interface ServerProcess {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly pid: number;
  /** Asks the child to stop, forcing it if it lingers. */
  stop(): Promise<void>;
}

/** Where a server child runs and how long it may take to start. */
export interface StartOptions {
  /** Its working directory: the repository root unless given. */
  readonly cwd?: string;
  /** How long it may take to answer its healthcheck: 15 s unless given. */
  readonly readyTimeoutMs?: number;
}

/**
 * Spawns `node ...args` (this Node.js unless another binary is given; with `env` added to this process's environment)
 * from the repository root (or `options.cwd`) and waits until `GET /healthcheck` on `port` is 200.
 * stdout is discarded (it would only slow the child); stderr is kept to explain a failed start.
 */
export async function startServerProcess(
  args: readonly string[], port: number, node = process.execPath, env: Readonly<Record<string, string>> = {}, options: StartOptions = {},
): Promise<ServerProcess> {
  const child = spawn(node, args, { cwd: options.cwd ?? REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEPT_BYTES);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? READY_TIMEOUT_MS);
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      const response = await fetch(`${url}/healthcheck`);
      await response.arrayBuffer();
      if (response.status === 200) return { url, pid: child.pid!, stop };
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
  await stop();
  throw new Error(`server "node ${args.join(' ')}" did not become healthy${stderr ? `; its stderr:\n${stderr}` : ''}`);
}

/** Kills every child still running; synchronous so it also works from an `exit` handler. */
export function killAllServerProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Kills every server child when this process exits or is interrupted (SIGINT, SIGTERM: exit code 130). */
export function killServerProcessesOnExit(): void {
  process.on('exit', killAllServerProcesses);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllServerProcesses();
      process.exit(130);
    });
  }
}

/** Runs a benchmark's `main` with every server process killed on exit, on a signal and on an error (exit code 1). */
export async function runBenchmark(main: () => Promise<void>): Promise<void> {
  killServerProcessesOnExit();
  try {
    await main();
  } catch (error) {
    killAllServerProcesses();
    console.error(error);
    process.exitCode = 1;
  }
}
