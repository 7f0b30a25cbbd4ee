/**
 * @module bench/throughput-variants
 * The servers the throughput comparisons load, started, measured in interleaved rounds and printed:
 * shared by `npm run bench` and `npm run bench:peers`.
 */
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { runInterleavedRounds, type RoundPlan } from './interleaved-rounds.js';
import { formatRounds, formatThroughputTable, type ThroughputTarget } from './report.js';
import { REPO_ROOT } from './repo-root.js';
import { startServerProcess, type ServerProcess } from './server-process.js';
import { startServerfull } from './serverfull-process.js';

/** One server to start and the path on it that the load goes to. */
export interface Variant {
  readonly label: string;
  readonly target?: ThroughputTarget;
  readonly start: () => Promise<ServerProcess>;
  /** Path the load is sent to on the started server. */
  readonly path: string;
}

/** The throughput of each variant, and what `runInterleavedRounds` reports. */
export type Throughput = Awaited<ReturnType<typeof runInterleavedRounds>>;

/** The bare `node:http` server running the echo: every ratio's reference. */
export async function startBaseline(node?: string): Promise<ServerProcess> {
  const port = await freePort();
  return startServerProcess([join(REPO_ROOT, 'dist/bench/baseline-server.js'), String(port)], port, node);
}

/**
 * serverfull serving `bench/fixtures/gateway.json`, with its `url` the API Gateway's origin
 * rather than the Invoke API's. The gateway listens right after the Invoke API answers its
 * healthcheck, well before the first request goes to it.
 */
export async function startGateway(isolation: 'inline' | 'worker'): Promise<ServerProcess> {
  const httpPort = await freePort();
  const server = await startServerfull('gateway.json', isolation, ['--http-port', String(httpPort)]);
  return { ...server, url: `http://127.0.0.1:${httpPort}` };
}

/** Starts each variant's server (kept in `servers`, to be stopped with the others) and loads them in interleaved rounds. */
export async function measureVariants(variants: readonly Variant[], servers: ServerProcess[], plan: RoundPlan): Promise<Throughput> {
  const started: ServerProcess[] = [];
  for (const variant of variants) {
    const server = await variant.start();
    servers.push(server);
    started.push(server);
  }
  return runInterleavedRounds(variants.map((variant, index) => ({ ...variant, url: started[index]!.url + variant.path, pid: started[index]!.pid })), plan);
}

/** A throughput table under its `heading`, relative to `reference`, every round's req/s unless `rounds` is false, then the warnings. */
export function printThroughput(throughput: Throughput, options: { heading?: string; reference?: string; rounds?: boolean } = {}): void {
  if (options.heading !== undefined) console.log(options.heading);
  console.log(formatThroughputTable(throughput.rows, options.reference));
  if (options.rounds ?? true) console.log(formatRounds(throughput.rows, throughput.results));
  for (const warning of throughput.warnings) console.log(warning);
}
