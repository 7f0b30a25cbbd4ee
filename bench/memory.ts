/**
 * @module bench/memory
 * `npm run bench:memory`: what serverfull's environments and servers hold in memory, against the targets: the server's
 * RSS with 32 warm worker environments, an idle process environment's RSS and PSS, RSS over a long load after warm-up
 * (inline, worker, process), and a server declaring 1,000 functions: time to ready and RSS before any invocation.
 * With `BENCH_MEMORY_COMPARE=DIR` (another build's root: bin/, dist/, package.json, node_modules) every measurement
 * also runs on that build in the same run, and the throughput of the 32-environment load is compared side by side,
 * since a memory cut must not cost req/s unseen. `BENCH_MEMORY_DURATION` (s, default 60) is the long load's length,
 * `BENCH_MEMORY_WARMUP` (s, default 20) the load before it; `BENCH_MEMORY_ONLY=a,c` runs only those parts.
 */
import autocannon from 'autocannon';
import { cpus, loadavg } from 'node:os';
import { measureIdle } from './idle-memory.js';
import { runInterleavedRounds } from './interleaved-rounds.js';
import { CONNECTIONS, REQUEST_BODY } from './load-round.js';
import { manyFunctionsManifest, measureManyFunctionsStart } from './many-functions.js';
import { mb, measureTree, threadCount } from './process-memory.js';
import { formatRounds, formatThroughputTable } from './report.js';
import { REPO_ROOT } from './repo-root.js';
import { type ServerProcess, runBenchmark } from './server-process.js';
import { startServerfull } from './serverfull-process.js';
import { postEcho } from './echo-response.js';
import { percentile } from './percentile.js';
import { SERVER_NODE_OPTIONS } from '../src/cli/server-heap.js';

const INVOKE_PATH = '/2015-03-31/functions/echo/invocations';
const WARM_WORKERS_TARGET_MB = 350;
const IDLE_PROCESS_TARGET_MB = 40;
const DRIFT_TARGET = 0.10;
const MANY_FUNCTIONS = 1000;
const MANY_READY_TARGET_MS = 500;
const MANY_RSS_TARGET_MB = 120;
const MANY_STARTS = 3;
const SAMPLE_SECONDS = 5;
const WARMUP_SECONDS = 5;
/**
 * Load before the long load's first sample: under load V8 grows the server's young generation for tens of seconds
 * (a 5 s warm-up measured that growth, 80-100%, as drift), and a process pool keeps growing while cold starts queue.
 */
const DRIFT_WARMUP_SECONDS = 20;

