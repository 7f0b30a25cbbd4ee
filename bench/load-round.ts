/**
 * @module bench/load-round
 * One autocannon round with the same load for every variant, so only the server differs.
 */
import autocannon from 'autocannon';
import { processCpuMicros } from './process-cpu.js';

/** Open connections: enough to keep two cores busy and to make worker mode run many environments. */
export const CONNECTIONS = 32;

/** The request body every variant receives. */
export const REQUEST_BODY = JSON.stringify({ name: 'bench', n: 1 });

/** What one round measured; failures are counted so a fast-but-failing server cannot look good. */
export interface RoundResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Responses that were not 2xx. */
  readonly non2xx: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  /** Server CPU (all threads, or the process tree if so read) per request, when it could be read. */
  readonly cpuMicrosPerRequest?: number;
}

/** How a server's CPU microseconds so far are read from its process id. */
export type CpuReader = (pid: number) => number | undefined;

/** POSTs `REQUEST_BODY` to `url` from `CONNECTIONS` connections for `durationSeconds`; `pid` is the server's, its CPU read by `readCpu`. */
export async function runLoadRound(url: string, durationSeconds: number, pid: number, readCpu: CpuReader = processCpuMicros): Promise<RoundResult> {
  const cpuBefore = readCpu(pid);
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: REQUEST_BODY,
    connections: CONNECTIONS,
    duration: durationSeconds,
  });
  const cpuAfter = readCpu(pid);
  // A process tree's count drops when a process leaves it unreaped (its parent ended first, as when an environment's
  // sandbox is torn down mid-round): no number rather than a wrong one.
  const cpuKnown = cpuBefore !== undefined && cpuAfter !== undefined && cpuAfter >= cpuBefore && result.requests.total > 0;
  return {
    cpuMicrosPerRequest: cpuKnown ? (cpuAfter - cpuBefore) / result.requests.total : undefined,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
