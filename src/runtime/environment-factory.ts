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
import { isTypeScriptHandler } from '../handler/handler-loader.js';
import { lambdaEnvironment, logGroupName, newLogStreamName } from '../handler/lambda-environment.js';
import type { EnvironmentIdentity } from '../handler/lambda-context.js';
import type { FunctionDefinition, FunctionNetwork } from '../registry/function-definition.js';
import { isCustomRuntime } from '../registry/runtimes.js';
import type { ExecutionEnvironment } from './execution-environment.js';
import { InlineEnvironment, InlineFunction } from './inline-environment.js';
import type { EnvironmentKind } from './lifecycle-events.js';
import { MockEnvironment } from './mock-environment.js';
import { ProcessEnvironment, type ProcessSandboxOptions, type RuntimeCommand } from './process-environment.js';
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

/** Spare threads kept per memory size: enough to absorb a small burst of cold starts. */
const SPARES_PER_SIZE = 2;

/** Creates execution environments for function definitions. */
export class EnvironmentFactory {
  private readonly inlineFunctions = new WeakMap<FunctionDefinition, InlineFunction>();
  private readonly spares = new WorkerSpares(SPARES_PER_SIZE);
  /** The log stream each environment's context names: its stored log is kept under the same name. */
  private readonly logStreams = new WeakMap<ExecutionEnvironment, string>();

  /** How process environments are sandboxed; undefined: they run unsandboxed. */
  private readonly sandbox: ProcessSandboxOptions | undefined;
  /** The same, without a network but serverfull's. */
  private readonly isolatedSandbox: ProcessSandboxOptions | undefined;

  /** `network` is the server's `functionNetwork`: what a function that does not choose gets. */
  constructor(private readonly region: string, private readonly access?: FunctionAccessProvider, sandbox?: SandboxHost, private readonly network: FunctionNetwork = 'all') {
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
      return new ProcessEnvironment(runtimeCommand(definition, env), identity, withEphemeralStorage(this.isolatedSandbox, definition), access?.endpoint, access?.parametersPort);
    }
    if (kind === 'process') return new ProcessEnvironment(runtimeCommand(definition, env), identity, this.sandbox && withEphemeralStorage(this.sandbox, definition));
    if (kind === 'inline' || typeof handler !== 'string') {
      let fn = this.inlineFunctions.get(definition);
      if (!fn) this.inlineFunctions.set(definition, (fn = new InlineFunction(definition, env)));
      return new InlineEnvironment(fn, identity);
    }
    return new WorkerEnvironment(this.spares.take(definition.memorySize), { root: definition.root, handler, identity, env }, identity);
  }

  /** Starts spare threads for the worker functions among `definitions`, before their first invocation. */
  prepare(definitions: readonly FunctionDefinition[]): void {
    const workers = definitions.filter((d) => d.isolation === 'worker' && typeof d.handler === 'string' && !d.mock);
    this.spares.prepare(
      new Set(workers.map((d) => d.memorySize)),
      workers.some((d) => isTypeScriptHandler(d.root, d.handler as string)),
    );
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

/** The runtime process of a function: its `bootstrap` for a custom runtime, else serverfull's Node.js runtime client with the function's heap limit. */
function runtimeCommand(definition: FunctionDefinition, env: Record<string, string>): RuntimeCommand {
  const { root } = definition;
  if (isCustomRuntime(definition.runtime)) return { file: join(root, 'bootstrap'), args: [], cwd: root, env };
  return { file: process.execPath, args: [`--max-old-space-size=${definition.memorySize}`, NODE_RUNTIME_CLIENT], cwd: root, env, privateChannel: true };
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

/** `sandbox` for `definition`'s process environments: its `/tmp` is the function's ephemeral storage. */
function withEphemeralStorage(sandbox: ProcessSandboxOptions, definition: FunctionDefinition): ProcessSandboxOptions {
  return definition.ephemeralStorage === undefined ? sandbox : { ...sandbox, tmpBytes: definition.ephemeralStorage * 1024 * 1024 };
}
