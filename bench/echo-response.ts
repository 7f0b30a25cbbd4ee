/**
 * @module bench/echo-response
 * Lambda reports handler failures as 200 with X-Amz-Function-Error, which a status check
 * alone misses; this makes sure a variant really ran the handler before it is timed.
 */
import { REQUEST_BODY } from './load-round.js';

/** The body the echo handler returns for `REQUEST_BODY`. */
export const EXPECTED_BODY = JSON.stringify({ message: 'hello ' + (JSON.parse(REQUEST_BODY) as { name: string }).name });

/** POSTs `REQUEST_BODY` to `url` and returns the response body after checking it; throws when it is not the echo's answer. */
export async function postEcho(url: string): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: REQUEST_BODY });
  const body = await response.text();
  const functionError = response.headers.get('x-amz-function-error');
  if (!response.ok || functionError !== null || body !== EXPECTED_BODY) {
    throw new Error(`${url} answered ${response.status}${functionError ? ` (${functionError})` : ''}: ${body.slice(0, 500)}`);
  }
  return body;
}