/** A build to measure: this one, or the one to compare with. */
interface Build {
  readonly label: string;
  readonly root: string;
  /** Added to the server's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * A smaller cap on the server's own young generation than `serverfull start`'s (32 MB semi-spaces, src/cli/server-heap.ts),
 * chosen by the operator; shown next to the default in (a), with its cost in req/s.
 */
const SERVER_SEMI_SPACE_MB = 8;

function envSeconds(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds (got ${JSON.stringify(text)})`);
  return value;
}

const verdict = (pass: boolean) => (pass ? 'PASS' : 'MISS');

/** Aligned columns under a dashed rule, the first column left-aligned. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (row: readonly string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** POSTs the echo body from CONNECTIONS connections for `seconds`. */
function load(url: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body: REQUEST_BODY, connections: CONNECTIONS, duration: seconds });
}

/** Requests each build's worker server gets before its RSS is read: the same work for every build, however fast the machine is. */
const WARM_WORKERS_REQUESTS = 20_000;

/**
 * (a) The same WARM_WORKERS_REQUESTS from CONNECTIONS connections on a worker server of each build (so its pool grows to
 * CONNECTIONS environments), then its RSS; then the servers' req/s side by side in interleaved rounds.
 */
async function warmWorkers(builds: readonly Build[], servers: ServerProcess[]): Promise<void> {
  const started: ServerProcess[] = [];
  const rows: string[][] = [];
  const current = builds.at(-1)!;
  // Eager scaling, so that the pool does grow to CONNECTIONS environments (measured scaling, the default, keeps fewer on a
  // saturated host: its row says how many and what they take).
  const eager = { SERVERFULL_SCALING: 'eager' };
  const variants: Build[] = [
    ...builds.map((build) => ({ ...build, env: { ...build.env, ...eager } })),
    { ...current, label: `${current.label}, NODE_OPTIONS=--max-semi-space-size=${SERVER_SEMI_SPACE_MB}`, env: { ...eager, NODE_OPTIONS: `--max-semi-space-size=${SERVER_SEMI_SPACE_MB}` } },
    { ...current, label: `${current.label}, measured scaling (the default; fewer environments)`, env: { SERVERFULL_SCALING: 'measured' } },
  ];
  for (const build of variants) {
    const server = await startServerfull('serverfull.json', 'worker', [], undefined, build.env, build.root);
    servers.push(server);
    started.push(server);
    const url = server.url + INVOKE_PATH;
    await postEcho(url);
    const result = await autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body: REQUEST_BODY, connections: CONNECTIONS, amount: WARM_WORKERS_REQUESTS });
    const rssKb = measureTree(server.pid).serverRssKb;
    const target = build.env?.SERVERFULL_SCALING === 'eager' ? `< ${WARM_WORKERS_TARGET_MB} MB ${verdict(rssKb / 1024 < WARM_WORKERS_TARGET_MB)}` : '-';
    rows.push([build.label, String(result.requests.total), mb(rssKb), String(threadCount(server.pid)), target]);
  }
  console.log(`(a) one worker-isolation function, ${WARM_WORKERS_REQUESTS} requests from ${CONNECTIONS} connections (eager scaling: its pool grows to ${CONNECTIONS} environments), then the server's RSS (all threads):`);
  console.log(table(['build', 'requests', 'server RSS MB', 'threads', 'target'], rows));
  const throughput = await runInterleavedRounds(variants.map((build, index) => ({ label: `worker, ${build.label}`, url: started[index]!.url + INVOKE_PATH, pid: started[index]!.pid })), { warmup: WARMUP_SECONDS, duration: 10, rounds: 3 });
  console.log(`the same servers' throughput, ${CONNECTIONS} connections, 3 interleaved rounds x 10 s after ${WARMUP_SECONDS} s of warm-up:`);
  console.log(formatThroughputTable(throughput.rows, throughput.rows[0]!.label));
  console.log(formatRounds(throughput.rows, throughput.results));
  for (const warning of throughput.warnings) console.log(warning);
  await Promise.all(started.map((server) => server.stop()));
}

/** (b) idle memory per environment, process isolation (sandboxed and not) and worker. */
async function idleEnvironments(builds: readonly Build[]): Promise<void> {
  const rows: string[][] = [];
  for (const [label, isolation, sandbox] of [['process, sandboxed', 'process', 'on'], ['process, unsandboxed', 'process', 'off'], ['worker', 'worker', 'off']] as const) {
    for (const build of builds) {
      const idle = await measureIdle(isolation, sandbox, build.root);
      const process = isolation === 'process';
      rows.push([
        `${label}, ${build.label}`,
        process ? mb(idle.runtimeRssKb) : '-',
        process ? mb(idle.runtimePssKb) : '-',
        sandbox === 'on' ? mb(idle.cgroupBytes / 1024) : '-',
        mb(idle.serverRssKb),
        process ? `RSS < ${IDLE_PROCESS_TARGET_MB} MB ${verdict(idle.runtimeRssKb / 1024 < IDLE_PROCESS_TARGET_MB)}` : '-',
      ]);
    }
  }
  console.log('(b) one idle environment (10 functions invoked once each, averaged), MB:');
  console.log(table(['environment', 'runtime RSS', 'runtime PSS', 'cgroup', 'server RSS growth', 'target'], rows));
}

/** (c) RSS of the server and its runtime processes sampled every SAMPLE_SECONDS over `seconds` of load after `warmup` seconds of it. */
async function drift(builds: readonly Build[], seconds: number, warmup: number): Promise<void> {
  const rows: string[][] = [];
  for (const isolation of ['inline', 'worker', 'process'] as const) {
    for (const build of builds) {
      const server = await startServerfull('serverfull.json', isolation, [], undefined, undefined, build.root);
      try {
        const url = server.url + INVOKE_PATH;
        await postEcho(url);
        await load(url, warmup);
        // Environments: worker threads (with V8's and libuv's) for the server, its runtime processes for process isolation.
        const environments = () => `${threadCount(server.pid)}/${measureTree(server.pid).runtimeProcesses}`;
        const environmentsBefore = environments();
        const totalKb = () => {
          const tree = measureTree(server.pid);
          return tree.serverRssKb + tree.runtimeRssKb;
        };
        const samples = [totalKb()];
        const timer = setInterval(() => samples.push(totalKb()), SAMPLE_SECONDS * 1000);
        const result = await load(url, seconds);
        clearInterval(timer);
        samples.push(totalKb());
        const environmentsAfter = environments();
        const first = samples[0]!;
        const last = samples.at(-1)!;
        const change = (last - first) / first;
        rows.push([
          `${isolation}, ${build.label}`, result.requests.average.toFixed(0), `${environmentsBefore} -> ${environmentsAfter}`, String(samples.length), mb(first), mb(last), mb(Math.max(...samples)), mb(percentile(samples, 50)),
          `${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}%`, `within ${DRIFT_TARGET * 100}% ${verdict(Math.abs(change) <= DRIFT_TARGET)}`,
        ]);
      } finally {
        await server.stop();
      }
    }
  }
  console.log(`(c) RSS of the server and its runtime processes over ${seconds} s of load (${CONNECTIONS} connections) after ${warmup} s of warm-up, sampled every ${SAMPLE_SECONDS} s, MB; threads/processes: the server's threads and runtime processes at the first and last sample:`);
  console.log(table(['isolation', 'req/s', 'threads/processes', 'samples', 'first', 'last', 'max', 'median', 'last vs first', 'target'], rows));
}

/** (d) a server declaring MANY_FUNCTIONS worker functions: spawn to ready, RSS before any invocation; starts of the builds interleaved. */
async function manyFunctions(builds: readonly Build[]): Promise<void> {
  const { manifest, remove } = manyFunctionsManifest(MANY_FUNCTIONS);
  try {
    // As `npm start` runs it (node given the server's options), and, for this build, as `serverfull start` without
    // them, which starts node a second time to add them (cli/server-heap.ts).
    const variants = [
      ...builds.map((build) => ({ label: `${build.label}, as npm start`, root: build.root, nodeArgs: [...SERVER_NODE_OPTIONS] })),
      { label: `${builds.at(-1)!.label}, as serverfull start`, root: builds.at(-1)!.root, nodeArgs: [] },
    ];
    const starts = variants.map(() => [] as Awaited<ReturnType<typeof measureManyFunctionsStart>>[]);
    for (let round = 0; round < MANY_STARTS; round++) {
      for (const [index, variant] of variants.entries()) starts[index]!.push(await measureManyFunctionsStart(manifest, variant.root, variant.nodeArgs));
    }
    const rows = variants.map((variant, index) => {
      const all = starts[index]!;
      const readyMs = percentile(all.map((start) => start.readyMs), 50);
      const rssKb = percentile(all.map((start) => start.settledRssKb), 50);
      return [
        variant.label, readyMs.toFixed(0), all.map((start) => start.readyMs.toFixed(0)).join(' '), percentile(all.map((start) => start.readyCpuMs), 50).toFixed(0), mb(percentile(all.map((start) => start.readyRssKb), 50)), mb(rssKb),
        `< ${MANY_READY_TARGET_MS} ms ${verdict(readyMs < MANY_READY_TARGET_MS)}`, `< ${MANY_RSS_TARGET_MB} MB ${verdict(rssKb / 1024 < MANY_RSS_TARGET_MB)}`,
      ];
    });
    console.log(`(d) a server declaring ${MANY_FUNCTIONS} worker functions (one shared handler file): spawn to its "listening" line, and its RSS at that line and 2 s later (spare threads started), before any invocation; median of ${MANY_STARTS} starts:`);
    console.log(table(['build', 'ready ms', 'each', 'CPU ms to ready', 'RSS at ready MB', 'RSS settled MB', 'ready target', 'RSS target'], rows));
  } finally {
    remove();
  }
}

async function main(): Promise<void> {
  const seconds = envSeconds('BENCH_MEMORY_DURATION', 60);
  const driftWarmup = envSeconds('BENCH_MEMORY_WARMUP', DRIFT_WARMUP_SECONDS);
  const compare = process.env.BENCH_MEMORY_COMPARE;
  const builds: Build[] = [...(compare ? [{ label: 'compared build', root: compare }] : []), { label: 'this build', root: REPO_ROOT }];
  const only = new Set((process.env.BENCH_MEMORY_ONLY ?? 'a,b,c,d').split(','));
  console.log(`serverfull memory benchmark, ${new Date().toISOString()}, node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
  if (compare) console.log(`compared build: ${compare}`);
  console.log('');
  const servers: ServerProcess[] = [];
  try {
    if (only.has('a')) { await warmWorkers(builds, servers); console.log(''); }
    if (only.has('b')) { await idleEnvironments(builds); console.log(''); }
    if (only.has('c')) { await drift(builds, seconds, driftWarmup); console.log(''); }
    if (only.has('d')) { await manyFunctions(builds); console.log(''); }
    console.log(`load average at the end: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

await runBenchmark(main);
