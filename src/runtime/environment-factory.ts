/**
 * @module runtime/environment-factory
 * The one place that decides which kind of execution environment a function gets.
 */
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AwsError } from '../errors.js';
import type { FunctionAccessProvider } from '../handler/function-access.js';
import { DynamicReferenceError } from '../handler/dynamic-references.js';
import { UnresolvedEnvironment } from './unresolved-environment.js';
import { isTypeScriptHandler, type ModuleImporter } from '../handler/handler-loader.js';
import { lambdaEnvironment, logGroupName, newLogStreamName } from '../handler/lambda-environment.js';
import type { EnvironmentIdentity } from '../handler/lambda-context.js';
import type { FunctionDefinition, FunctionNetwork } from '../registry/function-definition.js';
import { isCustomRuntime, isPythonRuntime } from '../registry/runtimes.js';
import type { ExecutionEnvironment } from './execution-environment.js';
import type { NodeInstalls } from './node-installs.js';
import { heapLimitArguments } from './heap-limits.js';
import { InlineEnvironment, InlineFunction } from './inline-environment.js';
import type { EnvironmentKind } from './lifecycle-events.js';
import { MockEnvironment } from './mock-environment.js';
import { ProcessEnvironment, type ProcessSandboxOptions, type RuntimeCommand } from './process-environment.js';
import { PYTHON_RUNTIME_CLIENT, pythonInterpreter } from './python-interpreter.js';
import { nodeInstallFolder } from './sandbox-command.js';
import type { SandboxHost } from './sandbox-support.js';
import { WorkerEnvironment } from './worker-environment.js';
import { WorkerSpares } from './worker-spares.js';

/** serverfull's Node.js runtime client: the program of a Node.js function's process environment. */
const NODE_RUNTIME_CLIENT = fileURLToPath(new URL('../runtime-client/process-runtime.js', import.meta.url));

/**
 * Set to `off` in the server's environment, sandboxed environments are not frozen between invocations: an
 * internal switch for the benchmark that measures what freezing costs, not a setting (Lambda always freezes).
 */
const FREEZE_SWITCH = 'SERVERFULL_SANDBOX_FREEZE';

/** Creates execution environments for function definitions. */
export class EnvironmentFactory {
  private readonly inlineFunctions = new WeakMap<FunctionDefinition, InlineFunction>();
  private readonly spares = new WorkerSpares();
  /** The log stream each environment's context names: its stored log is kept under the same name. */
  private readonly logStreams = new WeakMap<ExecutionEnvironment, string>();

  /** How process environments are sandboxed; undefined: they run unsandboxed. */
  private readonly sandbox: ProcessSandboxOptions | undefined;
  /** The same, without a network but serverfull's. */
  private readonly isolatedSandbox: ProcessSandboxOptions | undefined;

  /**
   * `network` is the server's `functionNetwork`: what a function that does not choose gets; `nodes`: the installed
   * Node.js builds that process environments run their runtime on (none: all run on the server's Node.js);
   * `inlineImporter` loads inline functions' modules instead of `import()` (hot reload: a fresh module instance per definition).
   */
  constructor(
    private readonly region: string,
    private readonly access?: FunctionAccessProvider,
    sandbox?: SandboxHost,
    private readonly network: FunctionNetwork = 'all',
    private readonly nodes?: NodeInstalls,
    private readonly inlineImporter?: ModuleImporter,
  ) {
    this.sandbox = sandbox === undefined ? undefined
      : { bwrap: sandbox.bwrap, runtimeFolders: runtimeFolders(), freeze: process.env[FREEZE_SWITCH] !== 'off', network: 'all' };
    this.isolatedSandbox = this.sandbox === undefined ? undefined : { ...this.sandbox, network: 'none' };
  }

  /** A new, not yet initialised environment for `definition`. */
  create(definition: FunctionDefinition): ExecutionEnvironment {
    if (definition.mock) return new MockEnvironment(definition.mock);
    const logStreamName = newLogStreamName(definition.version);
    const environment = this.createKind(definition, logStreamName);
    this.logStreams.set(environment, logStreamName);
    return environment;
  }

