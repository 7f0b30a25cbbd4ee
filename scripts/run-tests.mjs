// Runs the compiled test files with node:test and its TAP output, then repeats what failed and what
// was skipped, and why, in the last lines, where a reader of `npm test` (or of the tail of a CI log)
// looks.
//
//   node scripts/run-tests.mjs [--concurrency N] [--isolation none] [DIR|FILE ...]
//
// With no folder or file named, the whole suite runs in a few long-lived processes ("shards"): the
// integration files split into N shards, each running its files one after another in one process
// (`--isolation none`, a copy of this script), and the unit files in one more. A Node.js process per
// file paid its start and the imports (the AWS SDK, the server) seventy times: about a quarter of the
// suite's CPU, which is what bounds it on a 2-core machine. Each integration file starts its own
// servers on their own ports, data directories and temporary files, and restores what it changes of
// its process (its environment variables), so files can share a process and run beside each other.
// The files are split by their times as measured on a 2-core machine (test/file-durations.json), the
// longest first, each to the shard with the least so far: the same split on every machine, so that
// an order-dependent failure can be run again; a file without a time goes to the least loaded shard.
//
// N is twice the machine's cores (at least 4, at most 8), or `--concurrency N` or
// SERVERFULL_TEST_CONCURRENCY (1: one shard): twice, because a file spends much of its time waiting
// on child processes it starts (runtimes, the aws CLI) rather than computing.
//
// Folders or files named run each file in its own process, N at a time (`--isolation none`: all in
// this one).
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

// A shard: a copy of this script running its files in one process, which reports its files' times for the next split.
const shardFlag = args.indexOf('--shard');
const shard = shardFlag >= 0;
if (shard) args.splice(shardFlag, 1);

const wholeSuite = args.length === 0;
const listFiles = (target) => statSync(target).isFile() ? [target] : readdirSync(target, { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.test.js'))
  .sort()
  .map((name) => join(target, name));

const MEASURED = join('test', 'file-durations.json');
// Each whole run's times, kept beside the build (which `npm ci` leaves alone): copy it over test/file-durations.json
// when the suite has changed much.
const LAST_RUN = join('dist', 'test-durations.json');
const readDurations = (file) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
};

let passed = 0;
let failed = 0;
let fileCount = 0;
/** A test failed, a shard failed or ended early: the run exits with 1. */
let failing = false;
const skipped = [];
const failures = [];
const durations = {};
const started = Date.now();

/** Runs `files` with node:test in this process's stream (each file in a process of its own, or all in this one). */
function runFiles(files, isolation) {
  fileCount += files.length;
  // In one process, files run one after another: tests of one file may mock timers or count threads.
  const stream = run({ files, concurrency: isolation === 'none' ? 1 : concurrency, isolation });
  // A file's top-level tests run one after another: their sum is the file's time.
  const timed = (test) => {
    if (test.nesting === 0 && test.file !== undefined) {
      const file = relative(process.cwd(), test.file);
      durations[file] = (durations[file] ?? 0) + Math.round(test.details?.duration_ms ?? 0);
    }
  };
  stream.on('test:pass', timed);
  stream.on('test:fail', timed);
  stream.on('test:pass', (test) => {
    // Suites report too: count the tests, and a skipped suite once.
    if (test.skip !== undefined) skipped.push(`${relative(process.cwd(), test.file ?? '')}: ${test.name}${typeof test.skip === 'string' ? ` (${test.skip})` : ''}`);
    else if (test.details?.type !== 'suite') passed++;
  });
  stream.on('test:fail', (test) => {
    if (test.details?.type !== 'suite') {
      failed++;
      // The cause on one line, cut short: a failed test's whole report is in the TAP above.
      const error = test.details?.error;
      const cause = String(error?.cause?.message ?? error?.message ?? error ?? '').replace(/\s+/g, ' ').trim().slice(0, 300);
      failures.push(`${relative(process.cwd(), test.file ?? '')}: ${test.name}: ${cause}`);
    }
    failing = true;
  });
  stream.compose(tap).pipe(process.stdout);
  // Once the TAP output is written.
  return new Promise((resolve) => stream.once('end', () => setImmediate(resolve)));
}

/** Runs `files` in a shard; resolves once its output is printed and its counts added to ours. */
function runShard(files) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--isolation', 'none', '--shard', ...files], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks = [];
  child.stdout.on('data', (chunk) => chunks.push(chunk));
  return new Promise((resolve) => child.on('close', (code) => {
    if (code !== 0) failing = true;
    // The shard's TAP, whole; its closing lines are read into ours, not repeated.
    let counted = false;
    let out = '';
    for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
      const counts = /^tests: (\d+) passed, (\d+) failed, (\d+) skipped$/.exec(line);
      if (counts) {
        passed += Number(counts[1]);
        failed += Number(counts[2]);
        counted = true;
      } else if (line.startsWith('skipped: ')) {
        skipped.push(line.slice('skipped: '.length));
      } else if (line.startsWith('failed: ')) {
        failures.push(line.slice('failed: '.length));
      } else if (line.startsWith('durations: ')) {
        Object.assign(durations, JSON.parse(line.slice('durations: '.length)));
      } else if (!line.startsWith('files: ') && line !== '') {
        out += `${line}\n`;
      }
    }
    fileCount += files.length;
    if (!counted) {
      out += `run-tests: a shard ended (exit ${code}) without its counts; its files: ${files.join(' ')}\n`;
      failures.push(`a shard ended (exit ${code}) before all its files had run: ${files.join(' ')}`);
      failing = true;
    }
    process.stdout.write(out, resolve);
  }));
}

