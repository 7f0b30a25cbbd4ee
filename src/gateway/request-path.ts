/**
 * @module gateway/request-path
 * A request path made safe to route: dot segments (`.`, `..`, also percent-encoded as `%2e`, any
 * case) are resolved as RFC 3986's remove_dot_segments does, as a normalising front door does
 * before API Gateway routes the request, so that `/public/../admin` is routed as `/admin` (with
 * `/admin`'s authorizer) and never reaches `/public/{proxy+}` with `..` in its parameter. A
 * segment that would be a dot segment with backslashes read as separators (`..\admin`,
 * `%2e%2e%5cadmin`) is refused outright: backends that read `\` as `/` would see a traversal.
 */

const ENCODED_DOT = /%2e/gi;
const ENCODED_BACKSLASH = /%5c/gi;

/**
 * The path to route: `path` itself when it holds no dot segment, else the path with them resolved
 * (never above the root). Undefined when the path must not be routed at all.
 */
export function normaliseRequestPath(path: string): string | undefined {
  // The common case costs three scans and no allocation.
  if (!path.includes('.') && !path.includes('%') && !path.includes('\\')) return path;
  const segments = path.split('/');
  const kept: string[] = [];
  let changed = false;
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const decoded = segment.includes('%') ? segment.replace(ENCODED_DOT, '.') : segment;
    const last = i === segments.length - 1;
    if (decoded === '.' || decoded === '..') {
      changed = true;
      if (decoded === '..') kept.pop();
      // `/a/b/..` is `/a/`: a dot segment at the end leaves the trailing slash.
      if (last) kept.push('');
      continue;
    }
    const withBackslashes = decoded.includes('%') ? decoded.replace(ENCODED_BACKSLASH, '\\') : decoded;
    if (withBackslashes.includes('\\') && withBackslashes.split('\\').some((part) => part === '.' || part === '..')) return undefined;
    kept.push(segment);
  }
  return changed ? `${segments[0]}/${kept.join('/')}` : path;
}
