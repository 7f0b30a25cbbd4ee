/**
 * @module bench/run
 * `npm run bench`: serverfull's throughput next to a bare node:http server running the same
 * handler under the same load, then worker cold starts. On a shared machine absolute numbers
 * drift from run to run; the ratios to the baseline measured in the same run are what matter.
 */
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { postEcho } from './echo-response.js';
import { measureColdStarts } from './cold-start.js';
import { CONNECTIONS, REQUEST_BODY, runLoadRound, type RoundResult } from './load-round.js';
import { medianBy } from './percentile.js';
import { formatColdStarts, formatThroughputTable } from './report.js';
import { REPO_ROOT } from './repo-root.js';
import { killAllServerProcesses, startServerProcess, type ServerProcess } from './server-process.js';

const COLD_START_FUNCTIONS = Array.from({ length: 15 }, (_, index) => `echo${index + 1}`);
const COLD_START_TARGET_P50_MS = 50;
const INVOKE_PATH = '/2015-03-31/functions/echo/invocations';

interface Variant {
  readonly label: string;
  readonly target?: number;
  readonly start: () => Promise<ServerProcess>;
  /** Path the load is sent to on the started server. */
  readonly path: string;
}

function envNumber(name: string, fallback: number, integer: boolean): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'} (got ${JSON.stringify(text)})`);
  }
  return value;
}

async function startServerfull(manifest: string, isolation: 'inline' | 'worker'): Promise<ServerProcess> {
  const port = await freePort();
  const args = [
    join(REPO_ROOT, 'bin/serverfull.js'), 'start',
    '--config', join(REPO_ROOT, 'bench/fixtures', manifest),
    '--port', String(port),
    '--isolation', isolation,
    '--log-level', 'warn',
    '--data-dir', mkdtempSync(join(tmpdir(), 'serverfull-bench-')),
    // Far above the 32 connections, so the account limit never throttles the load.
    '--concurrency', '1000',
  ];
  return startServerProcess(args, port);
}

async function startBaseline(): Promise<ServerProcess> {
  const port = await freePort();
  return startServerProcess([join(REPO_ROOT, 'dist/bench/baseline-server.js'), String(port)], port);
}

async function main(): Promise<void> {
  const duration = envNumber('BENCH_DURATION', 10, false);
  const rounds = envNumber('BENCH_ROUNDS', 3, true);
  // Unmeasured load first: JIT warm-up, and worker mode starts its environments here, not in round 1.
  // Each worker environment is its own V8 isolate that JIT-compiles on its own, so it needs a few seconds.
  const warmup = Math.min(5, duration);
  const variants: Variant[] = [
    { label: 'baseline node:http', start: startBaseline, path: '/' },
    { label: 'serverfull inline', target: 0.8, start: () => startServerfull('serverfull.json', 'inline'), path: INVOKE_PATH },
    { label: 'serverfull worker', target: 0.5, start: () => startServerfull('serverfull.json', 'worker'), path: INVOKE_PATH },
  ];

  console.log(`serverfull benchmark, ${new Date().toISOString()}`);
  console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'})`);
  console.log(`load: autocannon, ${CONNECTIONS} connections, POST ${REQUEST_BODY}, ${rounds} round(s) x ${duration} s per variant, rounds interleaved, ${warmup} s unmeasured warm-up each; the median round by req/s is reported`);
  console.log('each server runs in its own child process with stdout discarded; serverfull runs with --log-level warn (no request log lines), the baseline does not log either');
  console.log('');

  const servers: ServerProcess[] = [];
  try {
    for (const variant of variants) servers.push(await variant.start());
    const urls = variants.map((variant, index) => servers[index]!.url + variant.path);
    const results: RoundResult[][] = variants.map(() => []);
    const failures = variants.map(() => ({ non2xx: 0, errors: 0 }));
    const record = (index: number, round: RoundResult) => {
      failures[index]!.non2xx += round.non2xx;
      failures[index]!.errors += round.errors;
    };

    for (const [index, url] of urls.entries()) {
      await postEcho(url);
      record(index, await runLoadRound(url, warmup, servers[index]!.pid));
    }
    // Interleaved so that slow drift of a shared machine spreads over every variant alike.
    for (let round = 0; round < rounds; round++) {
      for (const [index, url] of urls.entries()) {
        const result = await runLoadRound(url, duration, servers[index]!.pid);
        record(index, result);
        results[index]!.push(result);
      }
    }

    const rows = variants.map((variant, index) => ({
      label: variant.label,
      round: medianBy(results[index]!, (result) => result.requestsPerSecond),
      ...(variant.target === undefined ? {} : { target: variant.target }),
    }));
    console.log(formatThroughputTable(rows));
    for (const [index, { non2xx, errors }] of failures.entries()) {
      if (non2xx > 0 || errors > 0) {
        console.log(`WARNING: ${variants[index]!.label}: ${non2xx} non-2xx responses and ${errors} errors/timeouts during its rounds; its numbers are not trustworthy`);
      }
    }
    console.log('');

    // Stopped first so that idle throughput servers do not disturb the cold start timings.
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    const coldServer = await startServerfull('cold-start.json', 'worker');
    servers.push(coldServer);
    console.log(formatColdStarts(await measureColdStarts(coldServer.url, COLD_START_FUNCTIONS), COLD_START_TARGET_P50_MS));
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

process.on('exit', killAllServerProcesses);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllServerProcesses();
    process.exit(130);
  });
}

try {
  await main();
} catch (error) {
  killAllServerProcesses();
  console.error(error);
  process.exitCode = 1;
}
