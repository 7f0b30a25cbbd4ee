/**
 * @module api/browser-guard
 * Keeps web pages away from the Lambda APIs. A page the developer opens can send requests to
 * 127.0.0.1 (a `no-cors` POST with a `text/plain` body needs no preflight) and, through DNS
 * rebinding, make its own origin's name point here. The SDKs, the `aws` CLI and curl send no
 * `Origin` and name the server by the address they connect to; browsers add `Origin` (and
 * `Sec-Fetch-Site`) to such requests and keep the page's host name in `Host`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { AwsError } from '../errors.js';
import type { RequestHook } from '../http/request-hooks.js';

/** Who may reach the Lambda APIs from a browser, and under which names the server may be addressed. */
export interface BrowserPolicy {
  /** Origins (`scheme://host[:port]`) whose pages may call the APIs; none by default. */
  readonly allowedOrigins: readonly string[];
  /** Host names besides loopback ones and the bound host that requests may name in `Host`. */
  readonly allowedHosts: readonly string[];
  /** The address the server is bound to: a request naming it is not a rebinding. */
  readonly boundHost: string;
}

/** The `beforeBody` hook of the Lambda APIs: a request from a web page is refused before its body is read. */
export function browserGuard(policy: BrowserPolicy): RequestHook {
  /** The last `Host` header found allowed: the policy does not change, so the same value is allowed again. */
  let allowedHost: string | undefined;
  return (request) => {
    // Most requests (SDKs, the CLI) bring no browser header and the same Host each time: checked from `rawHeaders`,
    // without making Node build `request.headers`. Anything else takes the full check, on the headers as Node merges them.
    const host = plainRequestHost(request.rawHeaders);
    if (host !== undefined && host === allowedHost) return undefined;
    const refusal = browserRefusal(host === undefined ? request.headers : { host }, policy);
    if (refusal === undefined && host !== undefined) allowedHost = host;
    return refusal === undefined ? undefined : new AwsError('AccessDeniedException', refusal);
  };
}

/**
 * The `Host` of a request with no `Origin` and no `Sec-Fetch-Site` header and exactly one `Host`; undefined for any
 * other, whose headers need Node's merging (a repeated `Origin` is joined, a repeated `Host` is not).
 */
function plainRequestHost(raw: readonly string[]): string | undefined {
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Only names of the right length are lower-cased and compared.
    switch (name.length) {
      case 4:
        if (name.toLowerCase() !== 'host') break;
        if (host !== undefined) return undefined;
        host = raw[i + 1];
        break;
      case 6:
        if (name.toLowerCase() === 'origin') return undefined;
        break;
      case 14:
        if (name.toLowerCase() === 'sec-fetch-site') return undefined;
        break;
    }
  }
  return host;
}

/** Why a request must be refused as coming from a web page, or undefined when it may go on. */
export function browserRefusal(headers: IncomingHttpHeaders, policy: BrowserPolicy): string | undefined {
  const { origin } = headers;
  if (origin !== undefined) {
    if (!policy.allowedOrigins.includes(origin)) return `requests from web pages (Origin ${origin}) are refused; allow the origin with --allowed-origins`;
  } else {
    // Without Origin (a no-cors GET, say), the browser still says where the request comes from.
    const site = headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') return 'requests from other web sites are refused; allow their origin with --allowed-origins';
  }
  const host = hostName(headers.host);
  if (host === undefined) return 'a request without a valid Host header is refused';
  if (!isLoopbackName(host) && host !== policy.boundHost.toLowerCase() && !policy.allowedHosts.some((allowed) => allowed.toLowerCase() === host)) {
    return `requests naming the server ${host} are refused; allow the name with --allowed-hosts`;
  }
  return undefined;
}

/** The host part of a `Host` header, lower-case, without its port or IPv6 brackets; undefined when malformed. */
function hostName(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  const text = header.toLowerCase();
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0 || (end + 1 < text.length && !/^:\d+$/.test(text.slice(end + 1)))) return undefined;
    return text.slice(1, end);
  }
  const match = /^([^:]+)(?::\d+)?$/.exec(text);
  return match?.[1];
}

/** Loopback names and addresses: nothing a rebinding attack can point at this machine under another name. */
export function isLoopbackName(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host.startsWith('::ffff:127.');
  return false;
}
