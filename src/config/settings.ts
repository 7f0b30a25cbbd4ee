/**
 * @module config/settings
 * Server settings: one typed defaults object, then the manifest, then `SERVERFULL_*`
 * environment variables, then CLI flags (or `serve()` options), each validated; frozen.
 */
import type { LogFormat, LogThreshold } from '../log.js';
import { FUNCTION_NETWORKS, ISOLATION_KINDS, type FunctionNetwork, type IsolationKind } from '../registry/function-definition.js';
import { SANDBOX_MODES, type SandboxMode } from '../runtime/sandbox-support.js';
import { SCALING_MODES, type ScalingMode } from '../runtime/scaling-policy.js';
import { check, ConfigError } from './config-error.js';

/** Everything the server can be told, with its type. */
export interface Settings {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The API Gateway's port, when routes are declared; 0 picks a free port. */
  readonly httpPort: number;
  /**
   * The Parameters and Secrets extension's local interface, on loopback: 2773 as in Lambda; when taken, a free
   * one (functions read it from `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`); 0 picks a free port at once.
   */
  readonly parametersPort: number;
  readonly region: string;
  readonly accountId: string;
  /** Default execution environment kind for functions that do not choose one. */
  readonly isolation: IsolationKind;
  /**
   * Execution environment kind of code deployed through the management API, which anyone with API access can send:
   * `process` (sandboxed where the host allows it) unless the operator accepts the risk of running it with the server's rights.
   */
  readonly deployedIsolation: IsolationKind;
  /** Sandboxing of `process` environments (bubblewrap and cgroups): `auto` where the host allows it, `on` or refuse to start, `off`. */
  readonly sandbox: SandboxMode;
  /** The network of functions that do not choose theirs: the host's (`all`), or only serverfull's own APIs (`none`, sandboxed process environments only). */
  readonly functionNetwork: FunctionNetwork;
  /** Account-wide limit of concurrent executions. */
  readonly concurrency: number;
  /** Seconds a warm environment may stay idle before it is stopped. */
  readonly idleTimeout: number;
  /** When worker and process environments scale out: while the host has idle CPU, else after a cold start's wait (`measured`), or always, as Lambda (`eager`). */
  readonly scaling: ScalingMode;
  /** Seconds SIGTERM waits for invocations in flight. */
  readonly shutdownTimeout: number;
  /** Where deployed functions are kept: an SQLite database and the code packages. */
  readonly dataDir: string;
  readonly logLevel: LogThreshold;
  /** Unset: pretty on a terminal, JSON otherwise. */
  readonly logFormat?: LogFormat;
  /** Every declared function without a `mock` block answers the empty mock instead of running. */
  readonly mock: boolean;
  /** Open connections per server; past it, new ones are closed at once. */
  readonly maxConnections: number;
  /** Seconds a client may take to send a request's head (slowloris). */
  readonly headersTimeout: number;
  /** Seconds a client may take to send a whole request, body included (a slow body holds a connection too). */
  readonly requestTimeout: number;
  /** Code uploads (bodies over 10 MB) received at once per server; past it, 429. */
  readonly maxConcurrentUploads: number;
  /** `sigv4`: every Lambda API request must be signed with a key of the `keys` file. */
  readonly auth: AuthMode;
  /** The keys file: users with access keys and policies, and the roles functions run as. */
  readonly keys?: string;
  /** Serve on a non-loopback address without authentication (refused otherwise). */
  readonly insecure: boolean;
  /** Origins whose web pages may call the Lambda APIs; none by default. */
  readonly allowedOrigins: readonly string[];
  /** Names the Lambda APIs answer to besides loopback ones and the bound host (DNS rebinding guard). */
  readonly allowedHosts: readonly string[];
  /** Event (asynchronous) invocations queued or running at once; past it, Event invocations are throttled. */
  readonly eventQueueLimit: number;
  /** Bytes of payload of the queued Event invocations; past it, Event invocations are throttled. */
  readonly eventQueueBytes: number;
  /** Seconds an event may wait in the queue before it is dropped (AWS's `MaximumEventAgeInSeconds`). */
  readonly maxEventAge: number;
  /** Seconds before a failed Event invocation is retried; the second retry waits twice as long (AWS: about 1, then 2 minutes). */
  readonly eventRetryDelay: number;
  /** Bytes of code packages (zips as uploaded) the data directory may hold: AWS's code storage quota. */
  readonly codeStorageLimit: number;
  /** File holding the 32-byte key that encrypts environment variables at rest; unset: `serverfull.key` in the data directory. */
  readonly kmsKeyFile?: string;
  /** Days the stored invocation logs are kept (CloudWatch's `retentionInDays`); text may give a duration: `12h`, `30m`, `7d`. */
  readonly logRetention: number;
  /** Bytes of stored logs kept per function (oldest dropped first); 0 stores none. */
  readonly logMaxBytes: number;
  /**
   * Where `serverfull runtimes install` puts Node.js builds, one folder per runtime (`nodejs22.x/bin/node`), and where
   * process environments look for their runtime's Node.js; unset: `$XDG_DATA_HOME/serverfull/runtimes` or `~/.local/share/serverfull/runtimes`.
   */
  readonly runtimesDir?: string;
  /** Hot reload: a change to a declared function's code, the manifest or the template takes effect on the next invocation. */
  readonly watch: boolean;
}

