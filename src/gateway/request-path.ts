/**
 * @module gateway/request-path
 * A request path made safe to route: dot segments (`.`, `..`, also percent-encoded as `%2e`, any
 * case) are resolved as RFC 3986's remove_dot_segments does, as a normalising front door does
 * before API Gateway routes the request, so that `/public/../admin` is routed as `/admin` (with
 * `/admin`'s authorizer) and never reaches `/public/{proxy+}` with `..` in its parameter. A
 * segment that hides a dot segment behind an encoded slash or a backslash (`..%2fadmin`,
 * `..\admin`, `%2e%2e%5cadmin`) is refused outright: its decoded path parameter, or a backend
 * that reads `\` as `/`, would see a traversal.
 */
import { decodeUriComponentSafely } from '../values.js';

const SEPARATORS = /[/\\]/;

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
    // A malformed escape cannot decode to a dot: the segment is read as it is.
    const decoded = decodeUriComponentSafely(segment) ?? segment;
    if (decoded === '.' || decoded === '..') {
      changed = true;
      if (decoded === '..') kept.pop();
      // `/a/b/..` is `/a/`: a dot segment at the end leaves the trailing slash.
      if (i === segments.length - 1) kept.push('');
      continue;
    }
    if (SEPARATORS.test(decoded) && decoded.split(SEPARATORS).some((part) => part === '.' || part === '..')) return undefined;
    kept.push(segment);
  }
  return changed ? `${segments[0]}/${kept.join('/')}` : path;
}
