/**
 * @module bench/baseline-server
 * Child process entry: the least a hand-written Node server does for the same handler,
 * so serverfull's overhead shows as a ratio. Usage: node baseline-server.js PORT
 */
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './repo-root.js';

type Handler = (event: { name: string }) => Promise<unknown>;

// Imported rather than copied so both sides provably run the very same handler.
const { handler } = (await import(pathToFileURL(join(REPO_ROOT, 'bench/fixtures/echo.mjs')).href)) as { handler: Handler };

const server = createServer((request, response) => {
  // The parent polls this path for readiness, as it does for serverfull.
  if (request.method === 'GET' && request.url === '/healthcheck') {
    response.writeHead(200).end();
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    let event: { name: string };
    try {
      event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { name: string };
    } catch {
      response.writeHead(400).end();
      return;
    }
    handler(event).then(
      (result) => {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
      },
      () => response.writeHead(500).end(),
    );
  });
});
server.listen(Number(process.argv[2]), '127.0.0.1');