/** How the Lambda APIs authenticate requests. */
export type AuthMode = 'none' | 'sigv4';

/** The defaults: AWS's region and a placeholder account, on loopback port 8080. */
export const DEFAULT_SETTINGS: Settings = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  httpPort: 3000,
  parametersPort: 2773,
  region: 'us-east-1',
  accountId: '000000000000',
  isolation: 'worker',
  deployedIsolation: 'process',
  sandbox: 'auto',
  functionNetwork: 'all',
  concurrency: 100,
  idleTimeout: 300,
  scaling: 'measured',
  shutdownTimeout: 30,
  dataDir: '.serverfull',
  logLevel: 'info',
  mock: false,
  maxConnections: 1000,
  headersTimeout: 10,
  // A 70 MB code upload at 250 kB/s.
  requestTimeout: 300,
  maxConcurrentUploads: 4,
  auth: 'none',
  insecure: false,
  allowedOrigins: Object.freeze([]),
  allowedHosts: Object.freeze([]),
  eventQueueLimit: 10_000,
  eventQueueBytes: 128 * 1024 * 1024,
  // AWS's defaults: 6 hours, and 75 GB of code storage per region.
  maxEventAge: 21_600,
  eventRetryDelay: 60,
  codeStorageLimit: 75 * 1024 * 1024 * 1024,
  logRetention: 7,
  logMaxBytes: 64 * 1024 * 1024,
  watch: false,
});

type SettingName = keyof Settings;

interface SettingSpec {
  /** Environment variable and CLI flag names. */
  readonly env: string;
  readonly flag: string;
  readonly numeric: boolean;
  /** Text from the environment is read as a boolean ("true"/"false"/"1"/"0"); the CLI flag takes no value. */
  readonly boolean?: true;
  /** Text is a comma-separated list. */
  readonly list?: true;
  readonly validate: (value: unknown, where: string) => unknown;
}

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const BOOLEAN_TEXT: ReadonlyMap<string, boolean> = new Map([['true', true], ['false', false], ['1', true], ['0', false]]);

const ORIGIN = /^https?:\/\/[^/\s?#]+$/i;
const HOST_NAME = /^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[?[0-9a-f:.]+\]?)$/i;

const DURATION_UNITS_IN_DAYS: Readonly<Record<string, number>> = { s: 1 / 86_400, m: 1 / 1440, h: 1 / 24, d: 1 };

/** Days: a positive number, or a duration text (`90s`, `30m`, `12h`, `7d`); at most 10 years, CloudWatch's longest retention. */
function checkDays(value: unknown, where: string): number {
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(value) : null;
  const days = match ? Number(match[1]) * DURATION_UNITS_IN_DAYS[match[2] || 'd']! : value;
  if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0 || days > 3653) {
    throw new ConfigError(`${where} must be a number of days, or a duration such as "12h", "30m" or "7d", of at most 3653 days (got ${JSON.stringify(value)})`);
  }
  return days;
}

/** A list of strings each matching `pattern`, as a frozen array. */
function checkList(value: unknown, where: string, pattern: RegExp, hint: string): readonly string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || !pattern.test(item))) {
    throw new ConfigError(`${where} must be a list of ${hint} (comma-separated as text) (got ${JSON.stringify(value)})`);
  }
  return Object.freeze([...value as string[]]);
}

function checkBoolean(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(`${where} must be true or false ("true", "false", "1" or "0" as text) (got ${JSON.stringify(value)})`);
  return value;
}

