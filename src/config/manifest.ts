/**
 * @module config/manifest
 * `serverfull.json`: server settings and the functions to serve, validated strictly
 * (unknown keys are typos) so a wrong manifest fails at start naming function and field.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseHandlerString, resolveHandlerFile } from '../handler/handler-loader.js';
import { handlerEscape } from '../registry/handler-path.js';
import {
  FUNCTION_NETWORKS, ISOLATION_KINDS, type FunctionDefinition, type FunctionNetwork, type IsolationKind, type LambdaHandler, type MockDeclaration,
} from '../registry/function-definition.js';
import {
  ENVIRONMENT_KEY, EPHEMERAL_STORAGE, exceedsEnvironmentLimit, MAX_DESCRIPTION_LENGTH, MAXIMUM_EVENT_AGE, MAXIMUM_RETRY_ATTEMPTS, MEMORY_SIZE, RESERVED_CONCURRENCY, RESERVED_ENVIRONMENT_KEYS, TIMEOUT,
} from '../registry/function-limits.js';
import { DEFAULT_RUNTIME, isCustomRuntime, isPythonRuntime, SUPPORTED_RUNTIMES } from '../registry/runtimes.js';
import { EMPTY_MOCK, MAX_MOCK_SEED, mockOutput } from '../runtime/mock-output.js';
import { check, ConfigError } from './config-error.js';
import { SETTING_NAMES, type SettingsInput } from './settings.js';

/** One function as a manifest (or `serve()`) declares it. */
export interface FunctionConfig {
  /** `file.export` relative to the manifest's folder, or the handler itself; for a custom runtime, what its `bootstrap` reads from `_HANDLER`. */
  readonly handler: string | LambdaHandler;
  /** A Node.js runtime (default: the running Node.js's) or `provided`/`provided.al2`/`provided.al2023`, which runs the folder's `bootstrap` in process isolation. */
  readonly runtime?: string;
  readonly timeout?: number;
  readonly memorySize?: number;
  /** MB of `/tmp`, 512 to 10240 (AWS's `EphemeralStorage.Size`; default 512). */
  readonly ephemeralStorage?: number;
  readonly reservedConcurrency?: number;
  /** Seconds an Event invocation may wait before it is dropped (AWS's `MaximumEventAgeInSeconds`, 60 to 21600). */
  readonly maximumEventAge?: number;
  /** Retries of an Event invocation after a function error or timeout (AWS's `MaximumRetryAttempts`, 0 to 2; default 2). */
  readonly maximumRetryAttempts?: number;
  /** Names of topics the function subscribes to (created at start if missing): each message published there invokes it asynchronously. */
  readonly topics?: readonly string[];
  readonly environment?: Readonly<Record<string, string>>;
  readonly isolation?: IsolationKind;
  /** `none`: the code reaches only serverfull's own APIs (a sandboxed process environment; the isolation when none is given); default: the server's `functionNetwork`. */
  readonly network?: FunctionNetwork;
  readonly description?: string;
  /** The execution role: a role name of the keys file, or an IAM role ARN ending in it. */
  readonly role?: string;
  /** Answer with a declared output instead of running the code (`true`: the empty value); `false` opts out of the `mock` setting. */
  readonly mock?: MockConfig | boolean;
}

/** A function's `mock` block as a manifest (or `serve()`) declares it. */
export interface MockConfig {
  /** A fixed payload: any JSON value. */
  readonly example?: unknown;
  /** A JSON Schema to generate the payload from (not together with `example`). */
  readonly schema?: Readonly<Record<string, unknown>>;
  /** The generator's seed (0 to 2^32-1; default fixed), or `"random"` for a new value on each invocation. */
  readonly seed?: number | 'random';
  /** Error types callers may trigger with `X-Amz-Invocation-Type: Error` and `X-Error-Type`. */
  readonly errors?: readonly string[];
}

/** A parsed, not yet validated manifest file. */
export interface Manifest {
  readonly path: string;
  readonly settings: SettingsInput;
  readonly functions: Record<string, unknown>;
  /** The top-level `http` object (see `manifest-gateway.ts`). */
  readonly http?: unknown;
}

/** A role name (IAM's characters), alone or at the end of an IAM role ARN with an optional path. */
const ROLE = /^(?:arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*)?[\w+=,.@-]{1,64}$/;

