/**
 * @module bench/report
 * Plain-text tables meant to be pasted into BENCHMARKS.md unchanged.
 */
import { percentile } from './percentile.js';
import type { RoundResult } from './load-round.js';
import { COLD_START_GAP_MS } from './cold-start.js';

/** One table row: the reported (median) round of a variant and the ratio it should reach. */
export interface ThroughputRow {
  readonly label: string;
  readonly round: RoundResult;
  /** Minimum req/s as a fraction of the baseline; absent for the baseline itself. */
  readonly target?: number;
}

/** The throughput table; the first row is the baseline the ratios are relative to. */
export function formatThroughputTable(rows: readonly ThroughputRow[]): string {
  const baseline = rows[0]!.round.requestsPerSecond;
  const baselineCpu = rows[0]!.round.cpuMicrosPerRequest;
  const header = ['variant', 'req/s', 'p50 ms', 'p99 ms', 'CPU us/req', 'CPU vs baseline', 'vs baseline', 'target'];
  const cells = rows.map(({ label, round, target }) => {
    const ratio = round.requestsPerSecond / baseline;
    const cpu = round.cpuMicrosPerRequest;
    return [
      label,
      round.requestsPerSecond.toFixed(0),
      round.p50Ms.toFixed(0),
      round.p99Ms.toFixed(0),
      cpu === undefined ? '-' : cpu.toFixed(1),
      // Baseline CPU over this variant's: the req/s ratio a server with cores to itself would see.
      cpu === undefined || baselineCpu === undefined ? '-' : `${(baselineCpu / cpu).toFixed(2)}x`,
      `${ratio.toFixed(2)}x`,
      target === undefined ? '-' : `>= ${target.toFixed(2)}x ${ratio >= target ? 'PASS' : 'MISS'}`,
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => row[column]!.length)));
  // Text columns read best left-aligned, numbers right-aligned.
  const line = (row: readonly string[]) =>
    row.map((cell, column) => (column === 0 || column === header.length - 1 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)].join('\n');
}

/** The cold start summary line(s) with its target. */
export function formatColdStarts(timingsMs: readonly number[], targetP50Ms: number): string {
  const p50 = percentile(timingsMs, 50);
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  return [
    `worker cold start, first request to a never-invoked function, ${COLD_START_GAP_MS} ms apart (n=${timingsMs.length}):`,
    `  p50 ${ms(p50)}  p90 ${ms(percentile(timingsMs, 90))}  max ${ms(Math.max(...timingsMs))}  target p50 < ${targetP50Ms} ms ${p50 < targetP50Ms ? 'PASS' : 'MISS'}`,
    `  each: ${timingsMs.map((value) => value.toFixed(1)).join(' ')}`,
  ].join('\n');
}