/** Every setting: its names and its check. */
export const SETTING_SPECS: Readonly<Record<SettingName, SettingSpec>> = {
  host: { env: 'SERVERFULL_HOST', flag: 'host', numeric: false, validate: (v, w) => check.string(v, w, /^\S+$/, 'a host name or address') },
  port: { env: 'SERVERFULL_PORT', flag: 'port', numeric: true, validate: (v, w) => check.integer(v, w, 0, 65535) },
  httpPort: { env: 'SERVERFULL_HTTP_PORT', flag: 'http-port', numeric: true, validate: (v, w) => check.integer(v, w, 0, 65535) },
  parametersPort: { env: 'SERVERFULL_PARAMETERS_PORT', flag: 'parameters-port', numeric: true, validate: (v, w) => check.integer(v, w, 0, 65535) },
  region: { env: 'SERVERFULL_REGION', flag: 'region', numeric: false, validate: (v, w) => check.string(v, w, REGION, 'an AWS region such as "us-east-1"') },
  accountId: { env: 'SERVERFULL_ACCOUNT_ID', flag: 'account-id', numeric: false, validate: (v, w) => check.string(v, w, /^\d{12}$/, 'a 12-digit account id') },
  isolation: { env: 'SERVERFULL_ISOLATION', flag: 'isolation', numeric: false, validate: (v, w) => check.oneOf(v, w, ISOLATION_KINDS) },
  deployedIsolation: { env: 'SERVERFULL_DEPLOYED_ISOLATION', flag: 'deployed-isolation', numeric: false, validate: (v, w) => check.oneOf(v, w, ISOLATION_KINDS) },
  sandbox: { env: 'SERVERFULL_SANDBOX', flag: 'sandbox', numeric: false, validate: (v, w) => check.oneOf(v, w, SANDBOX_MODES) },
  functionNetwork: { env: 'SERVERFULL_FUNCTION_NETWORK', flag: 'function-network', numeric: false, validate: (v, w) => check.oneOf(v, w, FUNCTION_NETWORKS) },
  concurrency: { env: 'SERVERFULL_CONCURRENCY', flag: 'concurrency', numeric: true, validate: (v, w) => check.integer(v, w, 1, 100_000) },
  idleTimeout: { env: 'SERVERFULL_IDLE_TIMEOUT', flag: 'idle-timeout', numeric: true, validate: (v, w) => check.integer(v, w, 1, 86_400) },
  scaling: { env: 'SERVERFULL_SCALING', flag: 'scaling', numeric: false, validate: (v, w) => check.oneOf(v, w, SCALING_MODES) },
  shutdownTimeout: { env: 'SERVERFULL_SHUTDOWN_TIMEOUT', flag: 'shutdown-timeout', numeric: true, validate: (v, w) => check.integer(v, w, 0, 3600) },
  dataDir: { env: 'SERVERFULL_DATA_DIR', flag: 'data-dir', numeric: false, validate: (v, w) => check.string(v, w, /./, 'a folder path') },
  logLevel: { env: 'SERVERFULL_LOG_LEVEL', flag: 'log-level', numeric: false, validate: (v, w) => check.oneOf(v, w, ['debug', 'info', 'warn', 'error', 'silent'] as const) },
  logFormat: { env: 'SERVERFULL_LOG_FORMAT', flag: 'log-format', numeric: false, validate: (v, w) => check.oneOf(v, w, ['json', 'pretty'] as const) },
  mock: { env: 'SERVERFULL_MOCK', flag: 'mock', numeric: false, boolean: true, validate: checkBoolean },
  maxConnections: { env: 'SERVERFULL_MAX_CONNECTIONS', flag: 'max-connections', numeric: true, validate: (v, w) => check.integer(v, w, 1, 1_000_000) },
  headersTimeout: { env: 'SERVERFULL_HEADERS_TIMEOUT', flag: 'headers-timeout', numeric: true, validate: (v, w) => check.integer(v, w, 1, 300) },
  requestTimeout: { env: 'SERVERFULL_REQUEST_TIMEOUT', flag: 'request-timeout', numeric: true, validate: (v, w) => check.integer(v, w, 1, 3600) },
  maxConcurrentUploads: { env: 'SERVERFULL_MAX_CONCURRENT_UPLOADS', flag: 'max-concurrent-uploads', numeric: true, validate: (v, w) => check.integer(v, w, 1, 1000) },
  auth: { env: 'SERVERFULL_AUTH', flag: 'auth', numeric: false, validate: (v, w) => check.oneOf(v, w, ['none', 'sigv4'] as const) },
  keys: { env: 'SERVERFULL_KEYS', flag: 'keys', numeric: false, validate: (v, w) => check.string(v, w, /./, 'the path of a keys file') },
  insecure: { env: 'SERVERFULL_INSECURE', flag: 'insecure', numeric: false, boolean: true, validate: checkBoolean },
  allowedOrigins: {
    env: 'SERVERFULL_ALLOWED_ORIGINS', flag: 'allowed-origins', numeric: false, list: true,
    validate: (v, w) => checkList(v, w, ORIGIN, 'origins such as "http://localhost:5173"'),
  },
  allowedHosts: {
    env: 'SERVERFULL_ALLOWED_HOSTS', flag: 'allowed-hosts', numeric: false, list: true,
    validate: (v, w) => checkList(v, w, HOST_NAME, 'host names such as "lambda.internal"'),
  },
  eventQueueLimit: { env: 'SERVERFULL_EVENT_QUEUE_LIMIT', flag: 'event-queue-limit', numeric: true, validate: (v, w) => check.integer(v, w, 1, 10_000_000) },
  eventQueueBytes: { env: 'SERVERFULL_EVENT_QUEUE_BYTES', flag: 'event-queue-bytes', numeric: true, validate: (v, w) => check.integer(v, w, 1, Number.MAX_SAFE_INTEGER) },
  // AWS's range is 60 to 21600; shorter ages are allowed for tests.
  maxEventAge: { env: 'SERVERFULL_MAX_EVENT_AGE', flag: 'max-event-age', numeric: true, validate: (v, w) => check.integer(v, w, 1, 21_600) },
  // 0 retries at once: for tests.
  eventRetryDelay: { env: 'SERVERFULL_EVENT_RETRY_DELAY', flag: 'event-retry-delay', numeric: true, validate: (v, w) => check.integer(v, w, 0, 3600) },
  codeStorageLimit: { env: 'SERVERFULL_CODE_STORAGE_LIMIT', flag: 'code-storage-limit', numeric: true, validate: (v, w) => check.integer(v, w, 0, Number.MAX_SAFE_INTEGER) },
  kmsKeyFile: { env: 'SERVERFULL_KMS_KEY_FILE', flag: 'kms-key-file', numeric: false, validate: (v, w) => check.string(v, w, /./, 'a file path') },
  logRetention: { env: 'SERVERFULL_LOG_RETENTION', flag: 'log-retention', numeric: true, validate: checkDays },
  logMaxBytes: { env: 'SERVERFULL_LOG_MAX_BYTES', flag: 'log-max-bytes', numeric: true, validate: (v, w) => check.integer(v, w, 0, Number.MAX_SAFE_INTEGER) },
  runtimesDir: { env: 'SERVERFULL_RUNTIMES_DIR', flag: 'runtimes-dir', numeric: false, validate: (v, w) => check.string(v, w, /./, 'a folder path') },
  watch: { env: 'SERVERFULL_WATCH', flag: 'watch', numeric: false, boolean: true, validate: checkBoolean },
};

