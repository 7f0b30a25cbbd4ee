/**
 * @module runtime/network-forwarder
 * Runs inside a sandbox without a network (`network: "none"`), started before its runtime: listens on
 * loopback ports of the sandbox's own network namespace and pipes each connection to a Unix socket the
 * server bind-mounted in, so that the runtime reaches its Runtime API and the function reaches serverfull's
 * APIs at `127.0.0.1:port` addresses as usual, and nothing else is reachable. Standalone (Node.js built-ins
 * only): it runs with the sandbox's Node.js, for custom runtimes too.
 * Arguments: `127.0.0.1:port=/path/to.sock` pairs. Prints `ready` once every port listens, then closes its
 * stdout: the sandbox's start reads that line before it runs the runtime.
 */
import { closeSync, writeSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';

const SPEC = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})=(\/.+)$/;

/** Says why the forwarder cannot run, on the function's log, and ends the sandbox's start. */
function fail(message: string): never {
  writeSync(2, `serverfull network forwarder: ${message}\n`);
  process.exit(125);
}

/**
 * Copies what `from` reads to `to`, pausing while `to` is full, and passes its end on. (Not `Readable.pipe`: it
 * looks at `process.stdout`, which Node.js cannot open once fd 1 is closed.)
 */
function relay(from: Socket, to: Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
  from.once('end', () => to.end());
}

/** Pipes `client` to the Unix socket at `path`, both ways; half-closes pass through, either side failing ends both. */
function forward(client: Socket, path: string): void {
  const upstream = connect({ path, allowHalfOpen: true });
  relay(client, upstream);
  relay(upstream, client);
  const end = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.once('error', end).once('close', end);
  upstream.once('error', end).once('close', end);
}

const specs = process.argv.slice(2);
if (specs.length === 0) fail('no port to forward');
let listening = 0;
for (const spec of specs) {
  const match = SPEC.exec(spec);
  if (match === null) fail(`not a 127.0.0.1:port=/socket pair: ${spec}`);
  const [, host, port, path] = match;
  createServer({ allowHalfOpen: true, noDelay: true }, (client) => forward(client, path!))
    .once('error', (error) => fail(`cannot listen on ${host}:${port}: ${error.message}`))
    .listen(Number(port), host, () => {
      if (++listening < specs.length) return;
      writeSync(1, 'ready\n');
      closeSync(1);
    });
}
