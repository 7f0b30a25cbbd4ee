// Runs the compiled test files (one at a time) with node:test and its TAP output, then repeats what
// was skipped, and why, in the last lines, where a reader of `npm test` looks.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { run } from 'node:test';
import { tap } from 'node:test/reporters';
import { exitUnlessSupportedNode } from '../bin/supported-node.js';

exitUnlessSupportedNode();

const dirs = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['dist/test/unit', 'dist/test/integration'];
const files = dirs.flatMap((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.test.js'))
  .sort()
  .map((name) => join(dir, name)));

let passed = 0;
let failed = 0;
const skipped = [];
const stream = run({ files, concurrency: 1 });
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
    process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped.length} skipped\n`);
  });
});
