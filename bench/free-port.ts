/**
 * @module bench/free-port
 * The serverfull CLI does not report the port it picked for `--port 0`, so the parent picks one.
 */
import { createServer } from 'node:net';

/** A loopback port that was free a moment ago (the usual small race is acceptable for a benchmark). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('could not learn a free port'))));
    });
  });
}
