/**
 * @module values
 * Small checks on untrusted values shared by every layer: whether a parsed JSON value is
 * an object, and percent-decoding that reports a malformed escape instead of throwing,
 * so each caller decides what a malformed one means (kept as sent, or refused).
 */

/** A JSON object that is not an array (nor null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `decodeURIComponent`, skipped when there is no escape; undefined for a malformed escape. */
export function decodeUriComponentSafely(text: string): string | undefined {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
