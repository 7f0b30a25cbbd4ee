/**
 * @module bench/serverless-offline-process
 * serverless-offline started as `npm run bench:peers` runs it: `serverless offline start` over
 * `bench/fixtures/peers/serverless.yml`, on free ports, in a child process.
 */
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { REPO_ROOT } from './repo-root.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

/** serverless-offline's two ways of running a Node.js handler without Docker. */
export type OfflineMode = 'in-process' | 'worker-threads';

/** One serverless-offline server: the same process behind both origins. */
export interface ServerlessOffline {
  /** Its Lambda API (`POST /2015-03-31/functions/NAME/invocations`), `url` its origin. */
  readonly invoke: ServerProcess;
  /** Its API Gateway emulation, `url` its origin. */
  readonly http: ServerProcess;
}

/** The service folder: the Serverless Framework reads `serverless.yml` from its working directory. */
const SERVICE_DIRECTORY = join(REPO_ROOT, 'bench/fixtures/peers');

/** The name serverless-offline gives the `echo` function: `service-stage-function`, from `serverless.yml`. */
export const OFFLINE_ECHO_FUNCTION = 'peers-bench-echo';

/** Loading the Serverless Framework and its plugins takes several seconds, far longer on a busy machine. */
const READY_TIMEOUT_MS = 120_000;

/**
 * The Serverless Framework's own network calls (telemetry, update notices) turned off, and its log at warnings, as
 * serverfull runs with `--log-level warn`: no line per invocation (serverless-offline logs each at the notice level).
 */
const QUIET_ENV = { SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', SLS_LOG_LEVEL: 'warning' };

/**
 * Runs `serverless offline start` (the CLI script `serverlessBin`) in `mode`. `--noTimeout` spares serverless-offline
 * a 30 s timer per invocation (it races each invocation against one it never clears); serverfull keeps enforcing its
 * timeouts, so if anything the comparison favours serverless-offline.
 */
export async function startServerlessOffline(serverlessBin: string, mode: OfflineMode): Promise<ServerlessOffline> {
  const [httpPort, lambdaPort, websocketPort] = [await freePort(), await freePort(), await freePort()];
  const args = [
    serverlessBin, 'offline', 'start',
    '--host', '127.0.0.1',
    '--httpPort', String(httpPort),
    '--lambdaPort', String(lambdaPort),
    '--websocketPort', String(websocketPort),
    '--noTimeout',
    // serverfull's default idle timeout, 300 s, rather than 60 s: with long rounds, serverless-offline would otherwise
    // end its idle workers while the other variants take their turns, and start them cold in each of its rounds.
    '--terminateIdleLambdaTime', '300',
    // Worker threads are serverless-offline 13's default.
    ...(mode === 'in-process' ? ['--useInProcess'] : []),
  ];
  // Ready once its HTTP port answers the fixture's healthcheck route: it opens the Lambda port first.
  const http = await startServerProcess(args, httpPort, undefined, QUIET_ENV, { cwd: SERVICE_DIRECTORY, readyTimeoutMs: READY_TIMEOUT_MS });
  return { http, invoke: { ...http, url: `http://127.0.0.1:${lambdaPort}` } };
}