  /** The log stream name of `environment` (its context's `logStreamName`); one is made up, once, for an environment that has none (a mock). */
  logStreamOf(environment: ExecutionEnvironment, version: string): string {
    let name = this.logStreams.get(environment);
    if (name === undefined) this.logStreams.set(environment, (name = newLogStreamName(version)));
    return name;
  }

  private createKind(definition: FunctionDefinition, logStreamName: string): ExecutionEnvironment {
    const kind = environmentKind(definition);
    const identity: EnvironmentIdentity = {
      functionName: definition.name,
      functionVersion: definition.version,
      memorySize: definition.memorySize,
      logGroupName: logGroupName(definition.name),
      logStreamName,
    };
    const access = this.access?.(definition);
    let env: Record<string, string>;
    try {
      env = lambdaEnvironment(definition, this.region, logStreamName, access);
    } catch (error) {
      if (error instanceof DynamicReferenceError) return new UnresolvedEnvironment(error.message);
      throw error;
    }
    const { handler } = definition;
    if ((definition.network ?? this.network) === 'none') {
      // Start and deploy refuse this; should a definition get here anyway, it does not run with the host's network.
      if (kind !== 'process' || this.isolatedSandbox === undefined) {
        throw new AwsError('ServiceException', `function ${definition.name} is declared without a network ("none"), which needs a sandboxed process environment`);
      }
      return new ProcessEnvironment(this.runtimeCommand(definition, env), identity, this.sandboxOf(this.isolatedSandbox, definition), access?.endpoint, access?.parametersPort);
    }
    if (kind === 'process') return new ProcessEnvironment(this.runtimeCommand(definition, env), identity, this.sandbox && this.sandboxOf(this.sandbox, definition));
    if (kind === 'inline' || typeof handler !== 'string') {
      let fn = this.inlineFunctions.get(definition);
      if (!fn) this.inlineFunctions.set(definition, (fn = new InlineFunction(definition, env, this.inlineImporter)));
      return new InlineEnvironment(fn, identity);
    }
    const worker = this.spares.take(definition.memorySize, isTypeScriptHandler(definition.root, handler));
    return new WorkerEnvironment(worker, { root: definition.root, handler, identity, env, timeoutMs: definition.timeout * 1000 }, identity);
  }

  /**
   * The runtime process of a function: its `bootstrap` for a custom runtime, serverfull's Python runtime client on the machine's
   * Python for Python, else serverfull's Node.js runtime client with the
   * function's heap limit, on the installed Node.js of the function's runtime when there is one (first on its `PATH` too).
   */
  private runtimeCommand(definition: FunctionDefinition, env: Record<string, string>): RuntimeCommand {
    const { root } = definition;
    if (isCustomRuntime(definition.runtime)) return { file: join(root, 'bootstrap'), args: [], cwd: root, env };
    if (isPythonRuntime(definition.runtime)) {
      const python = pythonInterpreter(definition.runtime);
      if (python === null) throw new AwsError('ServiceException', `function ${definition.name} has runtime ${definition.runtime}, which needs ${definition.runtime} or python3 on the server's PATH: neither was found`);
      // Unbuffered, so that what the handler prints is in the pipe before its answer; UTF-8 whatever locales the machine has; no bytecode written into the code folder (AWS's is read-only).
      return { file: python.executable, args: ['-u', '-B', '-X', 'utf8', PYTHON_RUNTIME_CLIENT], cwd: root, env };
    }
    const install = this.nodes?.find(definition.runtime);
    const file = install?.binary ?? process.execPath;
    const runtimeEnv = install === undefined ? env : { ...env, PATH: `${dirname(install.binary)}:${env.PATH}` };
    return { file, args: [...heapLimitArguments(definition.memorySize), NODE_RUNTIME_CLIENT], cwd: root, env: runtimeEnv, privateChannel: true };
  }

