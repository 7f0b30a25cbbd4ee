/**
 * @module console/console-guard
 * The browser check of the console's requests. The Lambda APIs refuse every web page; the console
 * is a web page, served by this server: its own requests are same-origin (their `Origin`, when the
 * browser sends one, is the very origin they are sent to) and pass, while another site's page is
 * refused as on the APIs. The `Host` allow-list (DNS rebinding) applies unchanged.
 */
import { AwsError } from '../errors.js';
import { browserRefusal, type BrowserPolicy } from '../api/browser-guard.js';
import type { RequestHook } from '../http/request-hooks.js';

/** Operation names of the console's routes start with this: the API hooks leave them to the console. */
export const CONSOLE_OPERATION_PREFIX = 'Console';

/** Whether an operation is one of the console's. */
export function isConsoleOperation(operation: string | undefined): boolean {
  return operation !== undefined && operation.startsWith(CONSOLE_OPERATION_PREFIX);
}

/** `guard` for every request but the console's, which get the console's own check. */
export function withConsoleGuard(guard: RequestHook, policy: BrowserPolicy): RequestHook {
  return (request) => {
    if (!isConsoleOperation(request.operation)) return guard(request);
    const { headers } = request;
    const site = headers['sec-fetch-site'];
    // `none` is a typed address or a bookmark: a navigation, never a page's request.
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return new AwsError('AccessDeniedException', 'requests from other web sites are refused');
    const { origin } = headers;
    if (origin !== undefined && origin !== `http://${headers.host}` && origin !== `https://${headers.host}` && !policy.allowedOrigins.includes(origin)) {
      return new AwsError('AccessDeniedException', `requests from web pages (Origin ${origin}) are refused`);
    }
    // The origin is this server's own: what remains to check is the Host.
    const refusal = browserRefusal({ host: headers.host }, policy);
    return refusal === undefined ? undefined : new AwsError('AccessDeniedException', refusal);
  };
}
