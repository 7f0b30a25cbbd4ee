/**
 * @module runtime/node-installs
 * The Node.js builds installed for Lambda's Node.js runtimes (`serverfull runtimes install`), one folder
 * per runtime in the runtimes directory: `<dir>/nodejs22.x/bin/node`. Process environments of a function
 * whose runtime is installed run on that Node.js; inline and worker environments (threads of the server)
 * always run on the server's own. A folder counts only if its `node` says it is of the runtime's major.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { NODE_RUNTIMES, nodeMajorOf } from '../registry/runtimes.js';

/** One installed Node.js, as a process environment runs it. */
export interface NodeInstall {
  /** The Lambda runtime it serves: `nodejs22.x`. */
  readonly runtime: string;
  /** Its `node` executable, real path (a runtime folder may be a link). */
  readonly binary: string;
  /** Its installation folder (the binary's `bin/`'s parent), real path: what a sandbox shows read-only. */
  readonly folder: string;
  /** What `node --version` says, without the `v`: `22.11.0`. */
  readonly version: string;
}

/** The longest `node --version` may take: a runtime folder that hangs is not a Node.js. */
const VERSION_TIMEOUT_MS = 10_000;

/**
 * The runtimes directory when no setting names one: `$XDG_DATA_HOME/serverfull/runtimes`, else
 * `~/.local/share/serverfull/runtimes`; shared by every project of the user, as the builds are large.
 */
export function defaultRuntimesDir(env: NodeJS.ProcessEnv = process.env): string {
  const dataHome = env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(dataHome, 'serverfull', 'runtimes');
}

/** The installed Node.js builds of one runtimes directory, each checked once (by running it) and remembered. */
export class NodeInstalls {
  private readonly found = new Map<string, NodeInstall | undefined>();
  /** The absolute runtimes directory. */
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** The installed Node.js of `runtime` (a Node.js runtime name); undefined when none is installed or it is not of the runtime's major. */
  find(runtime: string): NodeInstall | undefined {
    if (!this.found.has(runtime)) this.found.set(runtime, NODE_RUNTIMES.includes(runtime) ? probe(this.dir, runtime) : undefined);
    return this.found.get(runtime);
  }

  /** Every installed runtime, in the runtime list's order. */
  list(): NodeInstall[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return NODE_RUNTIMES.filter((runtime) => names.includes(runtime)).map((runtime) => this.find(runtime)).filter((found) => found !== undefined);
  }
}

/** The Node.js in `dir/runtime`, if it runs and is of the runtime's major version. */
export function probe(dir: string, runtime: string): NodeInstall | undefined {
  const candidate = join(dir, runtime, 'bin', 'node');
  if (!existsSync(candidate)) return undefined;
  let binary: string;
  try {
    binary = realpathSync(candidate);
  } catch {
    return undefined;
  }
  // An empty environment: the version must not depend on NODE_OPTIONS or the like.
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: VERSION_TIMEOUT_MS, env: {} });
  const version = /^v(\d+\.\d+\.\d+)\s*$/.exec(result.stdout ?? '')?.[1];
  if (result.status !== 0 || version === undefined || version.split('.')[0] !== nodeMajorOf(runtime)) return undefined;
  return { runtime, binary, folder: dirname(dirname(binary)), version };
}
