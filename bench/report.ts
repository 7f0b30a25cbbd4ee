/**
 * @module bench/report
 * Plain-text tables meant to be pasted into BENCHMARKS.md unchanged.
 */
import { percentile } from './percentile.js';
import type { RoundResult } from './load-round.js';
import { COLD_START_GAP_MS } from './cold-start.js';
import type { DeployResults, DeploySample } from './deployment.js';

/** What a variant should reach against the table's reference; absent for the reference itself. */
export interface ThroughputTarget {
  /** Minimum req/s as a fraction of the reference's. */
  readonly ratio?: number;
  /** Maximum p99 latency as a multiple of the reference's (issue 16: 2). */
  readonly p99Within?: number;
}

/** One table row: the reported (median) round of a variant and what it should reach. */
export interface ThroughputRow {
  readonly label: string;
  readonly round: RoundResult;
  readonly target?: ThroughputTarget;
}

/** The throughput table; the first row is the reference the ratios are relative to, named `reference` in the header. */
export function formatThroughputTable(rows: readonly ThroughputRow[], reference = 'baseline'): string {
  const baseline = rows[0]!.round.requestsPerSecond;
  const baselineCpu = rows[0]!.round.cpuMicrosPerRequest;
  const baselineP99 = rows[0]!.round.p99Ms;
  const header = ['variant', 'req/s', 'p50 ms', 'p99 ms', 'CPU us/req', `CPU vs ${reference}`, `vs ${reference}`, 'target'];
  const cells = rows.map(({ label, round, target }) => {
    const ratio = round.requestsPerSecond / baseline;
    const cpu = round.cpuMicrosPerRequest;
    const verdicts: string[] = [];
    if (target?.ratio !== undefined) verdicts.push(`>= ${target.ratio.toFixed(2)}x ${ratio >= target.ratio ? 'PASS' : 'MISS'}`);
    if (target?.p99Within !== undefined) {
      const limit = baselineP99 * target.p99Within;
      verdicts.push(`p99 <= ${limit.toFixed(0)} ms ${round.p99Ms <= limit ? 'PASS' : 'MISS'}`);
    }
    return [
      label,
      round.requestsPerSecond.toFixed(0),
      round.p50Ms.toFixed(0),
      round.p99Ms.toFixed(0),
      cpu === undefined ? '-' : cpu.toFixed(1),
      // Reference CPU over this variant's: the req/s ratio a server with cores to itself would see.
      cpu === undefined || baselineCpu === undefined ? '-' : `${(baselineCpu / cpu).toFixed(2)}x`,
      `${ratio.toFixed(2)}x`,
      verdicts.length === 0 ? '-' : verdicts.join(', '),
    ];
  });
  return formatTable(header, cells, new Set([0, header.length - 1]));
}

/** Aligned columns under a dashed rule: the `textColumns` left-aligned, numbers right-aligned. */
function formatTable(header: readonly string[], cells: readonly (readonly string[])[], textColumns: ReadonlySet<number>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => row[column]!.length)));
  const line = (row: readonly string[]) =>
    row.map((cell, column) => (textColumns.has(column) ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)].join('\n');
}

/** Every measured round's req/s per variant, in the order they ran: shows how far apart rounds of one variant lie. */
export function formatRounds(rows: readonly ThroughputRow[], results: readonly (readonly RoundResult[])[]): string {
  return rows.map(({ label }, index) => `  ${label}, each round req/s: ${results[index]!.map((round) => round.requestsPerSecond.toFixed(0)).join(' ')}`).join('\n');
}

/** The cold start summary line(s) with its target. */
export function formatColdStarts(timingsMs: readonly number[], targetP50Ms: number, isolation: string): string {
  const p50 = percentile(timingsMs, 50);
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  return [
    `${isolation} cold start, first request to a never-invoked function, ${COLD_START_GAP_MS} ms apart (n=${timingsMs.length}):`,
    `  p50 ${ms(p50)}  p90 ${ms(percentile(timingsMs, 90))}  max ${ms(Math.max(...timingsMs))}  target p50 < ${targetP50Ms} ms ${p50 < targetP50Ms ? 'PASS' : 'MISS'}`,
    `  each: ${timingsMs.map((value) => value.toFixed(1)).join(' ')}`,
  ].join('\n');
}

/** The steps of a deployment as reported, each read from a sample. */
const DEPLOY_STEPS: readonly (readonly [string, (sample: DeploySample) => number])[] = [
  ['CreateFunction', (sample) => sample.createMs],
  ['first Invoke', (sample) => sample.invokeMs],
  ['total', (sample) => sample.createMs + sample.invokeMs],
];

/** The deployment table: p50 and p90 of each step per target (the last is the baseline), and each p50 over the baseline's. */
export function formatDeployments(results: DeployResults, labels: readonly string[]): string {
  const baseline = results.samples.length - 1;
  const ms = (value: number) => value.toFixed(1);
  const header = ['step', ...labels.flatMap((label) => [`${label} p50 ms`, `${label} p90 ms`]), ...labels.slice(0, baseline).map((label) => `${label} p50 / ${labels[baseline]}`)];
  const cells = DEPLOY_STEPS.map(([step, read]) => {
    const p50s = results.samples.map((samples) => percentile(samples.map(read), 50));
    return [
      step,
      ...results.samples.flatMap((samples, target) => [ms(p50s[target]!), ms(percentile(samples.map(read), 90))]),
      ...p50s.slice(0, baseline).map((p50) => `${(p50 / p50s[baseline]!).toFixed(1)}x`),
    ];
  });
  const first = results.first.map((sample, target) => `${labels[target]} ${ms(sample.createMs)} + ${ms(sample.invokeMs)} ms`).join(', ');
  return [
    `deploy to first invoke: CreateFunction of a new function with a new ${results.zipBytes}-byte zip, then its first Invoke, ${COLD_START_GAP_MS} ms apart (n=${results.samples[0]!.length} per target):`,
    formatTable(header, cells, new Set([0])),
    `first, unmeasured deployment (create + invoke): ${first}`,
  ].join('\n');
}

/** Two rows to set side by side: a `variant`'s label and the label of the row it is `comparedWith`. */
export interface SpeedupPair {
  readonly variant: string;
  readonly comparedWith: string;
}

/** For each pair, the variant's req/s over the compared row's, and the compared row's CPU per request over the variant's. */
export function formatSpeedups(rows: readonly ThroughputRow[], pairs: readonly SpeedupPair[]): string {
  const rounds = new Map(rows.map((row) => [row.label, row.round]));
  const cells = pairs.map(({ variant, comparedWith }) => {
    const ours = rounds.get(variant)!;
    const theirs = rounds.get(comparedWith)!;
    const cpu = ours.cpuMicrosPerRequest === undefined || theirs.cpuMicrosPerRequest === undefined ? '-' : `${(theirs.cpuMicrosPerRequest / ours.cpuMicrosPerRequest).toFixed(1)}x`;
    // A round that completed no request has no ratio.
    const speed = theirs.requestsPerSecond === 0 ? '-' : `${(ours.requestsPerSecond / theirs.requestsPerSecond).toFixed(1)}x`;
    return [variant, comparedWith, speed, cpu];
  });
  return formatTable(['variant', 'compared with', 'req/s, times theirs', 'CPU per request, times less'], cells, new Set([0, 1]));
}
