/**
 * @module bench/run
 * `npm run bench`: serverfull's throughput next to a bare node:http server running the same
 * handler under the same load, then worker cold starts, deploy-to-first-invoke latency, and
 * invocations through an alias next to $LATEST. On a shared machine absolute numbers drift from
 * run to run; the ratios to the reference measured in the same run are what matter.
 */
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { measureColdStarts } from './cold-start.js';
import { baselineDeployTarget, deployWithAlias, invokePath, measureDeployments, serverfullDeployTarget } from './deployment.js';
import { runInterleavedRounds } from './interleaved-rounds.js';
import { CONNECTIONS, REQUEST_BODY } from './load-round.js';
import { formatColdStarts, formatDeployments, formatRounds, formatThroughputTable } from './report.js';
import { REPO_ROOT } from './repo-root.js';
import { killAllServerProcesses, startServerProcess, type ServerProcess } from './server-process.js';

const COLD_START_FUNCTIONS = Array.from({ length: 15 }, (_, index) => `echo${index + 1}`);
const COLD_START_TARGET_P50_MS = 50;
const INVOKE_PATH = invokePath('echo');
const DEPLOYMENTS = 20;
const ALIAS_FUNCTION = 'echo-alias';
/** The acceptance bar: requests through an alias cost less than 5% of throughput. */
const ALIAS_TARGET = 0.95;

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
  const stopAll = () => Promise.all(servers.splice(0).map((server) => server.stop()));
  try {
    for (const variant of variants) servers.push(await variant.start());
    const throughput = await runInterleavedRounds(
      variants.map((variant, index) => ({ ...variant, url: servers[index]!.url + variant.path, pid: servers[index]!.pid })),
      { warmup, duration, rounds },
    );
    console.log(formatThroughputTable(throughput.rows));
    for (const warning of throughput.warnings) console.log(warning);
    console.log('');

    // Stopped first so that idle servers of one measurement do not disturb the next.
    await stopAll();
    const coldServer = await startServerfull('cold-start.json', 'worker');
    servers.push(coldServer);
    console.log(formatColdStarts(await measureColdStarts(coldServer.url, COLD_START_FUNCTIONS), COLD_START_TARGET_P50_MS));
    console.log('');

    await stopAll();
    const deployServer = await startServerfull('serverfull.json', 'worker');
    const deployBaseline = await startBaseline();
    servers.push(deployServer, deployBaseline);
    const deployments = await measureDeployments([serverfullDeployTarget(deployServer.url), baselineDeployTarget(deployBaseline.url)], DEPLOYMENTS);
    console.log(formatDeployments(deployments, ['serverfull', 'baseline']));
    console.log('');

    // Shorter, more rounds than above, to keep the run short: both variants hit the same server,
    // so the two take turns more often and drift cancels out better.
    await deployBaseline.stop();
    const aliasPlan = { warmup, duration: duration / 2, rounds: rounds + 1 };
    await deployWithAlias(deployServer.url, ALIAS_FUNCTION, 'live');
    const alias = await runInterleavedRounds([
      { label: 'worker $LATEST', url: deployServer.url + invokePath(ALIAS_FUNCTION), pid: deployServer.pid },
      { label: 'worker alias live -> 1', url: deployServer.url + invokePath(`${ALIAS_FUNCTION}:live`), pid: deployServer.pid, target: ALIAS_TARGET },
    ], aliasPlan);
    console.log(`invocations of a deployed function through an alias vs unqualified ($LATEST), same server, same load; ${aliasPlan.rounds} round(s) x ${aliasPlan.duration} s each, interleaved, ${warmup} s unmeasured warm-up each; the median round by req/s is reported:`);
    console.log(formatThroughputTable(alias.rows, '$LATEST'));
    console.log(formatRounds(alias.rows, alias.results));
    for (const warning of alias.warnings) console.log(warning);
  } finally {
    await stopAll();
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
