/**
 * @module handler/lambda-environment
 * The environment variables an AWS Node.js runtime sets, built explicitly per environment:
 * nothing of the server's own `process.env` leaks in but `PATH`.
 */
import { randomBytes } from 'node:crypto';
import type { FunctionDefinition } from '../registry/function-definition.js';
import type { FunctionAccess } from './function-access.js';
import { isCustomRuntime } from '../registry/runtimes.js';
import { hasDynamicReferences, resolveDynamicReferences } from './dynamic-references.js';

/** The identity of one execution environment: its log stream, as CloudWatch would name it. */
export function newLogStreamName(version: string, now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[${version}]${randomBytes(16).toString('hex')}`;
}

/** `/aws/lambda/NAME`, the log group of a function. */
export function logGroupName(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}

/**
 * The full environment of one execution environment of `definition`; `access` lets its code call serverfull, and
 * resolves `{{resolve:ssm:...}}` in its variables (throwing `DynamicReferenceError` for one it cannot).
 */
export function lambdaEnvironment(
  definition: FunctionDefinition,
  region: string,
  logStreamName: string,
  access?: FunctionAccess,
): Record<string, string> {
  const handler = typeof definition.handler === 'string' ? definition.handler : 'inline.handler';
  const environment: Record<string, string> = {
    // The function's own configuration may point its SDK elsewhere (real AWS, say): it wins.
    // The Parameter Store and topics are served on the same port: `new SSMClient({})` and `new SNSClient({})` reach them too.
    ...(access === undefined ? {} : { AWS_ENDPOINT_URL_LAMBDA: access.endpoint, AWS_ENDPOINT_URL_SSM: access.endpoint, AWS_ENDPOINT_URL_SNS: access.endpoint }),
    ...(access?.resolveParameter !== undefined && hasDynamicReferences(definition.environment)
      ? resolveDynamicReferences(definition.environment, access.resolveParameter)
      : definition.environment),
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${definition.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: definition.name,
    AWS_LAMBDA_FUNCTION_VERSION: definition.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(definition.memorySize),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: logGroupName(definition.name),
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
    _HANDLER: handler,
    LAMBDA_TASK_ROOT: definition.root,
    LAMBDA_RUNTIME_DIR: definition.root,
    // Reserved names: a function's configuration cannot set them.
    ...(access === undefined ? {} : {
      AWS_ACCESS_KEY_ID: access.accessKeyId,
      AWS_SECRET_ACCESS_KEY: access.secretAccessKey,
      AWS_SESSION_TOKEN: access.sessionToken,
    }),
    // Where the extension's interface is: the server decides, whatever the function's configuration says.
    ...(access?.parametersPort === undefined ? {} : { PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(access.parametersPort) }),
  };
  // Lambda sets no AWS_EXECUTION_ENV for OS-only runtimes.
  if (isCustomRuntime(definition.runtime)) delete environment.AWS_EXECUTION_ENV;
  return environment;
}
