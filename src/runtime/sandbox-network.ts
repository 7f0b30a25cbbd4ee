/**
 * @module runtime/sandbox-network
 * A sandbox without a network (`network: "none"`): bubblewrap gives it a network namespace of its own
 * (a loopback only), and the server lends it Unix sockets, in a private folder bind-mounted into that
 * sandbox alone: one serves its Runtime API, one pipes to serverfull's Lambda APIs (and the Parameter Store,
 * on the same port), one to the Parameters and Secrets extension's interface. Inside, the network forwarder
 * (`network-forwarder.ts`) listens on `127.0.0.1` ports for them before the runtime runs: the extension's at
 * the port functions are told (`PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`), the namespace's own.
 *
 * No connection-owner check applies to these sockets (the kernel's TCP table knows nothing of them), and none
 * is needed: the folder is made 0700 by the server under the host's temporary folder, which no sandbox sees
 * (each has a `/tmp` of its own and sees only system folders: a `TMPDIR` inside `/usr` or `/opt` would break
 * this), and it is mounted into this environment's sandbox only; so whatever connects is this sandbox, or the
 * server's own user on the host. (Permissions alone would not do: a sandbox's user maps to the server's.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuntimeApiServer } from '../runtime-api/runtime-api-server.js';
import { nodeInstallFolder } from './sandbox-command.js';

/** Where the sockets folder appears inside the sandbox. */
const SANDBOX_SOCKETS = '/run/serverfull';
/** The Runtime API's port inside the sandbox: AWS's own (the next one when the Lambda APIs' port is that). */
const RUNTIME_API_PORT = 9001;
const RUNTIME_SOCKET = 'runtime-api.sock';
const LAMBDA_SOCKET = 'lambda-api.sock';
const PARAMETERS_SOCKET = 'parameters-extension.sock';
/** The forwarder, compiled beside this file: inside serverfull's compiled folder, which every sandbox sees read-only. */
const FORWARDER = fileURLToPath(new URL('./network-forwarder.js', import.meta.url));
/** The forwarder needs little memory and counts against the function's: a small heap. */
const FORWARDER_FLAGS = ['--max-old-space-size=16', '--max-semi-space-size=1'];
/**
 * Starts the forwarder (the `$1` arguments after it) in the background, waits for its `ready` (it closes its stdout
 * then, which ends the command substitution), then runs the runtime (the rest) in the shell's place. The forwarder
 * ends with the sandbox: bubblewrap's init ends the PID namespace when the runtime exits. POSIX sh, no arrays:
 * the subshell keeps the first `$1` arguments by rotating them.
 */
const FORWARD_THEN_RUN = 'n=$1; shift; '
  + 'ready=$(i=0; for a; do shift; [ $i -lt $n ] && set -- "$@" "$a"; i=$((i+1)); done; "$@" </dev/null &); '
  + '[ "$ready" = ready ] || exit 125; shift $n; exec "$@"';

/** The Unix sockets of one sandbox without a network, and what its start needs to know of them. */
export class IsolatedNetwork {
  /** The private host folder holding the sockets. */
  private readonly folder: string;
  private readonly lambdaForward?: Server;
  private readonly parametersForward?: Server;
  /** The forwarder's `address=socket` pairs, as the sandbox sees them. */
  private readonly forwards: string[];
  /** Where the forwarder serves serverfull's Lambda APIs inside the sandbox, for `AWS_ENDPOINT_URL_LAMBDA`; undefined: not served. */
  readonly lambdaEndpoint?: string;
  /** Where the forwarder serves the Runtime API inside the sandbox, for `AWS_LAMBDA_RUNTIME_API`. */
  readonly runtimeApi: string;

