/**
 * @module runtime-client/environment-identity
 * An execution environment's identity as a runtime learns it: from the variables Lambda
 * sets (`AWS_LAMBDA_FUNCTION_NAME`, ...), with defaults for the ones a local run lacks.
 */
import type { EnvironmentIdentity } from '../handler/lambda-context.js';

/** The identity `env` describes; `defaults` fill in what it does not set. */
export function identityFromEnvironment(env: NodeJS.ProcessEnv, defaults: Partial<EnvironmentIdentity> = {}): EnvironmentIdentity {
  const functionName = env.AWS_LAMBDA_FUNCTION_NAME || defaults.functionName || '';
  const memorySize = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return {
    functionName,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION || defaults.functionVersion || '$LATEST',
    memorySize: Number.isInteger(memorySize) && memorySize > 0 ? memorySize : defaults.memorySize ?? 128,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME || defaults.logGroupName || `/aws/lambda/${functionName}`,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME || defaults.logStreamName || '',
  };
}