  /** `sandbox` for `definition`'s process environments: its `/tmp` is the function's ephemeral storage; its runtime's installed Node.js is shown read-only. */
  private sandboxOf(sandbox: ProcessSandboxOptions, definition: FunctionDefinition): ProcessSandboxOptions {
    if (isPythonRuntime(definition.runtime)) return withEphemeralStorage(forPython(sandbox, definition), definition);
    const install = isCustomRuntime(definition.runtime) ? undefined : this.nodes?.find(definition.runtime);
    const withNode = install === undefined ? sandbox : { ...sandbox, runtimeFolders: [...sandbox.runtimeFolders, install.folder] };
    return withEphemeralStorage(withNode, definition);
  }

  /**
   * Starts a worker thread for the heap limit most of `definitions`' worker functions have (the first such one on a tie),
   * ahead of their first cold start; answers that memory size, or undefined when none runs in a worker.
   */
  prepareWorkers(definitions: readonly FunctionDefinition[]): number | undefined {
    const counts = new Map<number, number>();
    for (const definition of definitions) {
      if (environmentKind(definition) !== 'worker') continue;
      counts.set(definition.memorySize, (counts.get(definition.memorySize) ?? 0) + 1);
    }
    let chosen: number | undefined;
    for (const [memorySize, count] of counts) if (chosen === undefined || count > counts.get(chosen)!) chosen = memorySize;
    if (chosen !== undefined) this.spares.prepare(chosen);
    return chosen;
  }

  /** How many started, unbound worker threads with this heap limit are ready for a cold start. */
  readyWorkers(memorySize: number): number {
    return this.spares.ready(memorySize);
  }

  /** Stops the spare threads. */
  close(): Promise<void> {
    return this.spares.close();
  }
}

/** The kind of environment `create` gives `definition`: a handler given as a function (not a file) can only run inline. */
export function environmentKind(definition: FunctionDefinition): EnvironmentKind {
  // A mock never runs the code, whatever its isolation says.
  if (definition.mock) return 'mock';
  if (typeof definition.handler !== 'string') return 'inline';
  return definition.isolation;
}

/**
 * What a sandboxed runtime needs to see of the host besides the system: Node.js, and serverfull's
 * compiled code with its `package.json` (ES modules) and dependencies (tsx, for TypeScript handlers).
 */
function runtimeFolders(): string[] {
  const compiled = dirname(dirname(realpathSync(NODE_RUNTIME_CLIENT)));
  const packageRoot = dirname(dirname(compiled));
  const folders = [nodeInstallFolder(), compiled, join(packageRoot, 'package.json')];
  if (existsSync(join(packageRoot, 'node_modules'))) folders.push(join(packageRoot, 'node_modules'));
  // Installed as a dependency, serverfull's own dependencies sit beside it.
  if (basename(dirname(packageRoot)) === 'node_modules') folders.push(dirname(packageRoot));
  return folders.filter((folder) => existsSync(folder));
}

/**
 * `sandbox` for a Python function: it sees the interpreter's installation and serverfull's Python
 * client, not Node.js, serverfull's code (but for the network forwarder of a sandbox without a network, which is Node.js)
 * or the project's `node_modules`.
 */
function forPython(sandbox: ProcessSandboxOptions, definition: FunctionDefinition): ProcessSandboxOptions {
  const python = pythonInterpreter(definition.runtime);
  const folders = [...(python?.folders ?? []), dirname(PYTHON_RUNTIME_CLIENT)];
  return { ...sandbox, runtimeFolders: sandbox.network === 'none' ? [...folders, ...sandbox.runtimeFolders] : folders, nodeModules: false };
}

/** `sandbox` for `definition`'s process environments: its `/tmp` is the function's ephemeral storage. */
function withEphemeralStorage(sandbox: ProcessSandboxOptions, definition: FunctionDefinition): ProcessSandboxOptions {
  return definition.ephemeralStorage === undefined ? sandbox : { ...sandbox, tmpBytes: definition.ephemeralStorage * 1024 * 1024 };
}
