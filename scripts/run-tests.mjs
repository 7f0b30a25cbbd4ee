// Runs the compiled test files with node:test and its TAP output, several files at a time (each in
// its own process), then repeats what was skipped, and why, in the last lines, where a reader of
// `npm test` looks.
//
//   node scripts/run-tests.mjs [--concurrency N] [DIR|FILE ...]
//
// Files run in parallel: twice as many at once as the machine has cores (at least 4, at most 8), or N
// from `--concurrency N` or SERVERFULL_TEST_CONCURRENCY (1: one file at a time). Twice the cores,
// because a file spends much of its time waiting on child processes it starts (runtimes, the aws CLI)
// rather than computing. Every test file is safe to run alongside any other (its own ports, data
// directories and temporary files), and alongside another copy of this script.
import { availableParallelism } from 'node:os';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { run } from 'node:test';
import { tap } from 'node:test/reporters';
import { exitUnlessSupportedNode } from '../bin/supported-node.js';

exitUnlessSupportedNode();

const args = process.argv.slice(2);
let concurrency = Number(process.env.SERVERFULL_TEST_CONCURRENCY || Math.min(8, Math.max(4, 2 * availableParallelism())));
const flag = args.indexOf('--concurrency');
if (flag >= 0) {
  concurrency = Number(args[flag + 1]);
  args.splice(flag, 2);
}
if (!Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write('run-tests: --concurrency (or SERVERFULL_TEST_CONCURRENCY) must be a whole number of 1 or more\n');
  process.exit(2);
}

const targets = args.length > 0 ? args : ['dist/test/integration', 'dist/test/unit'];
// Integration files first: they take longest, and a long file started last would finish alone.
const files = targets.flatMap((target) => statSync(target).isFile() ? [target] : readdirSync(target, { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.test.js'))
  .sort()
  .map((name) => join(target, name)));

let passed = 0;
let failed = 0;
const skipped = [];
const started = Date.now();
const stream = run({ files, concurrency });
stream.on('test:pass', (test) => {
  // Suites report too: count the tests, and a skipped suite once.
  if (test.skip !== undefined) skipped.push(`${relative(process.cwd(), test.file ?? '')}: ${test.name}${typeof test.skip === 'string' ? ` (${test.skip})` : ''}`);
  else if (test.details?.type !== 'suite') passed++;
});
stream.on('test:fail', (test) => {
  if (test.details?.type !== 'suite') failed++;
  process.exitCode = 1;
});
stream.compose(tap).pipe(process.stdout);
stream.once('end', () => {
  // Wait for the TAP output to be written before adding the closing lines.
  setImmediate(() => {
    for (const line of skipped) process.stdout.write(`skipped: ${line}\n`);
    process.stdout.write(`files: ${files.length}, ${concurrency} at a time, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped.length} skipped\n`);
  });
});