/** The fields a function declares; `http` holds its routes, read by `manifest-gateway.ts`. */
export const FUNCTION_KEYS = ['handler', 'runtime', 'timeout', 'memorySize', 'ephemeralStorage', 'reservedConcurrency', 'maximumEventAge', 'maximumRetryAttempts', 'topics', 'environment', 'isolation', 'network', 'description', 'role', 'http', 'mock'];
const MOCK_KEYS = ['example', 'schema', 'seed', 'errors'];
/** Error types as the Node.js runtime names them: identifiers, dotted for the platform's (`Sandbox.Timedout`). */
const ERROR_TYPE = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;
const DESCRIPTION = new RegExp(`^[\\s\\S]{0,${MAX_DESCRIPTION_LENGTH}}$`);
/** A function name as Lambda allows it. */
export const FUNCTION_NAME = /^[a-zA-Z0-9-_]{1,64}$/;

/** The top-level fields of a manifest: `$schema` (for editors), the functions, the gateway, and settings. */
export const MANIFEST_KEYS: readonly string[] = ['$schema', 'functions', 'http', ...SETTING_NAMES];

/** Reads `serverfull.json`: JSON syntax and top-level keys. */
export function readManifest(path: string): Manifest {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read manifest ${absolute}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${absolute} is not valid JSON: ${(error as Error).message}`);
  }
  const top = check.object(json, absolute);
  check.knownKeys(top, absolute, MANIFEST_KEYS);
  // `$schema` is for editors (serverfull's JSON Schema): nothing to read.
  const { functions = {}, http, $schema: _schema, ...settings } = top;
  return { path: absolute, settings, functions: check.object(functions, `${absolute}: "functions"`), http };
}

/** Validates function declarations and turns them into `$LATEST` definitions rooted at `root`. */
export function buildDefinitions(
  functions: Record<string, unknown>,
  root: string,
  defaultIsolation: IsolationKind,
  source: string,
): FunctionDefinition[] {
  return Object.entries(functions).map(([name, config]) => buildDefinition(name, config, root, defaultIsolation, source));
}

function buildDefinition(name: string, raw: unknown, root: string, defaultIsolation: IsolationKind, source: string): FunctionDefinition {
  const where = `${source}: function "${name}"`;
  if (!FUNCTION_NAME.test(name)) throw new ConfigError(`${where}: the name must be 1-64 letters, digits, "-" or "_"`);
  const config = typeof raw === 'function' ? { handler: raw } : check.object(raw, where);
  check.knownKeys(config, where, FUNCTION_KEYS);
  const field = (key: string) => `${where}: field "${key}"`;

  const handler = config.handler;
  if (typeof handler === 'string') {
    const escape = handlerEscape(handler);
    if (escape !== undefined) throw new ConfigError(`${field('handler')} must name a file inside ${root} (got ${JSON.stringify(handler)}: ${escape})`);
  }
  const runtime = config.runtime === undefined ? DEFAULT_RUNTIME : check.oneOf(config.runtime, field('runtime'), SUPPORTED_RUNTIMES);
  if (isCustomRuntime(runtime)) return buildCustomRuntimeDefinition(name, config, root, runtime, field);
  if (isPythonRuntime(runtime)) return buildPythonDefinition(name, config, root, runtime, field);
  if (typeof handler !== 'function') {
    check.string(handler, field('handler'), /./, 'a "file.export" string');
    const parsed = parseHandlerString(handler as string);
    if (!parsed) throw new ConfigError(`${field('handler')} must look like "file.export" (got ${JSON.stringify(handler)})`);
    if (!resolveHandlerFile(root, parsed.modulePath)) {
      throw new ConfigError(`${field('handler')}: no file ${parsed.modulePath}.{js,mjs,cjs,ts,mts,cts} in ${root}`);
    }
  }
  if (typeof handler === 'function' && config.isolation !== undefined && config.isolation !== 'inline') {
    throw new ConfigError(`${field('isolation')}: a handler given as a function runs inline only; give a "file.export" string for ${String(config.isolation)} isolation`);
  }
  // Without a network, code runs in a sandboxed process: its own network namespace. A thread shares the server's.
  const isolated = config.network === 'none';
  if (isolated && (typeof handler === 'function' || (config.isolation !== undefined && config.isolation !== 'process'))) {
    throw new ConfigError(`${field('network')}: "none" runs the function in a sandboxed process, which has a network of its own: give "isolation" "process" or none, and a "file.export" handler`);
  }
  // A function value cannot cross into a worker thread or a process.
  const isolation = typeof handler === 'function' ? 'inline'
    : config.isolation !== undefined ? check.oneOf(config.isolation, field('isolation'), ISOLATION_KINDS) : isolated ? 'process' : defaultIsolation;
  return Object.freeze({
    name,
    version: '$LATEST',
    runtime,
    handler: handler as string | LambdaHandler,
    root,
    ...commonFields(config, field),
    isolation,
  });
}

/** A custom runtime: any handler string, an executable `bootstrap` in the folder, always a process of its own. */
function buildCustomRuntimeDefinition(name: string, config: Record<string, unknown>, root: string, runtime: string, field: (key: string) => string): FunctionDefinition {
  const handler = check.string(config.handler, field('handler'), /^\S+$/, 'a string without spaces (the custom runtime reads it from _HANDLER)');
  if (config.isolation !== undefined && config.isolation !== 'process') {
    throw new ConfigError(`${field('isolation')}: a ${runtime} function runs its bootstrap as a process; "isolation" can only be "process"`);
  }
  const bootstrap = join(root, 'bootstrap');
  if (!isExecutableFile(bootstrap)) throw new ConfigError(`${field('runtime')}: ${runtime} needs an executable file ${bootstrap}`);
  return Object.freeze({ name, version: '$LATEST', runtime, handler, root, ...commonFields(config, field), isolation: 'process' });
}

/**
 * A Python function: a `module.function` handler, always a process of its own (serverfull's Python runtime client). The
 * module is not looked for here: as in AWS, a missing one fails the init with `Runtime.ImportModuleError`.
 */
function buildPythonDefinition(name: string, config: Record<string, unknown>, root: string, runtime: string, field: (key: string) => string): FunctionDefinition {
  const handler = check.string(config.handler, field('handler'), /^[^\s.][^\s]*\.[^\s./]+$/, 'a "module.function" string, the module a path inside the folder ("app.handler", "pkg/app.handler")');
  if (config.isolation !== undefined && config.isolation !== 'process') {
    throw new ConfigError(`${field('isolation')}: a ${runtime} function runs on Python in a process of its own; "isolation" can only be "process"`);
  }
  return Object.freeze({ name, version: '$LATEST', runtime, handler, root, ...commonFields(config, field), isolation: 'process' });
}

/** The fields every kind of function declares alike. */
function commonFields(config: Record<string, unknown>, field: (key: string) => string) {
  return {
    timeout: config.timeout === undefined ? TIMEOUT.default : check.integer(config.timeout, field('timeout'), TIMEOUT.min, TIMEOUT.max),
    memorySize: config.memorySize === undefined ? MEMORY_SIZE.default : check.integer(config.memorySize, field('memorySize'), MEMORY_SIZE.min, MEMORY_SIZE.max),
    ...(config.ephemeralStorage === undefined ? {} : {
      ephemeralStorage: check.integer(config.ephemeralStorage, field('ephemeralStorage'), EPHEMERAL_STORAGE.min, EPHEMERAL_STORAGE.max),
    }),
    reservedConcurrency: config.reservedConcurrency === undefined
      ? undefined
      : check.integer(config.reservedConcurrency, field('reservedConcurrency'), RESERVED_CONCURRENCY.min, RESERVED_CONCURRENCY.max),
    ...(config.maximumEventAge === undefined ? {} : {
      maximumEventAge: check.integer(config.maximumEventAge, field('maximumEventAge'), MAXIMUM_EVENT_AGE.min, MAXIMUM_EVENT_AGE.max),
    }),
    ...(config.maximumRetryAttempts === undefined ? {} : {
      maximumRetryAttempts: check.integer(config.maximumRetryAttempts, field('maximumRetryAttempts'), MAXIMUM_RETRY_ATTEMPTS.min, MAXIMUM_RETRY_ATTEMPTS.max),
    }),
    ...(config.topics === undefined ? {} : { topics: Object.freeze(checkTopics(config.topics, field('topics'))) }),
    environment: Object.freeze(checkEnvironment(config.environment, field('environment'))),
    ...(config.network === undefined ? {} : { network: check.oneOf(config.network, field('network'), FUNCTION_NETWORKS) }),
    description: config.description === undefined ? '' : check.string(config.description, field('description'), DESCRIPTION, `a string of at most ${MAX_DESCRIPTION_LENGTH} characters`),
    ...(config.role === undefined ? {} : { role: check.string(config.role, field('role'), ROLE, 'a role name or an IAM role ARN (arn:aws:iam::123456789012:role/NAME)') }),
    ...(config.mock === undefined ? {} : { mock: checkMock(config.mock, field('mock')) }),
  };
}

/** `topics`: a list of SNS topic names (1 to 256 letters, digits, `-` and `_`). */
function checkTopics(raw: unknown, where: string): string[] {
  if (!Array.isArray(raw)) throw new ConfigError(`${where} must be a list of topic names`);
  return raw.map((name, i) => check.string(name, `${where}[${i}]`, /^[A-Za-z0-9_-]{1,256}$/, 'a topic name (1 to 256 letters, digits, "-" and "_")'));
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A `mock` block, checked strictly; its output is produced once here, so a schema that cannot be generated fails at start. */
function checkMock(raw: unknown, where: string): MockDeclaration | false {
  if (raw === false) return false;
  if (raw === true) return EMPTY_MOCK;
  const config = check.object(raw, where);
  check.knownKeys(config, where, MOCK_KEYS);
  const { example, schema, seed, errors = [] } = config;
  if (example !== undefined && schema !== undefined) throw new ConfigError(`${where}: give either "example" or "schema", not both`);
  if (schema !== undefined) check.object(schema, `${where}: field "schema"`);
  if (seed !== undefined) {
    if (schema === undefined) throw new ConfigError(`${where}: "seed" applies to a "schema" only`);
    if (seed !== 'random') check.integer(seed, `${where}: field "seed"`, 0, MAX_MOCK_SEED);
  }
  if (!Array.isArray(errors)) throw new ConfigError(`${where}: field "errors" must be an array of error type names (got ${JSON.stringify(errors)})`);
  for (const type of errors) check.string(type, `${where}: field "errors"`, ERROR_TYPE, 'error type names such as "ThrottledError"');
  try {
    // Copies: a serve() caller may change its objects later, and a declaration is frozen like its definition.
    const declaration: MockDeclaration = Object.freeze({
      ...(example === undefined ? {} : { example: structuredClone(example) }),
      ...(schema === undefined ? {} : { schema: structuredClone(schema) as Record<string, unknown> }),
      ...(seed === undefined ? {} : { seed: seed as number | 'random' }),
      errors: Object.freeze([...new Set(errors as string[])]),
    });
    mockOutput(declaration);
    return declaration;
  } catch (error) {
    throw new ConfigError(`${where}: ${schema === undefined ? 'the example is not JSON' : 'no value can be generated from the schema'}: ${(error as Error).message}`);
  }
}

/** Applies the `mock` setting: every function without a `mock` block (and not opted out) answers the empty mock. */
export function applyMockSetting(definitions: FunctionDefinition[], mock: boolean): FunctionDefinition[] {
  if (!mock) return definitions;
  return definitions.map((definition) => definition.mock === undefined ? Object.freeze({ ...definition, mock: EMPTY_MOCK }) : definition);
}

function checkEnvironment(raw: unknown, where: string): Record<string, string> {
  if (raw === undefined) return {};
  const environment = check.object(raw, where);
  for (const [key, value] of Object.entries(environment)) {
    if (!ENVIRONMENT_KEY.test(key)) throw new ConfigError(`${where}: "${key}" is not a valid variable name (letters, digits and "_", starting with a letter)`);
    if (RESERVED_ENVIRONMENT_KEYS.has(key)) throw new ConfigError(`${where}: "${key}" is reserved by Lambda and cannot be set`);
    check.string(value, `${where}: "${key}"`);
  }
  if (exceedsEnvironmentLimit(JSON.stringify(environment))) {
    throw new ConfigError(`${where}: the variables exceed Lambda's 4 KB limit`);
  }
  return environment as Record<string, string>;
}

/** The folder a manifest's handler paths are relative to. */
export function manifestRoot(manifest: Manifest): string {
  return dirname(manifest.path);
}
