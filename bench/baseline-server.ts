/**
 * @module bench/baseline-server
 * Child process entry: the least a hand-written Node server does for the same handler,
 * so serverfull's overhead shows as a ratio. Usage: node baseline-server.js PORT
 */
import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './repo-root.js';

type Handler = (event: { name: string }) => Promise<unknown>;

/** The part of a CreateFunction request the baseline's deploy reads. */
interface DeployRequest {
  FunctionName: string;
  Code: { ZipFile: string };
}

// Imported rather than copied so both sides provably run the very same handler.
const { handler } = (await import(pathToFileURL(join(REPO_ROOT, 'bench/fixtures/echo.mjs')).href)) as { handler: Handler };

/** Where `POST /deploy` keeps the zips it receives; made on the first deploy. */
let deployDirectory: string | undefined;

/**
 * The least any deploy endpoint does with a CreateFunction request: parse the JSON, decode the
 * base64 zip and put it on disk. No unpacking, validation or bookkeeping: that is serverfull's overhead.
 */
function deploy(body: string, response: ServerResponse): void {
  const { FunctionName, Code } = JSON.parse(body) as DeployRequest;
  const zip = Buffer.from(Code.ZipFile, 'base64');
  deployDirectory ??= mkdtempSync(join(tmpdir(), 'serverfull-bench-baseline-'));
  writeFile(join(deployDirectory, `${FunctionName}.zip`), zip).then(
    () => response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ FunctionName, CodeSize: zip.length })),
    () => response.writeHead(500).end(),
  );
}

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
      if (request.url === '/deploy') return deploy(Buffer.concat(chunks).toString('utf8'), response);
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
