/**
 * @module serve
 * Assembles a server from settings and functions: registry, invoker, routes, HTTP;
 * and stops it gracefully.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createApiServer, healthcheckRoute } from './api/http-server.js';
import { invokeRoute } from './api/invoke-api.js';
import { managementRoutes } from './api/management-api.js';
import { ConfigError } from './config/config-error.js';
import { buildDefinitions, manifestRoot, readManifest, type FunctionConfig } from './config/manifest.js';
import { resolve } from 'node:path';
import { resolveSettings, type Settings, type SettingsInput } from './config/settings.js';
import { createLogger, type Logger } from './log.js';
import type { FunctionDefinition, LambdaHandler } from './registry/function-definition.js';
import { FunctionCatalog } from './deploy/function-catalog.js';
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
  /** The manifest's and `serve()`'s functions (deployed ones come and go through the API). */
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

  const invoker = new Invoker({ region: settings.region, concurrency: settings.concurrency, idleTimeout: settings.idleTimeout, logger });
  let catalog: FunctionCatalog;
  try {
    catalog = new FunctionCatalog({
      dataDir: resolve(settings.dataDir),
      identity: settings,
      isolation: settings.isolation,
      concurrency: settings.concurrency,
      manifest: definitions,
      manifestSource: manifest?.path ?? 'serve()',
      listener: {
        reservedConcurrencyChanged: (name, limit) => invoker.setReservedConcurrency(name, limit),
        versionRemoved: (name, version) => invoker.retire(name, version),
        versionAdded: (definition) => invoker.prepare([definition]),
      },
    });
  } catch (error) {
    await invoker.close();
    throw error;
  }
  invoker.prepare(definitions);
  const events = new AsyncInvocations(invoker, logger);
  // The Invoke route comes first: it is the hot path, matched before any other.
  const server = createApiServer([invokeRoute(catalog, invoker, events, settings), ...managementRoutes(catalog, settings), healthcheckRoute], logger);
  server.keepAliveTimeout = 65_000;

  server.listen(settings.port, settings.host);
  try {
    await once(server, 'listening');
  } catch (error) {
    await invoker.close();
    catalog.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const url = `http://${host}:${port}`;
  logger.log('info', `serverfull listening on ${url}`, { functions: catalog.list().map((d) => d.name).join(','), dataDir: resolve(settings.dataDir) });

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
      catalog.close();
    })();
    return closing;
  };
  return { url, port, settings, functions: definitions, close };
}
