/**
 * @module cli/endpoint
 * Which server the client commands (`invoke`, `deploy`) talk to: one lookup and one help
 * line, so that every command finds the same server the same way.
 */

/** Where `serverfull start` listens when given no host or port. */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080';

/** The `--endpoint` line of a client command's help text. */
export const ENDPOINT_OPTION_HELP = `  --endpoint URL          server to call (SERVERFULL_ENDPOINT; default ${DEFAULT_ENDPOINT})`;

/** The server URL from `--endpoint`, else `SERVERFULL_ENDPOINT`, else the default; without a trailing slash so paths can be appended. */
export function resolveEndpoint(flag: string | undefined): string {
  return (flag ?? process.env.SERVERFULL_ENDPOINT ?? DEFAULT_ENDPOINT).replace(/\/$/, '');
}