/** Names of the settings a manifest may set at its top level. */
export const SETTING_NAMES = Object.keys(SETTING_SPECS) as SettingName[];

/** Settings given as loose values: from a manifest or CLI flags (text), checked by `resolveSettings`. */
export type SettingsInput = { readonly [K in SettingName]?: unknown };

/** Settings given by code (`serve()` options): any of them, each with its own type. */
export type SettingsOptions = Partial<Settings>;

/** Merges defaults < manifest < environment < flags, validating each layer. */
export function resolveSettings(layers: { manifest?: SettingsInput; env?: NodeJS.ProcessEnv; flags?: SettingsInput }): Readonly<Settings> {
  const merged: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const name of SETTING_NAMES) {
    const spec = SETTING_SPECS[name];
    const fromManifest = layers.manifest?.[name];
    if (fromManifest !== undefined) merged[name] = spec.validate(fromManifest, `serverfull.json: "${name}"`);
    const fromEnv = layers.env?.[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') merged[name] = spec.validate(parse(fromEnv, spec), spec.env);
    const fromFlag = layers.flags?.[name];
    if (fromFlag !== undefined) merged[name] = spec.validate(typeof fromFlag === 'string' ? parse(fromFlag, spec) : fromFlag, `--${spec.flag}`);
  }
  return Object.freeze(merged as unknown as Settings);
}

function parse(text: string, spec: SettingSpec): unknown {
  if (spec.list) return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (spec.boolean) return BOOLEAN_TEXT.get(text.trim().toLowerCase()) ?? text;
  return spec.numeric && /^-?\d+$/.test(text.trim()) ? Number(text) : text;
}
