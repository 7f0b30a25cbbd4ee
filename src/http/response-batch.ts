/**
 * @module http/response-batch
 * Answers ended together, once per turn of the event loop, instead of one by one as each is ready.
 * Writing an answer to a client that is waiting for it wakes the client, and on a busy host a
 * wake-up costs the writer more than the write: written as each invocation finished, nearly every
 * answer paid one (0.7 a request from 32 connections on 2 cores). Ended in the same turn, they go out
 * back to back at its end (its check phase, before the loop waits for I/O again), and the first
 * write's wake-up serves the rest (measured in BENCHMARKS.md, sixth session).
 */
import type { ServerResponse } from 'node:http';

/** Responses whose end waits for the turn's end, with their bodies at the same index. */
const responses: ServerResponse[] = [];
const bodies: Array<string | Uint8Array | undefined> = [];
let scheduled = false;

/** Ends `response` with `body` at the end of this turn of the event loop, with the others ended in it. */
export function endInTurn(response: ServerResponse, body?: string | Uint8Array): void {
  responses.push(response);
  bodies.push(body);
  if (!scheduled) {
    scheduled = true;
    setImmediate(endAll);
  }
}

function endAll(): void {
  // By index: an end may end another response (a 'finish' listener), which joins this same pass.
  for (let i = 0; i < responses.length; i++) {
    const response = responses[i]!;
    try {
      response.end(bodies[i]);
    } catch {
      // The answer cannot be written whole: the client sees the connection close, as for any broken answer.
      // Nothing thrown here may leave the pass: the rest of the turn's answers, and every later turn's, would never go out.
      try {
        response.destroy();
      } catch {
        // The connection is beyond reach already.
      }
    }
  }
  responses.length = 0;
  bodies.length = 0;
  scheduled = false;
}
