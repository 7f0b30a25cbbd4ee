/**
 * @module runtime/thread-id
 * The id Linux gives the calling thread, which `chrt` takes (batch-scheduling.ts). Its own module: a worker environment's
 * thread reads it as it starts, without loading what the server uses to act on it.
 */
import { readlinkSync } from '../handler/node-builtins.js';

/** The id of the calling thread as Linux knows it (its `/proc/thread-self`); undefined off Linux. */
export function ownThreadId(): number | undefined {
  try {
    const id = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isSafeInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}
