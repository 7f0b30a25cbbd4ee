/**
 * @module lambda/start-lambda
 * Lambda mode: this process becomes the execution environment of one declared function,
 * serving invocations from the Runtime API AWS gives it (`AWS_LAMBDA_RUNTIME_API`), as when
 * the app is deployed as a `provided.al2023` function or a container image.
 */
import { ConfigError } from '../config/config-error.js';
import { loadDefinition, type TypedDeclarationOptions } from '../declared-functions.js';
import { loadHandler } from '../handler/handler-loader.js';
import { logGroupName, newLogStreamName } from '../handler/lambda-environment.js';
import type { FunctionDefinition } from '../registry/function-definition.js';
import { runsAsProcessOnly } from '../registry/runtimes.js';
import { mockOutput } from '../runtime/mock-output.js';
import { identityFromEnvironment } from '../runtime-client/environment-identity.js';
import { startRuntimeLoop, type RuntimeFunction, type RuntimeLoopEnd } from '../runtime-client/runtime-loop.js';

/** Options of `startLambda()`: the declarations as for `serve()`, the function to run, and the Runtime API. */
export interface LambdaOptions extends TypedDeclarationOptions {
  /** Name of the declared function this process runs. */
  readonly functionName: string;
  /** `host:port` of the Runtime API; default: the `AWS_LAMBDA_RUNTIME_API` variable AWS sets. */
  readonly runtimeApi?: string;
}

/** A function served in lambda mode. */
export interface RunningLambda {
  /** The function, as declared (its `mock` setting applied). */
  readonly definition: FunctionDefinition;
  /** Settles (never rejects) when the loop ends: `stopped`, `init-failed`, or `api-failed`, with the exit code AWS's runtime would use. */
  readonly ended: Promise<RuntimeLoopEnd>;
  /** Ends the loop; an invocation in flight first finishes and answers. In AWS nothing calls it: the loop runs until the environment is shut down. */
  stop(): Promise<void>;
}

/**
 * Starts serving one function from the Runtime API in this process: console output becomes
 * the function's log, and an uncaught exception or unhandled rejection in the function ends
 * the process (exit 129 / 128) once its error is posted, as in AWS. Throws `ConfigError` for
 * invalid declarations, an unknown function, or no Runtime API.
 */
export async function startLambda(options: LambdaOptions): Promise<RunningLambda> {
  const { functionName, runtimeApi: givenApi, ...declaration } = options;
  const runtimeApi = givenApi ?? process.env.AWS_LAMBDA_RUNTIME_API;
  if (!runtimeApi) throw new ConfigError('lambda mode needs the Runtime API: AWS_LAMBDA_RUNTIME_API is not set (AWS sets it; locally give runtimeApi or set the variable)');
  if (!functionName) throw new ConfigError('lambda mode needs the name of the function to run (--function NAME)');
  const definition = loadDefinition(declaration, functionName);
  const mocked = definition.mock !== undefined && definition.mock !== false;
  if (!mocked && runsAsProcessOnly(definition.runtime)) {
    throw new ConfigError(`function "${functionName}" has runtime ${definition.runtime}: lambda mode runs Node.js handlers (AWS runs a custom runtime's bootstrap, and Python handlers, itself)`);
  }

  // The environment is what AWS gave the process; the declaration only fills in what is not set.
  for (const [key, value] of Object.entries(definition.environment)) {
    if (process.env[key] === undefined) process.env[key] = value;
  }
  const loop = startRuntimeLoop({
    runtimeApi,
    identity: identityFromEnvironment(process.env, {
      functionName: definition.name,
      functionVersion: definition.version,
      memorySize: definition.memorySize,
      logGroupName: logGroupName(definition.name),
      logStreamName: newLogStreamName(definition.version),
    }),
    function: runtimeFunction(definition),
  });
  const ended = loop.ended.then((end) => {
    // The function's process is the environment: after an uncaught error AWS does not reuse it.
    if (end.reason === 'crashed') process.exit(end.exitCode);
    return end;
  });
  return { definition, ended, stop: async () => void (await loop.stop()) };
}

/** A mocked function answers its declaration without loading code; any other loads its handler at init. */
function runtimeFunction(definition: FunctionDefinition): RuntimeFunction {
  const { mock, handler, root } = definition;
  if (mock) return { answer: () => mockOutput(mock) };
  return { init: async () => (typeof handler === 'string' ? loadHandler(root, handler) : handler) };
}