  private constructor(folder: string, lambdaEndpoint: URL | undefined, parametersPort: number | undefined) {
    this.folder = folder;
    const port = lambdaEndpoint === undefined ? undefined : Number(lambdaEndpoint.port || (lambdaEndpoint.protocol === 'https:' ? 443 : 80));
    this.runtimeApi = `127.0.0.1:${port === RUNTIME_API_PORT ? RUNTIME_API_PORT + 1 : RUNTIME_API_PORT}`;
    this.forwards = [`${this.runtimeApi}=${SANDBOX_SOCKETS}/${RUNTIME_SOCKET}`];
    if (lambdaEndpoint !== undefined && port !== undefined) {
      const host = lambdaEndpoint.hostname.replace(/^\[|\]$/g, '');
      this.lambdaForward = createServer((client) => pipeTo(client, port, host));
      this.lambdaForward.unref();
      this.forwards.push(`127.0.0.1:${port}=${SANDBOX_SOCKETS}/${LAMBDA_SOCKET}`);
      // The same port inside: loopback, whatever address the server listens on (the SDK signs the Host it sends).
      this.lambdaEndpoint = `${lambdaEndpoint.protocol}//127.0.0.1:${port}`;
    }
    // The extension listens on loopback on the host; inside, at the same port, unless another forward has it.
    if (parametersPort !== undefined && parametersPort !== port && `127.0.0.1:${parametersPort}` !== this.runtimeApi) {
      this.parametersForward = createServer((client) => pipeTo(client, parametersPort, '127.0.0.1'));
      this.parametersForward.unref();
      this.forwards.push(`127.0.0.1:${parametersPort}=${SANDBOX_SOCKETS}/${PARAMETERS_SOCKET}`);
    }
  }

  /**
   * Makes the private folder, serves `runtimeApi` on its socket and a pipe to serverfull's Lambda APIs at
   * `lambdaEndpoint` on the other: the server's own endpoint, never one a function's configuration names
   * (that would be a way out to any address).
   */
  static async open(runtimeApi: RuntimeApiServer, lambdaEndpoint: string | undefined, parametersPort?: number): Promise<IsolatedNetwork> {
    // mkdtemp makes the folder 0700.
    const network = new IsolatedNetwork(mkdtempSync(join(tmpdir(), 'serverfull-net-')), parseEndpoint(lambdaEndpoint), parametersPort);
    try {
      await runtimeApi.listenAt(join(network.folder, RUNTIME_SOCKET));
      for (const [forward, socket] of [[network.lambdaForward, LAMBDA_SOCKET], [network.parametersForward, PARAMETERS_SOCKET]] as const) {
        if (forward === undefined) continue;
        await new Promise<void>((resolve, reject) => forward.once('error', reject).listen(join(network.folder, socket), resolve));
      }
    } catch (error) {
      network.close();
      throw error;
    }
    return network;
  }

  /** What bubblewrap adds: the network namespace, and the sockets folder. */
  bwrapArgs(): string[] {
    return ['--unshare-net', '--ro-bind', this.folder, SANDBOX_SOCKETS];
  }

  /** The command to run before the runtime's own (which follows it): a shell that starts the forwarder, then the runtime. */
  commandPrefix(): string[] {
    const forwarder = [join(nodeInstallFolder(), 'bin', 'node'), ...FORWARDER_FLAGS, FORWARDER, ...this.forwards];
    return ['/bin/sh', '-c', FORWARD_THEN_RUN, 'forward', String(forwarder.length), ...forwarder];
  }

  /** Stops the pipe to the Lambda APIs and removes the folder (the Runtime API closes with its environment). */
  close(): void {
    this.lambdaForward?.close();
    this.parametersForward?.close();
    rmSync(this.folder, { recursive: true, force: true });
  }
}

/** The function's Lambda endpoint, when it is one this server can pipe to. */
function parseEndpoint(endpoint: string | undefined): URL | undefined {
  if (endpoint === undefined || endpoint === '') return undefined;
  try {
    const url = new URL(endpoint);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Pipes a connection from the sandbox to the Lambda APIs, both ways; either side failing ends both. */
function pipeTo(client: Socket, port: number, host: string): void {
  client.unref();
  const upstream = connect({ port, host, noDelay: true });
  upstream.unref();
  client.pipe(upstream);
  upstream.pipe(client);
  const end = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.once('error', end).once('close', end);
  upstream.once('error', end).once('close', end);
}
