/**
 * @module http/amz-target
 * The operation an AWS JSON 1.1 request names in its `X-Amz-Target` header (`<Service prefix><Operation>`),
 * read from the raw headers: authentication looks at it before any route is chosen.
 */

/** The operation after `prefix` in the request's `X-Amz-Target` (from `rawHeaders`), or undefined when it names another service or none. */
export function targetOperationOf(rawHeaders: readonly string[], prefix: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length !== 12 || rawHeaders[i]!.toLowerCase() !== 'x-amz-target') continue;
    const target = rawHeaders[i + 1]!;
    return target.startsWith(prefix) ? target.slice(prefix.length) : undefined;
  }
  return undefined;
}
