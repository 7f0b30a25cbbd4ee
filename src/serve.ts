/**
 * @module serve
 * Assembles a server from settings and functions: registry, invoker, routes, HTTP;
 * and stops it gracefully.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createApiServer, healthcheckRoute } from './api/http-server.js';
import { invokeRoute } from './api/invoke-api.js';
import { ConfigError } from './config/config-error.js';
import { buildDefinitions, manifestRoot, readManifest, type FunctionConfig } from './config/manifest.js';
import { resolveSettings, type Settings, type SettingsInput } from './config/settings.js';
import { createLogger, type Logger } from './log.js';
import type { FunctionDefinition, LambdaHandler } from './registry/function-definition.js';
import { StaticRegistry } from './registry/static-registry.js';
import { AsyncInvocations } from './runtime/async-invocations.js';
import { Invoker } from './runtime/invoker.js';

/** Options of `serve()`: settings (as CLI flags would give them), a manifest and/or functions. */
export interface ServeOptions extends SettingsInput {
  /** Path of a `serverfull.json` manifest. */
  readonly config?: string;
  /** Functions by name: a handler, or a declaration as in the manifest. */
  readonly functions?: Readonly<Record<string, LambdaHandler | FunctionConfig>>;
  /** Folder that `functions` handler paths are relative to; default: the current directory. */
  readonly root?: string;
  /** Where `SERVERFULL_*` settings are read from; default: `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Replaces the logger built from the log settings. */
  readonly logger?: Logger;
}

/** A server that is listening. */
export interface RunningServer {
  /** `http://host:port`, the endpoint to give AWS SDK clients. */
  readonly url: string;
  readonly port: number;
  readonly settings: Readonly<Settings>;
  readonly functions: readonly FunctionDefinition[];
  /** Stops accepting, lets invocations in flight finish (bounded by `shutdownTimeout`), stops all environments. */
  close(): Promise<void>;
}

/** Starts a server; resolves once it listens. Throws `ConfigError` for invalid input. */
export async function serve(options: ServeOptions = {}): Promise<RunningServer> {
  const { config, functions, root, env, logger: givenLogger, ...flags } = options;
  const manifest = config === undefined ? undefined : readManifest(config);
  const settings = resolveSettings({ manifest: manifest?.settings, env: env ?? process.env, flags });
  const logger = givenLogger ?? createLogger({ level: settings.logLevel, format: settings.logFormat });

  const definitions = [
    ...(manifest ? buildDefinitions(manifest.functions, manifestRoot(manifest), settings.isolation, manifest.path) : []),
    ...(functions ? buildDefinitions(functions, root ?? process.cwd(), settings.isolation, 'serve()') : []),
  ];
  const seen = new Set<string>();
  for (const { name } of definitions) {
    if (seen.has(name)) throw new ConfigError(`function "${name}" is declared twice`);
    seen.add(name);
  }

  const registry = new StaticRegistry(definitions);
  const invoker = new Invoker({ region: settings.region, concurrency: settings.concurrency, idleTimeout: settings.idleTimeout, logger });
  invoker.prepare(definitions);
  const events = new AsyncInvocations(invoker, logger);
  const server = createApiServer([invokeRoute(registry, invoker, events, settings), healthcheckRoute], logger);
  server.keepAliveTimeout = 65_000;

  server.listen(settings.port, settings.host);
  try {
    await once(server, 'listening');
  } catch (error) {
    await invoker.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const url = `http://${host}:${port}`;
  logger.log('info', `serverfull listening on ${url}`, { functions: definitions.map((d) => d.name).join(',') });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = Date.now() + settings.shutdownTimeout * 1000;
      while ((invoker.inFlight > 0 || events.pending > 0) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      events.close();
      server.closeAllConnections();
      await Promise.all([closed, invoker.close()]);
    })();
    return closing;
  };
  return { url, port, settings, functions: definitions, close };
}
