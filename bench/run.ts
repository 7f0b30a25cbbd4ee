/**
 * @module bench/run
 * `npm run bench`: serverfull's throughput next to a bare node:http server running the same
 * handler under the same load (inline, worker and process isolation, process also without freezing between invocations), then worker
 * and process cold starts, deploy-to-first-invoke latency,
 * invocations through an alias next to $LATEST, and requests through the API Gateway emulation
 * next to the baseline. On a shared machine absolute numbers drift from run to run; the ratios to
 * the reference measured in the same run are what matter.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { measureColdStarts } from './cold-start.js';
import { baselineDeployTarget, deployWithAlias, invokePath, measureDeployments, serverfullDeployTarget } from './deployment.js';
import { roundPlanFromEnvironment, runInterleavedRounds } from './interleaved-rounds.js';
import { CONNECTIONS, REQUEST_BODY } from './load-round.js';
import { formatColdStarts, formatDeployments } from './report.js';
import { REPO_ROOT } from './repo-root.js';
import { type ServerProcess, runBenchmark } from './server-process.js';
import { startServerfull } from './serverfull-process.js';
import { measureVariants, printThroughput, startBaseline, startGateway, type Variant } from './throughput-variants.js';

const COLD_START_FUNCTIONS = Array.from({ length: 15 }, (_, index) => `echo${index + 1}`);
const COLD_START_TARGET_P50_MS = 50;
/** The acceptance bar for a process environment's cold start: spawning Node.js and its runtime client. */
const PROCESS_COLD_START_TARGET_P50_MS = 150;
const INVOKE_PATH = invokePath('echo');
const DEPLOYMENTS = 20;
const ALIAS_FUNCTION = 'echo-alias';
/** The acceptance bar: requests through an alias cost less than 5% of throughput. */
const ALIAS_TARGET = 0.95;
/** Issue 16's bar for every mode: a p99 latency at most twice the baseline's. */
const P99_WITHIN = 2;
/** Issue 16's targets (sandboxed process environments: the sandbox's issue). */
const INLINE_TARGET = { ratio: 0.9, p99Within: P99_WITHIN };
const WORKER_TARGET = { ratio: 0.5, p99Within: P99_WITHIN };
const SANDBOXED_PROCESS_TARGET = { ratio: 0.3, p99Within: P99_WITHIN };
const UNSANDBOXED_PROCESS_TARGET = { ratio: 0.35, p99Within: P99_WITHIN };
const GATEWAY_INLINE_TARGET = { ratio: 0.75, p99Within: P99_WITHIN };
const GATEWAY_WORKER_TARGET = { ratio: 0.4, p99Within: P99_WITHIN };
/** The server's internal switch that keeps sandboxed environments thawed between invocations. */
const NO_FREEZE = { SERVERFULL_SANDBOX_FREEZE: 'off' };
/** The gateway route of `bench/fixtures/gateway.json`. */
const GATEWAY_PATH = '/echo';

/**
 * The other supported Node.js to compare with (22 when running on 24, and the reverse):
 * `BENCH_COMPARE_NODE`, else the build `scripts/install-node.sh` put in `.node/`; none, no comparison.
 */
function comparisonNode(): { node: string; version: string } | undefined {
  const other = process.versions.node.startsWith('22.') ? '24' : '22';
  const node = process.env.BENCH_COMPARE_NODE || join(REPO_ROOT, '.node', other, 'bin/node');
  if (process.env.BENCH_COMPARE_NODE === 'none' || !existsSync(node)) return undefined;
  return { node, version: execFileSync(node, ['--version'], { encoding: 'utf8' }).trim() };
}

