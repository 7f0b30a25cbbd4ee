/**
 * @module handler/trace-header
 * The X-Ray trace header every invocation carries, as AWS puts it on each one:
 * `Root=1-<8 hex epoch seconds>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>`. A caller's
 * `X-Amzn-Trace-Id` is taken when its `Root` is valid, rebuilt from the parts serverfull checked
 * (never passed on as sent: it ends up in a function's environment, its events and the log);
 * otherwise, or without one, the invocation starts a new trace.
 *
 * On the hot path: a new header costs a slice of a pooled random hex string rather than a
 * `randomBytes` call (a syscall and a buffer) per invocation.
 */
import { randomBytes } from 'node:crypto';

/** Random bytes drawn at once: 4 KB make 204 headers. */
const POOL_BYTES = 4096;
/** Hex characters a new header takes: 24 for the root's random part, 16 for the parent. */
const HEADER_HEX = 40;
/** Longer headers are not read: what serverfull keeps of one is under 80 characters. */
const MAX_HEADER_LENGTH = 1024;
const ROOT = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/i;
/** A header exactly as serverfull builds one: what a function's SDK passes on, taken as is. */
const CANONICAL = /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]$/;
const PARENT = /^[0-9a-f]{16}$/i;
/** `Root=` and the root's 35 characters: where a normalised header's trace id is. */
const ROOT_START = 5;
const ROOT_END = 40;

let pool = '';
let used = 0;
let second = -1;
let secondHex = '';

/** `chars` random hex characters, cut from the pool (refilled when spent). */
function randomHex(chars: number): string {
  if (used + chars > pool.length) {
    pool = randomBytes(POOL_BYTES).toString('hex');
    used = 0;
  }
  return pool.slice(used, (used += chars));
}

/** A new trace header: a new root, a new parent, not sampled (serverfull records no segments). */
export function newTraceHeader(): string {
  const now = Math.floor(Date.now() / 1000);
  if (now !== second) {
    second = now;
    secondHex = now.toString(16).padStart(8, '0');
  }
  const hex = randomHex(HEADER_HEX);
  return `Root=1-${secondHex}-${hex.slice(0, 24)};Parent=${hex.slice(24)};Sampled=0`;
}

/**
 * The trace header of an invocation a caller sent `incoming` (`X-Amzn-Trace-Id`) with: its `Root`,
 * its `Parent` (a new one when missing or invalid) and its `Sampled` (`0` unless `1`), lower-cased;
 * anything else it carried is dropped. A new header when there is none, or its root is invalid.
 */
export function traceHeaderFrom(incoming: string | undefined): string {
  if (incoming === undefined || incoming.length > MAX_HEADER_LENGTH) return newTraceHeader();
  if (CANONICAL.test(incoming)) return incoming;
  let root: string | undefined;
  let parent: string | undefined;
  let sampled: string | undefined;
  for (const part of incoming.split(';')) {
    const equals = part.indexOf('=');
    if (equals < 0) continue;
    const key = part.slice(0, equals).trim();
    const value = part.slice(equals + 1).trim();
    if (key === 'Root') root = value;
    else if (key === 'Parent') parent = value;
    else if (key === 'Sampled') sampled = value;
  }
  if (root === undefined || !ROOT.test(root)) return newTraceHeader();
  const parentId = parent !== undefined && PARENT.test(parent) ? parent.toLowerCase() : randomHex(16);
  return `Root=${root.toLowerCase()};Parent=${parentId};Sampled=${sampled === '1' ? '1' : '0'}`;
}

/** The trace id (`1-...-...`, the `Root`) of a header built here, for log lines. */
export function traceIdOf(header: string): string {
  return header.slice(ROOT_START, ROOT_END);
}
