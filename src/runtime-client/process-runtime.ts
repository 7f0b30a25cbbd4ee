/**
 * @module runtime-client/process-runtime
 * Entry point of a process execution environment: the child the server spawns with the
 * function's Lambda environment. Loads `_HANDLER` from `LAMBDA_TASK_ROOT` (the init
 * phase), then serves invocations from `AWS_LAMBDA_RUNTIME_API` until the process ends.
 */
import { loadHandler } from '../handler/handler-loader.js';
import { RUNTIME_CHANNEL_FD_VARIABLE } from '../runtime-api/runtime-frames.js';
import { identityFromEnvironment } from './environment-identity.js';
import { startRuntimeLoop } from './runtime-loop.js';

const { AWS_LAMBDA_RUNTIME_API: runtimeApi, LAMBDA_TASK_ROOT: root = process.cwd(), _HANDLER: handler = '' } = process.env;
// serverfull's private channel, when it gave one; the function's own environment does not carry it.
const channel = process.env[RUNTIME_CHANNEL_FD_VARIABLE];
delete process.env[RUNTIME_CHANNEL_FD_VARIABLE];

if (!runtimeApi) {
  process.stderr.write('serverfull runtime: AWS_LAMBDA_RUNTIME_API is not set\n');
  process.exit(1);
}

const loop = startRuntimeLoop({
  runtimeApi,
  channelFd: channel === undefined ? undefined : Number(channel),
  identity: identityFromEnvironment(process.env),
  // A missing or malformed _HANDLER is an init error, reported like any other.
  function: { init: () => loadHandler(root, handler) },
});
const end = await loop.ended;
if (end.reason === 'api-failed') process.stderr.write(`serverfull runtime: ${end.message}\n`);
process.exit(end.exitCode);
