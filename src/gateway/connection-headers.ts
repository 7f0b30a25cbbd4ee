/**
 * @module gateway/connection-headers
 * The response headers that belong to a connection rather than to a response: framing
 * (`Content-Length`, `Transfer-Encoding`, `Trailer`) and hop-by-hop ones (`Connection`,
 * `Keep-Alive`, `Upgrade`, `Proxy-Connection`, `TE`). API Gateway owns the connection to the
 * client, so a function's own values are dropped and the gateway frames the body itself:
 * Express and Fastify adapters send a `Content-Length`, and a second one makes Node's `fetch`
 * and `http` refuse the whole response.
 */

/** Lower-case names, grouped by length so that most names are ruled out without a comparison. */
const BY_LENGTH: readonly (readonly string[] | undefined)[] = (() => {
  const groups: string[][] = [];
  for (const name of ['connection', 'content-length', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']) {
    (groups[name.length] ??= []).push(name);
  }
  return groups;
})();

/** Compares without lower-casing `name` first: this runs for every header of every response. */
function equalsLowerCase(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let code = name.charCodeAt(i);
    if (code >= 65 && code <= 90) code += 32;
    if (code !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** True for a header the gateway decides itself and a function's value must not reach the client (any case). */
export function isConnectionHeader(name: string): boolean {
  const candidates = BY_LENGTH[name.length];
  if (candidates === undefined) return false;
  for (const candidate of candidates) if (equalsLowerCase(name, candidate)) return true;
  return false;
}
