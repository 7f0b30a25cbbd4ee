/**
 * @module bench/cold-start
 * Cold start as a client feels it: from sending the first request to a function until its response.
 */
import { performance } from 'node:perf_hooks';
import { postEcho } from './echo-response.js';

/** Pause between cold starts: serverfull refills its spare worker threads (~50 ms each) in the background. */
export const COLD_START_GAP_MS = 250;

/** Invokes each never-invoked function once, one after another so starts do not compete; milliseconds each. */
export async function measureColdStarts(url: string, functionNames: readonly string[]): Promise<number[]> {
  const timings: number[] = [];
  for (const name of functionNames) {
    await new Promise((resolve) => setTimeout(resolve, COLD_START_GAP_MS));
    const started = performance.now();
    await postEcho(`${url}/2015-03-31/functions/${name}/invocations`);
    timings.push(performance.now() - started);
  }
  return timings;
}
