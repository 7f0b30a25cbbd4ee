/**
 * @module bench/peers
 * `npm run bench:peers`: serverfull next to serverless-offline (installed on demand, see
 * bench/serverless-offline-install.ts) and a bare node:http server, all running the same echo
 * handler under the same load, in the same interleaved rounds: invocations through the Lambda
 * Invoke API, then requests through the API Gateway emulations (HTTP API, payload 2.0).
 * `BENCH_DURATION` and `BENCH_ROUNDS` as for `npm run bench`.
 */
import { cpus, loadavg } from 'node:os';
import { invokePath } from './deployment.js';
import { roundPlanFromEnvironment } from './interleaved-rounds.js';
import { CONNECTIONS, REQUEST_BODY } from './load-round.js';
import { processTreeCpuMicros } from './process-cpu.js';
import { formatSpeedups } from './report.js';
import { type ServerProcess, runBenchmark } from './server-process.js';
import { startServerfull } from './serverfull-process.js';
import { installServerlessOffline } from './serverless-offline-install.js';
import { OFFLINE_ECHO_FUNCTION, startServerlessOffline, type OfflineMode, type ServerlessOffline } from './serverless-offline-process.js';
import { measureVariants, printThroughput, startBaseline, startGateway, type Variant } from './throughput-variants.js';

/** The gateway route of `bench/fixtures/gateway.json` and `bench/fixtures/peers/serverless.yml`. */
const GATEWAY_PATH = '/echo';

/** Each isolation of serverfull's next to serverless-offline's nearest one. */
const COUNTERPARTS = [['inline', 'in-process'], ['worker', 'worker-threads']] as const;

/** The load average over the last minute, as `uptime` shows it: how busy the shared machine was. */
const load = () => loadavg()[0]!.toFixed(2);

async function main(): Promise<void> {
  const plan = { ...roundPlanFromEnvironment(), cpu: processTreeCpuMicros };
  const { serverlessBin, versions } = await installServerlessOffline();

  // One serverless-offline server per mode serves both its Invoke and its gateway variant.
  const offline = new Map<OfflineMode, Promise<ServerlessOffline>>();
  const startOffline = (mode: OfflineMode) => {
    if (!offline.has(mode)) offline.set(mode, startServerlessOffline(serverlessBin, mode));
    return offline.get(mode)!;
  };
  const offlineLabel = (mode: OfflineMode) => `serverless-offline ${mode.replace('-', ' ')}`;

  const variants: Variant[] = [
    { label: 'baseline node:http', start: startBaseline, path: '/' },
    ...(['inline', 'worker', 'process'] as const).map((isolation): Variant =>
      ({ label: `Invoke: serverfull ${isolation}`, start: () => startServerfull('serverfull.json', isolation), path: invokePath('echo') })),
    ...COUNTERPARTS.map(([, mode]): Variant =>
      ({ label: `Invoke: ${offlineLabel(mode)}`, start: async () => (await startOffline(mode)).invoke, path: invokePath(OFFLINE_ECHO_FUNCTION) })),
    ...COUNTERPARTS.map(([isolation]): Variant =>
      ({ label: `gateway: serverfull ${isolation}`, start: () => startGateway(isolation), path: GATEWAY_PATH })),
    ...COUNTERPARTS.map(([, mode]): Variant =>
      ({ label: `gateway: ${offlineLabel(mode)}`, start: async () => (await startOffline(mode)).http, path: GATEWAY_PATH })),
  ];

  console.log(`serverfull next to serverless-offline, ${new Date().toISOString()}`);
  console.log(`node ${process.version}, ${versions}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), load average ${load()} at the start`);
  console.log(`load: autocannon, ${CONNECTIONS} connections, POST ${REQUEST_BODY}, ${plan.rounds} round(s) x ${plan.duration} s per variant, rounds interleaved, ${plan.warmup} s unmeasured warm-up each; the median round by req/s is reported`);
  console.log('every server runs the echo of bench/fixtures/echo.mjs in its own child process, stdout discarded; serverfull with --log-level warn; serverless-offline with SLS_LOG_LEVEL=warning, --noTimeout and --terminateIdleLambdaTime 300');
  console.log('Invoke: POST /2015-03-31/functions/NAME/invocations; gateway: POST /echo through an HTTP API route (payload 2.0), the echo wrapped in a proxy response; the baseline answers the echo at any path');
  console.log('CPU: user + system time of the server\'s whole process tree, from /proc');
  console.log('');

  const servers: ServerProcess[] = [];
  try {
    const throughput = await measureVariants(variants, servers, plan);
    printThroughput(throughput);
    console.log('');
    console.log('serverfull over serverless-offline, same rounds:');
    console.log(formatSpeedups(throughput.rows, ['Invoke', 'gateway'].flatMap((api) => COUNTERPARTS.map(([isolation, mode]) =>
      ({ variant: `${api}: serverfull ${isolation}`, comparedWith: `${api}: ${offlineLabel(mode)}` })))));
    console.log(`load average ${load()} at the end`);
  } finally {
    // A serverless-offline server is in the list twice, once per origin; stopping it twice is harmless.
    await Promise.all(servers.map((server) => server.stop()));
  }
}

await runBenchmark(main);
