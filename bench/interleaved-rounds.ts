/**
 * @module bench/interleaved-rounds
 * The measuring procedure shared by the throughput comparisons: the same load for every
 * variant, rounds interleaved, the median round reported.
 */
import { postEcho } from './echo-response.js';
import { runLoadRound, type CpuReader, type RoundResult } from './load-round.js';
import { medianBy } from './percentile.js';
import type { ThroughputRow, ThroughputTarget } from './report.js';

/** One thing to load: a URL on a running server. */
export interface LoadVariant {
  readonly label: string;
  readonly url: string;
  /** The server's process id, for its CPU time. */
  readonly pid: number;
  /** What it should reach against the first variant. */
  readonly target?: ThroughputTarget;
}

/** How long to load each variant. */
export interface RoundPlan {
  /** Seconds of unmeasured load per variant before the rounds. */
  readonly warmup: number;
  readonly duration: number;
  readonly rounds: number;
  /** How each server's CPU is read: its own process (`processCpuMicros`) unless given. */
  readonly cpu?: CpuReader;
}

/**
 * The plan `BENCH_DURATION` (seconds per round, 10 unless set) and `BENCH_ROUNDS` (3 unless set) ask for,
 * with a warm-up of up to 5 s; throws on a value that is not a positive number.
 */
export function roundPlanFromEnvironment(): RoundPlan {
  const duration = envNumber('BENCH_DURATION', 10, false);
  const rounds = envNumber('BENCH_ROUNDS', 3, true);
  // Unmeasured load first: JIT warm-up, and worker mode starts its environments here, not in round 1.
  // Each worker environment is its own V8 isolate that JIT-compiles on its own, so it needs a few seconds.
  return { warmup: Math.min(5, duration), duration, rounds };
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

/**
 * Checks each variant's answer, loads each for `warmup` seconds unmeasured, then runs `rounds`
 * rounds of `duration` seconds, variants taking turns. Returns a row per variant with its median
 * round by req/s, every measured round per variant, and a warning per variant that had failed requests.
 */
export async function runInterleavedRounds(
  variants: readonly LoadVariant[],
  plan: RoundPlan,
): Promise<{ rows: ThroughputRow[]; results: RoundResult[][]; warnings: string[] }> {
  const results: RoundResult[][] = variants.map(() => []);
  const failures = variants.map(() => ({ non2xx: 0, errors: 0 }));
  const record = (index: number, round: RoundResult) => {
    failures[index]!.non2xx += round.non2xx;
    failures[index]!.errors += round.errors;
  };

  // Unmeasured load first: JIT warm-up, and worker mode starts its environments here, not in round 1.
  for (const [index, { url, pid }] of variants.entries()) {
    await postEcho(url);
    record(index, await runLoadRound(url, plan.warmup, pid, plan.cpu));
  }
  // Interleaved so that slow drift of a shared machine spreads over every variant alike.
  for (let round = 0; round < plan.rounds; round++) {
    for (const [index, { url, pid }] of variants.entries()) {
      const result = await runLoadRound(url, plan.duration, pid, plan.cpu);
      record(index, result);
      results[index]!.push(result);
    }
  }

  const rows = variants.map((variant, index) => ({
    label: variant.label,
    round: medianBy(results[index]!, (result) => result.requestsPerSecond),
    ...(variant.target === undefined ? {} : { target: variant.target }),
  }));
  const warnings = failures.flatMap(({ non2xx, errors }, index) =>
    non2xx > 0 || errors > 0
      ? [`WARNING: ${variants[index]!.label}: ${non2xx} non-2xx responses and ${errors} errors/timeouts during its rounds; its numbers are not trustworthy`]
      : []);
  return { rows, results, warnings };
}
