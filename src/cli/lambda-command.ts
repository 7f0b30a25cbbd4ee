/**
 * @module cli/lambda-command
 * `serverfull lambda`: run one declared function as this process's Lambda runtime, pulling
 * invocations from `AWS_LAMBDA_RUNTIME_API` until the environment is shut down.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { startLambda } from '../lambda/start-lambda.js';
import { DECLARATION_FLAGS, declarationSources } from './declaration-flags.js';

/** Help text of `serverfull lambda`. */
export const LAMBDA_HELP = `Usage: serverfull lambda --function NAME [options]

Runs one function of a serverfull.json manifest (or SAM template) as the Lambda runtime of
this process: the entry point of a provided.al2023 function or a container image. It serves
invocations from the Runtime API at AWS_LAMBDA_RUNTIME_API, which AWS sets.

Options (each also read from the environment variable shown; flags win):
  --function NAME         the declared function to run (SERVERFULL_FUNCTION)
  --runtime-api HOST:PORT the Runtime API (AWS_LAMBDA_RUNTIME_API)
${DECLARATION_FLAGS.help}
  -h, --help              this text

Exit codes: 1 when init fails or the Runtime API cannot be reached, 129 after an uncaught
exception, 128 after an unhandled rejection, 2 for a configuration error.
`;

/** Runs `serverfull lambda`; exits the process with the loop's exit code once the loop has ended. */
export async function lambdaCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...DECLARATION_FLAGS.options,
      function: { type: 'string' },
      'runtime-api': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(LAMBDA_HELP);
    return 0;
  }
  const functionName = values.function ?? process.env.SERVERFULL_FUNCTION;
  if (!functionName) throw new ConfigError('lambda needs --function NAME (see serverfull lambda --help)');
  const lambda = await startLambda({ ...declarationSources(values), functionName, runtimeApi: values['runtime-api'] });
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1);
    stopping = true;
    void lambda.stop();
  };
  process.once('SIGTERM', stop);
  process.on('SIGINT', stop);
  const end = await lambda.ended;
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  if (end.reason === 'init-failed') process.stderr.write(`serverfull: ${functionName}: init failed: ${end.error.errorType}: ${end.error.errorMessage}\n`);
  if (end.reason === 'api-failed') process.stderr.write(`serverfull: ${functionName}: ${end.message}\n`);
  // The process was the environment: timers or sockets user code left behind must not keep it alive.
  process.exit(end.exitCode);
}
