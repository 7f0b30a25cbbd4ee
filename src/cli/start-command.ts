/**
 * @module cli/start-command
 * `serverfull start`: serve the manifest's functions until SIGTERM or SIGINT.
 */
import { parseArgs } from 'node:util';
import { SETTING_SPECS, SETTING_NAMES, type SettingsInput } from '../config/settings.js';
import { serveUnchecked } from '../serve.js';
import { DECLARATION_FLAGS, declarationSources, type DeclarationFlagValues } from './declaration-flags.js';

/** Help text of `serverfull start`. */
export const START_HELP = `Usage: serverfull start [options]

Serves the functions of a serverfull.json manifest, and those deployed through the
Lambda management API, behind the AWS Lambda APIs.

Options (each also read from the environment variable shown; flags win):
  --config PATH           manifest (SERVERFULL_CONFIG; default ./serverfull.json when it exists and no template is given)
  --template PATH         AWS SAM template: its functions and HttpApi/Api routes (SERVERFULL_TEMPLATE)
  --parameter-overrides "K=V K2=V2"  values of the template's Parameters (SERVERFULL_PARAMETER_OVERRIDES)
  --http-port N           API Gateway port, used when routes are declared (SERVERFULL_HTTP_PORT; default 3000)
  --parameters-port N     the Parameters and Secrets extension's local port, on loopback; a free one when taken
                          (SERVERFULL_PARAMETERS_PORT; default 2773)
  --data-dir DIR          where deployed functions are kept (SERVERFULL_DATA_DIR; default ./.serverfull)
  --host HOST             bind address (SERVERFULL_HOST; default 127.0.0.1); beyond loopback it needs --auth sigv4
  --auth MODE             none | sigv4: requests to the Lambda APIs must be signed (SERVERFULL_AUTH; default none)
  --keys PATH             keys file: users, access keys, policies, roles (SERVERFULL_KEYS); see serverfull keys add
  --insecure              allow a non-loopback --host with --auth none (SERVERFULL_INSECURE)
  --allowed-origins LIST  comma-separated origins whose web pages may call the Lambda APIs (SERVERFULL_ALLOWED_ORIGINS)
  --allowed-hosts LIST    comma-separated names the Lambda APIs answer to besides loopback (SERVERFULL_ALLOWED_HOSTS)
  --port N                port, 0 for any free one (SERVERFULL_PORT; default 8080)
  --region REGION         region in ARNs and AWS_REGION (SERVERFULL_REGION; default us-east-1)
  --account-id ID         12-digit account in ARNs (SERVERFULL_ACCOUNT_ID; default 000000000000)
  --isolation KIND        worker | inline | process, for functions that do not choose (SERVERFULL_ISOLATION; default worker)
  --deployed-isolation KIND  process | worker | inline, for code deployed through the Lambda API (SERVERFULL_DEPLOYED_ISOLATION;
                          default process, sandboxed where usable); worker or inline run that code with the server's rights
  --sandbox MODE          auto | on | off: process environments under bubblewrap and cgroups, where usable (auto),
                          or refuse to start without them (on) (SERVERFULL_SANDBOX; default auto)
  --function-network NET  all | none: what functions that do not choose reach: the host's network (all), or only
                          serverfull's own APIs (none: sandboxed process isolation only) (SERVERFULL_FUNCTION_NETWORK; default all)
  --concurrency N         server-wide concurrent executions (SERVERFULL_CONCURRENCY; default 100)
  --idle-timeout S        seconds before an idle environment is stopped (SERVERFULL_IDLE_TIMEOUT; default 300)
  --scaling MODE          measured | eager: when every worker or process environment of a function is busy, start
                          another while the host has idle CPU, else wait for one at most a cold start's time (measured),
                          or always start another, as Lambda does (eager) (SERVERFULL_SCALING; default measured)
  --shutdown-timeout S    seconds SIGTERM waits for invocations in flight (SERVERFULL_SHUTDOWN_TIMEOUT; default 30)
  --log-level LEVEL       debug | info | warn | error | silent (SERVERFULL_LOG_LEVEL; default info)
  --log-format FORMAT     json | pretty (SERVERFULL_LOG_FORMAT; default pretty on a terminal, else json)
  --mock                  answer with each function's declared mock (null when none) instead of running it;
                          "mock": false in the manifest opts a function out (SERVERFULL_MOCK=true|false|1|0)
  --watch                 hot reload: a change to a function's code (and what it imports), the manifest or the
                          template takes effect on the next invocation (SERVERFULL_WATCH=true|false|1|0)
  --event-queue-limit N   Event invocations queued at once; more are throttled (SERVERFULL_EVENT_QUEUE_LIMIT; default 10000)
  --event-queue-bytes N   payload bytes of queued Event invocations; more are throttled (SERVERFULL_EVENT_QUEUE_BYTES; default 134217728)
  --max-event-age S       seconds a queued event may wait before it is dropped (SERVERFULL_MAX_EVENT_AGE; default 21600)
  --event-retry-delay S   seconds before a failed event's first retry, twice that before the second (SERVERFULL_EVENT_RETRY_DELAY; default 60)
  --code-storage-limit N  bytes of code packages kept; more are refused (SERVERFULL_CODE_STORAGE_LIMIT; default 80530636800)
  --kms-key-file PATH     32-byte key encrypting environment variables at rest (SERVERFULL_KMS_KEY_FILE; default DATA_DIR/serverfull.key)
  --log-retention DAYS    days invocation logs are kept, or a duration: 12h, 30m (SERVERFULL_LOG_RETENTION; default 7)
  --log-max-bytes N       bytes of invocation logs kept per function, oldest dropped first; 0 keeps none
                          (SERVERFULL_LOG_MAX_BYTES; default 67108864)
  --runtimes-dir DIR      Node.js builds for process isolation, one folder per runtime (nodejs22.x/bin/node); see
                          serverfull runtimes (SERVERFULL_RUNTIMES_DIR; default ~/.local/share/serverfull/runtimes)
  --max-connections N    open connections per server; more are closed at once (SERVERFULL_MAX_CONNECTIONS; default 1000)
  --headers-timeout S     seconds to send a request's head, then 408 (SERVERFULL_HEADERS_TIMEOUT; default 10)
  --request-timeout S     seconds to send a whole request, then 408 (SERVERFULL_REQUEST_TIMEOUT; default 300)
  --max-concurrent-uploads N  code uploads (bodies over 10 MB) received at once; more get 429 (SERVERFULL_MAX_CONCURRENT_UPLOADS; default 4)
  -h, --help              this text
`;

/** Runs `serverfull start`; resolves when the server has stopped. */
export async function startCommand(argv: string[]): Promise<number> {
  // Boolean settings are bare flags (`--mock`); the others take a value.
  const settingOptions = Object.fromEntries(SETTING_NAMES.map((name) => [SETTING_SPECS[name].flag, { type: SETTING_SPECS[name].boolean ? 'boolean' as const : 'string' as const }]));
  const { values } = parseArgs({
    args: argv,
    options: {
      ...settingOptions,
      ...DECLARATION_FLAGS.options,
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(START_HELP);
    return 0;
  }
  const flags: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) {
    const value = (values as Record<string, unknown>)[SETTING_SPECS[name].flag];
    if (value !== undefined) flags[name] = value;
  }
  // Without a manifest (or with a template) the server starts with what else it has: deployed functions.
  const server = await serveUnchecked({ ...declarationSources(values as DeclarationFlagValues, false), ...(flags as SettingsInput) });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        process.stderr.write(`serverfull: ${signal} received again, exiting now and abandoning ${server.inFlight} invocation(s) in flight\n`);
        process.exit(1);
      }
      stopping = true;
      process.stderr.write(`serverfull: ${signal} received, finishing invocations in flight\n`);
      void server.close().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
