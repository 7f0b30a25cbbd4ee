/**
 * @module http/server-limits
 * What one client, or many, may hold of a server: connections, the time to send a request's
 * head, and the large bodies being received at once. Without them a slow client (slowloris) holds
 * a connection forever, and a few 69 MB uploads in parallel take gigabytes of memory.
 */
import type { Server } from 'node:http';

/** The bounds of one server. */
export interface ServerLimits {
  /** Open connections; past it, new ones are closed at once. */
  readonly maxConnections: number;
  /** Milliseconds a client may take to send a request's head; then 408 and the connection is closed. */
  readonly headersTimeoutMs: number;
  /** Milliseconds a client may take to send a whole request, body included. */
  readonly requestTimeoutMs: number;
  /** Bodies over `LARGE_BODY_BYTES` received (and handled) at once; past it, 429 TooManyRequestsException. */
  readonly maxLargeBodies: number;
}

/** A body this large is a code upload: counted against `maxLargeBodies`. Invoke (6 MB) and gateway (10 MB) bodies never are. */
export const LARGE_BODY_BYTES = 10 * 1024 * 1024 + 1;

/** Bounds that hold nothing back: for servers built without settings (tests of one API). */
export const UNBOUNDED: ServerLimits = Object.freeze({
  maxConnections: Infinity,
  headersTimeoutMs: 60_000,
  requestTimeoutMs: 300_000,
  maxLargeBodies: Infinity,
});

/** How often Node.js checks the head and request timeouts: often enough that a 1-second timeout means about 1 second. */
export const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** Applies the socket-level bounds to `server`. */
export function applyServerLimits(server: Server, limits: ServerLimits): void {
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
}