async function main(): Promise<void> {
  const { warmup, duration, rounds } = roundPlanFromEnvironment();
  const variants: Variant[] = [
    { label: 'baseline node:http', start: startBaseline, path: '/' },
    { label: 'serverfull inline', target: INLINE_TARGET, start: () => startServerfull('serverfull.json', 'inline'), path: INVOKE_PATH },
    { label: 'serverfull worker', target: WORKER_TARGET, start: () => startServerfull('serverfull.json', 'worker'), path: INVOKE_PATH },
    // Sandboxed where the host allows it (bubblewrap and cgroups), as `serverfull start` runs process environments by default.
    { label: 'serverfull process', target: SANDBOXED_PROCESS_TARGET, start: () => startServerfull('serverfull.json', 'process'), path: INVOKE_PATH },
    { label: 'serverfull process, unsandboxed', target: UNSANDBOXED_PROCESS_TARGET, start: () => startServerfull('serverfull.json', 'process', ['--sandbox', 'off']), path: INVOKE_PATH },
    // What freezing a sandboxed environment between invocations costs (the row above freezes, where the host sandboxes).
    { label: 'serverfull process, no freeze', start: () => startServerfull('serverfull.json', 'process', [], undefined, NO_FREEZE), path: INVOKE_PATH },
    // Lambda's scaling, an environment per concurrent invocation, against the default measured scaling of the rows above.
    { label: 'serverfull worker, eager scaling', start: () => startServerfull('serverfull.json', 'worker', ['--scaling', 'eager']), path: INVOKE_PATH },
    { label: 'serverfull process, eager scaling', start: () => startServerfull('serverfull.json', 'process', ['--scaling', 'eager']), path: INVOKE_PATH },
  ];
  // The same servers on the other Node.js, in the same rounds: ratios still to this Node.js's baseline.
  const other = comparisonNode();
  if (other !== undefined) {
    variants.push(
      { label: `baseline node:http, ${other.version}`, start: () => startBaseline(other.node), path: '/' },
      ...(['inline', 'worker', 'process'] as const).map((isolation): Variant => (
        { label: `serverfull ${isolation}, ${other.version}`, start: () => startServerfull('serverfull.json', isolation, [], other.node), path: INVOKE_PATH })),
    );
  }

  console.log(`serverfull benchmark, ${new Date().toISOString()}`);
  console.log(`node ${process.version}${other === undefined ? '' : ` (and ${other.version} for comparison, in the same rounds)`}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'})`);
  console.log(`load: autocannon, ${CONNECTIONS} connections, POST ${REQUEST_BODY}, ${rounds} round(s) x ${duration} s per variant, rounds interleaved, ${warmup} s unmeasured warm-up each; the median round by req/s is reported`);
  console.log('each server runs in its own child process with stdout discarded; serverfull runs with --log-level warn (no request log lines), the baseline does not log either');
  console.log('');

  const servers: ServerProcess[] = [];
  const stopAll = () => Promise.all(servers.splice(0).map((server) => server.stop()));
  try {
    printThroughput(await measureVariants(variants, servers, { warmup, duration, rounds }), { rounds: false });
    console.log('');

    // Stopped first so that idle servers of one measurement do not disturb the next.
    await stopAll();
    for (const [isolation, target] of [['worker', COLD_START_TARGET_P50_MS], ['process', PROCESS_COLD_START_TARGET_P50_MS]] as const) {
      const coldServer = await startServerfull('cold-start.json', isolation);
      servers.push(coldServer);
      console.log(formatColdStarts(await measureColdStarts(coldServer.url, COLD_START_FUNCTIONS), target, isolation));
      console.log('');
      await stopAll();
    }

    // Deployed code runs in worker threads here, as the alias table's labels say (by default it runs sandboxed in a process,
    // whose cold start the table above measures).
    const deployServer = await startServerfull('serverfull.json', 'worker', ['--deployed-isolation', 'worker']);
    const deployBaseline = await startBaseline();
    servers.push(deployServer, deployBaseline);
    const deployments = await measureDeployments([serverfullDeployTarget(deployServer.url), baselineDeployTarget(deployBaseline.url)], DEPLOYMENTS);
    console.log(formatDeployments(deployments, ['serverfull', 'baseline']));
    console.log('');

    // Shorter, more rounds than above, to keep the run short: both variants hit the same server,
    // so the two take turns more often and drift cancels out better.
    await deployBaseline.stop();
    const aliasPlan = { warmup, duration: duration / 2, rounds: rounds + 1 };
    await deployWithAlias(deployServer.url, ALIAS_FUNCTION, 'live');
    const alias = await runInterleavedRounds([
      { label: 'worker $LATEST', url: deployServer.url + invokePath(ALIAS_FUNCTION), pid: deployServer.pid },
      { label: 'worker alias live -> 1', url: deployServer.url + invokePath(`${ALIAS_FUNCTION}:live`), pid: deployServer.pid, target: { ratio: ALIAS_TARGET } },
    ], aliasPlan);
    printThroughput(alias, {
      heading: `invocations of a deployed function through an alias vs unqualified ($LATEST), same server, same load; ${aliasPlan.rounds} round(s) x ${aliasPlan.duration} s each, interleaved, ${warmup} s unmeasured warm-up each; the median round by req/s is reported:`,
      reference: '$LATEST',
    });
    console.log('');

    // Shorter rounds than the first table, as for the aliases, to keep the run about a minute longer.
    await stopAll();
    const gatewayPlan = { warmup, duration: duration / 2, rounds };
    const gateway = await measureVariants([
      { label: 'baseline node:http', start: startBaseline, path: '/' },
      { label: 'gateway inline', target: GATEWAY_INLINE_TARGET, start: () => startGateway('inline'), path: GATEWAY_PATH },
      { label: 'gateway worker', target: GATEWAY_WORKER_TARGET, start: () => startGateway('worker'), path: GATEWAY_PATH },
    ], servers, gatewayPlan);
    printThroughput(gateway, {
      heading: `API Gateway (HTTP API, payload 2.0): POST ${GATEWAY_PATH} through the gateway port to the echo wrapped in a proxy response, vs the baseline's echo; same load; ${gatewayPlan.rounds} round(s) x ${gatewayPlan.duration} s each, interleaved, ${warmup} s unmeasured warm-up each; the median round by req/s is reported:`,
    });
  } finally {
    await stopAll();
  }
}

await runBenchmark(main);
