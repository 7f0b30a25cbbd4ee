// Runs the compiled test files with node:test and its TAP output, several files at a time (each in
// its own process), then repeats what was skipped, and why, in the last lines, where a reader of
// `npm test` looks.
//
//   node scripts/run-tests.mjs [--concurrency N] [--isolation none] [DIR|FILE ...]
//
// Files run in parallel: twice as many at once as the machine has cores (at least 4, at most 8), or N
// from `--concurrency N` or SERVERFULL_TEST_CONCURRENCY (1: one file at a time). Twice the cores,
// because a file spends much of its time waiting on child processes it starts (runtimes, the aws CLI)
// rather than computing. Every test file is safe to run alongside any other (its own ports, data
// directories and temporary files), and alongside another copy of this script.
//
// With no folder or file named, the whole suite runs: the integration files as above, and, beside
// them, the unit files all in one process (`--isolation none`, a copy of this script): they start no
// server and share nothing, and one process instead of fifty saves a Node.js start and the imports
// per file (about 20 s of CPU on a 2-core machine, where the suite is bound by CPU).
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
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
const isolationFlag = args.indexOf('--isolation');
const isolation = isolationFlag >= 0 ? args.splice(isolationFlag, 2)[1] : 'process';
if (isolation !== 'process' && isolation !== 'none') {
  process.stderr.write('run-tests: --isolation must be process or none\n');
  process.exit(2);
}

const wholeSuite = args.length === 0;
const targets = wholeSuite ? ['dist/test/integration'] : args;
const found = targets.flatMap((target) => statSync(target).isFile() ? [target] : readdirSync(target, { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.test.js'))
  .sort()
  .map((name) => join(target, name)));

// Each file's time in the last run here (kept beside the build, which `npm ci` leaves alone), else as measured on a
// 2-core machine when the suite last changed much (test/file-durations.json), to start the longest first: a long file
// started last would run alone at the end, on one core of two. Files without a time start first, in name order.
const DURATIONS = join('dist', 'test-durations.json');
const readDurations = (file) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
};
const lastDurations = readDurations(DURATIONS) ?? readDurations(join('test', 'file-durations.json')) ?? {};
const lastTime = (file) => lastDurations[file] ?? Infinity;
const files = isolation === 'none' ? found : [...found].sort((a, b) => lastTime(b) - lastTime(a));
const durations = {};

/** The unit files, in a copy of this script with one process for all: its output is kept for after ours. */
function runUnitFiles() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--isolation', 'none', 'dist/test/unit'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks = [];
  child.stdout.on('data', (chunk) => chunks.push(chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output: Buffer.concat(chunks).toString('utf8') })));
}
const unit = wholeSuite ? runUnitFiles() : undefined;

let passed = 0;
let failed = 0;
const skipped = [];
const started = Date.now();
// In one process, files run one after another: tests of one file may mock timers or count threads.
const stream = run({ files, concurrency: isolation === 'none' ? 1 : concurrency, isolation });
// A file's top-level tests run one after another: their sum is the file's time.
const timed = (test) => {
  if (test.nesting === 0 && test.file !== undefined) durations[test.file] = (durations[test.file] ?? 0) + (test.details?.duration_ms ?? 0);
};
stream.on('test:pass', timed);
stream.on('test:fail', timed);
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
  setImmediate(async () => {
    let fileCount = files.length;
    if (unit !== undefined) {
      const { code, output } = await unit;
      if (code !== 0) process.exitCode = 1;
      // The unit run's TAP, then its counts added to ours (its own closing lines are read, not repeated).
      const lines = output.split('\n');
      const counts = /^tests: (\d+) passed, (\d+) failed, (\d+) skipped$/;
      let counted = false;
      for (const line of lines) {
        const match = counts.exec(line);
        if (match) {
          passed += Number(match[1]);
          failed += Number(match[2]);
          counted = true;
        } else if (line.startsWith('skipped: ')) {
          skipped.push(line.slice('skipped: '.length));
        } else if (line.startsWith('files: ')) {
          fileCount += Number(/^files: (\d+)/.exec(line)?.[1] ?? 0);
        } else if (line !== '') {
          process.stdout.write(`${line}\n`);
        }
      }
      if (!counted) {
        process.stdout.write(`run-tests: the unit files' run ended (exit ${code}) without its counts\n`);
        process.exitCode = 1;
      }
    }
    if (isolation !== 'none') {
      try {
        writeFileSync(DURATIONS, JSON.stringify({ ...lastDurations, ...Object.fromEntries(Object.entries(durations).map(([file, ms]) => [relative(process.cwd(), file), Math.round(ms)])) }));
      } catch {
        // Only an ordering hint: a read-only checkout runs in name order.
      }
    }
    for (const line of skipped) process.stdout.write(`skipped: ${line}\n`);
    const how = isolation === 'none' ? 'in one process' : `${concurrency} at a time${unit ? ', the unit files beside them in one process' : ''}`;
    process.stdout.write(`files: ${fileCount}, ${how}, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped.length} skipped\n`);
  });
});
