/**
 * @module cli/runtimes-command
 * `serverfull runtimes`: the Node.js builds that process environments run their function's runtime on.
 * `runtimes` (or `runtimes list`) lists what is installed; `runtimes install nodejs22.x` fetches the
 * official build from the npm registry into the runtimes directory.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { readManifest } from '../config/manifest.js';
import { resolveSettings, SETTING_SPECS } from '../config/settings.js';
import { NODE_RUNTIMES } from '../registry/runtimes.js';
import { defaultRuntimesDir, NodeInstalls } from '../runtime/node-installs.js';
import { InstallError, installNodeBuild, npmRegistry } from './node-build-download.js';

/** Help text of `serverfull runtimes`. */
export const RUNTIMES_HELP = `Usage: serverfull runtimes [list] [--runtimes-dir DIR]
       serverfull runtimes install RUNTIME [--runtimes-dir DIR]

Functions in process isolation run on the Node.js their runtime names (nodejs22.x: Node.js 22) when it
is installed in the runtimes directory; otherwise, and always in worker and inline isolation, on the
Node.js that runs serverfull.

list      the installed runtimes, their Node.js versions and folders
install   fetches the official Node.js build of RUNTIME (${NODE_RUNTIMES.join(', ')}) from the npm
          registry (package node-<os>-<arch>, the registry npm uses: npm_config_registry or npm config),
          checks it against the registry's integrity, and installs it as DIR/RUNTIME, replacing any

Options:
  --runtimes-dir DIR   the runtimes directory (${SETTING_SPECS.runtimesDir.env}, else "runtimesDir" of the manifest;
                       default ${defaultRuntimesDir().replace(process.env.HOME ?? '\0', '~')}), one folder per runtime,
                       RUNTIME/bin/node (a link to a Node.js folder works too)
  --config PATH        the manifest whose "runtimesDir" to use (SERVERFULL_CONFIG; default ./serverfull.json when it exists)
  -h, --help           this text
`;

/** Runs `serverfull runtimes`; returns the exit code. */
export async function runtimesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'runtimes-dir': { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(RUNTIMES_HELP);
    return 0;
  }
  const dir = runtimesDir(values['runtimes-dir'], values.config);
  const [action = 'list', runtime, ...extra] = positionals;
  if (extra.length > 0 || (action === 'list' && runtime !== undefined)) throw new ConfigError(`runtimes: unexpected argument "${extra[0] ?? runtime}" (see serverfull runtimes --help)`);
  switch (action) {
    case 'list':
      return list(new NodeInstalls(dir));
    case 'install':
      if (runtime === undefined) throw new ConfigError('runtimes install needs a RUNTIME, such as nodejs22.x (see serverfull runtimes --help)');
      if (!NODE_RUNTIMES.includes(runtime)) throw new ConfigError(`runtimes install: RUNTIME must be one of ${NODE_RUNTIMES.join(', ')} (got ${JSON.stringify(runtime)})`);
      return install(runtime, dir);
    default:
      throw new ConfigError(`runtimes: unknown action "${action}": list or install (see serverfull runtimes --help)`);
  }
}

/** The runtimes directory as `serverfull start` would use it: flag, then environment, then the manifest, then the default. */
function runtimesDir(flag: string | undefined, config: string | undefined): string {
  const named = config ?? process.env.SERVERFULL_CONFIG;
  const manifest = named ?? (existsSync('serverfull.json') ? 'serverfull.json' : undefined);
  const settings = resolveSettings({
    manifest: manifest === undefined ? undefined : readManifest(manifest).settings,
    env: process.env,
    flags: { runtimesDir: flag },
  });
  return settings.runtimesDir ?? defaultRuntimesDir();
}

function list(installs: NodeInstalls): number {
  const found = installs.list();
  if (found.length === 0) {
    process.stdout.write(`no runtimes installed in ${installs.dir}: functions run on serverfull's Node.js ${process.versions.node}; add one with serverfull runtimes install nodejs22.x\n`);
    return 0;
  }
  for (const install of found) process.stdout.write(`${install.runtime}\t${install.version}\t${install.folder}\n`);
  return 0;
}

async function install(runtime: string, dir: string): Promise<number> {
  try {
    const installed = await installNodeBuild(runtime, dir, npmRegistry(), (line) => process.stderr.write(`${line}\n`));
    process.stdout.write(`${installed.runtime}\t${installed.version}\t${installed.folder}\n`);
    process.stderr.write(`${runtime} functions in process isolation run on it from the next start of serverfull\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof InstallError)) throw error;
    process.stderr.write(`serverfull: runtimes install ${runtime}: ${error.message}\n`);
    return 1;
  }
}
