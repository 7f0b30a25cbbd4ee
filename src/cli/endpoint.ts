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

/** `fetch` to the server; when it cannot be reached, fails with a message saying so (fetch itself says only "fetch failed"). */
export async function callServer(endpoint: string, path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(`${endpoint}${path}`, init);
  } catch (error) {
    // The reason (ECONNREFUSED, ENOTFOUND...) is in the error's cause.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new Error(`cannot reach ${endpoint} (${reason}): is the server running? (serverfull start)`);
  }
}
