/**
 * @module handler/function-access
 * How a function's own code reaches serverfull, as code in AWS Lambda reaches AWS: the SDKs read
 * the service endpoint from `AWS_ENDPOINT_URL_LAMBDA` and the credentials of the function's role
 * from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, so
 * `new LambdaClient({})` in a handler calls this server with no code change.
 */
import type { FunctionDefinition } from '../registry/function-definition.js';
import type { ParameterResolver } from './dynamic-references.js';

/** Temporary credentials, as STS issues them for a role. */
export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** What one execution environment is given to call serverfull's Lambda APIs. */
export interface FunctionAccess extends TemporaryCredentials {
  /** The Lambda APIs' endpoint, e.g. `http://127.0.0.1:8080`. */
  readonly endpoint: string;
  /** The port of the Parameters and Secrets extension's interface on loopback, when it is served. */
  readonly parametersPort?: number;
  /** Reads parameters as this environment's function, for `{{resolve:ssm:...}}` in its environment variables. */
  readonly resolveParameter?: ParameterResolver;
}

/** Gives each new execution environment of `definition` its access; called once per environment. */
export type FunctionAccessProvider = (definition: FunctionDefinition) => FunctionAccess | undefined;

/** The address a function on this machine reaches a server bound to `host` at: loopback for a wildcard bind. */
export function localEndpoint(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
