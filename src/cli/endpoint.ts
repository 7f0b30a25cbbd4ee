/**
 * @module cli/endpoint
 * Which server the client commands (`invoke`, `deploy`) talk to, and how they reach it: one
 * lookup, one help line and one SDK client, so that every command finds the same server the
 * same way and reports its failures in the same words.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';

/** Where `serverfull start` listens when given no host or port. */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080';

/** The `--endpoint` line of a client command's help text. */
export const ENDPOINT_OPTION_HELP = `  --endpoint URL          server to call (SERVERFULL_ENDPOINT; default ${DEFAULT_ENDPOINT})`;

/** The server URL from `--endpoint`, else `SERVERFULL_ENDPOINT`, else the default; without a trailing slash so paths can be appended. */
export function resolveEndpoint(flag: string | undefined): string {
  return (flag ?? process.env.SERVERFULL_ENDPOINT ?? DEFAULT_ENDPOINT).replace(/\/$/, '');
}

/** An SDK client for the server, and the one-line description of its failures. */
export interface ServerConnection {
  readonly client: LambdaClient;
  /** `<ErrorType>: <message>` for a service error; "cannot reach ..." when no server answered. */
  readonly describe: (error: unknown) => string;
}

/**
 * Loads the SDK (only the commands that call a server pay for it) and builds its client for `endpoint`.
 * Release it with `client.destroy()`.
 */
export async function connect(endpoint: string): Promise<ServerConnection> {
  // The SDK warns on stderr, once per process, that its releases after January 2027 need Node.js 22:
  // news for whoever upgrades serverfull's dependencies, noise in a command's one-line output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { sdkClient, describeSdkError } = await import('../sdk-client.js');
  return { client: sdkClient(endpoint), describe: (error) => describeSdkError(error, endpoint) };
}