/** The integration files split into `count` shards: the longest first, each to the shard with the least time so far. */
function splitIntoShards(files, count) {
  const measured = readDurations(MEASURED);
  const shards = Array.from({ length: Math.min(count, files.length) }, () => ({ files: [], time: 0 }));
  const byTime = [...files].sort((a, b) => (measured[b] ?? 0) - (measured[a] ?? 0) || a.localeCompare(b));
  for (const file of byTime) {
    const least = shards.reduce((a, b) => (b.time < a.time ? b : a));
    least.files.push(file);
    least.time += measured[file] ?? 0;
  }
  return shards.map((s) => s.files);
}

if (wholeSuite) {
  const shards = [listFiles('dist/test/unit'), ...splitIntoShards(listFiles('dist/test/integration'), concurrency)];
  await Promise.all(shards.map(runShard));
  try {
    const lines = Object.entries(durations).sort(([, a], [, b]) => b - a).map(([file, ms]) => `${JSON.stringify(file)}: ${ms}`);
    writeFileSync(LAST_RUN, `{\n${lines.join(',\n')}\n}\n`);
  } catch {
    // Only a record to refresh test/file-durations.json from: a read-only checkout runs as well without it.
  }
} else {
  await runFiles(args.flatMap(listFiles), isolation);
}

const closing = [
  ...skipped.map((line) => `skipped: ${line}\n`),
  ...failures.map((line) => `failed: ${line}\n`),
  ...(shard ? [`durations: ${JSON.stringify(durations)}\n`] : []),
  `files: ${fileCount}, ${wholeSuite ? `${concurrency} shards of integration files and one of unit files, each in one process` : isolation === 'none' ? 'in one process' : `${concurrency} at a time`}, ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  `tests: ${passed} passed, ${failed} failed, ${skipped.length} skipped\n`,
].join('');
// A shard ends here even if a test left a server or a timer behind: the files it ran are done.
process.stdout.write(closing, () => {
  // From the counts too, and as an explicit code: a shard once exited with status 0 after a failed test (in CI, a
  // shard that drives browsers, whose libraries hook the process's exit), and its run then passed.
  const code = failing || failed > 0 ? 1 : 0;
  if (shard) process.exit(code);
  process.exitCode = code;
});
