/**
 * @module cli/init-command
 * `serverfull init [dir]`: a new project that works at once: `serverfull.json` (with the `$schema` that
 * editors complete and check it with) declaring one TypeScript function and its HTTP route, a test with
 * `serverfull/testing` (in process, or against a server with `SERVERFULL_TARGET`), `package.json` with
 * `start` and `test`, and a `.gitignore` for the data directory. Never overwrites: a file in the way stops it.
 */
import { copyFileSync, existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';

/** The root of the running serverfull package, real path (this file is dist/src/cli/init-command.js). */
const PACKAGE_ROOT = realpathSync(fileURLToPath(new URL('../../../', import.meta.url)));
/** The template's files (this file is dist/src/cli/init-command.js): path in the template → path in the project. */
const TEMPLATE = fileURLToPath(new URL('../../../templates/init/', import.meta.url));
/** npm leaves `.gitignore` files out of packages, so the template's is `gitignore`. */
const TEMPLATE_FILES: ReadonlyArray<readonly [string, string]> = [
  ['serverfull.json', 'serverfull.json'],
  ['src/hello.ts', 'src/hello.ts'],
  ['test/hello.test.mjs', 'test/hello.test.mjs'],
  ['tsconfig.json', 'tsconfig.json'],
  ['gitignore', '.gitignore'],
];

/** Help text of `serverfull init`. */
export const INIT_HELP = `Usage: serverfull init [DIR]

Creates a serverfull project in DIR (default: the current folder), which must not hold any of its files:
  serverfull.json      one TypeScript function, hello, and its route GET /hello ("$schema" for editors)
  src/hello.ts         the handler
  test/hello.test.mjs  its test with serverfull/testing: in process, or against a server (SERVERFULL_TARGET)
  package.json         scripts: start (serverfull start), test (node --test)
  tsconfig.json, .gitignore (the data directory, .serverfull/)

Then: npm install, npm test, npm start.

Options:
  --dependency SPEC   how package.json depends on serverfull (default: file: and the folder of this
                      serverfull, which is not on a package registry; e.g. a packed tarball's path)
  -h, --help          this text
`;

/** Runs `serverfull init`; returns the exit code. */
export async function initCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { dependency: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(INIT_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new ConfigError(`init: unexpected argument "${positionals[1]}" (see serverfull init --help)`);
  const dir = resolve(positionals[0] ?? '.');
  const files = [...TEMPLATE_FILES.map(([, to]) => to), 'package.json'];
  const inTheWay = files.filter((file) => existsSync(join(dir, file)));
  if (inTheWay.length > 0) throw new ConfigError(`init: ${dir} already has ${inTheWay.join(', ')}: choose an empty folder (serverfull init DIR)`);
  for (const [from, to] of TEMPLATE_FILES) {
    mkdirSync(dirname(join(dir, to)), { recursive: true });
    copyFileSync(join(TEMPLATE, from), join(dir, to));
  }
  const dependency = values.dependency ?? `file:${relative(dir, PACKAGE_ROOT) || '.'}`;
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(packageJson(dir, dependency), null, 2)}\n`);
  const shown = relative(process.cwd(), dir) || '.';
  process.stdout.write(`created ${files.join(', ')} in ${shown} (serverfull: ${dependency})

next:
${shown === '.' ? '' : `  cd ${shown}\n`}  npm install
  npm test     runs the function in this process
  npm start    serves it: the Lambda API on http://127.0.0.1:8080, GET http://127.0.0.1:3000/hello?name=Ada
  SERVERFULL_TARGET=http://127.0.0.1:8080 SERVERFULL_HTTP_TARGET=http://127.0.0.1:3000 npm test
               runs the same test against that server
`);
  return 0;
}

/** The project's `package.json`: named after its folder, depending on serverfull as `dependency` says. */
function packageJson(dir: string, dependency: string): Record<string, unknown> {
  return {
    name: packageName(basename(dir)),
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { start: 'serverfull start', test: 'node --test "test/**/*.test.mjs"' },
    dependencies: { serverfull: dependency },
    // For editors and tsc: the handler's types (serverfull runs TypeScript without them).
    devDependencies: { '@types/aws-lambda': '^8.10.0', '@types/node': '^22.0.0' },
  };
}

/** A valid npm package name from a folder name: lower case, URL-safe characters, no leading dot or underscore. */
function packageName(folder: string): string {
  const name = folder.toLowerCase().replace(/[^a-z0-9._~-]+/g, '-').replace(/^[._-]+/, '').slice(0, 214);
  return name === '' ? 'serverfull-app' : name;
}
