/**
 * @module serve
 * Assembles a server from settings and functions: registry, invoker, routes, HTTP;
 * and stops it gracefully.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { browserGuard, isLoopbackName } from './api/browser-guard.js';
import { requireAuthentication } from './api/request-authentication.js';
import { createApiServer, healthcheckRoute } from './api/http-server.js';
import { cloudWatchLogsRoute } from './api/cloudwatch-logs-api.js';
import { invokeRoute } from './api/invoke-api.js';
import { metricsRoute } from './api/metrics-route.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import { managementRoutes } from './api/management-api.js';
import { loadDefinitions, type DeclarationOptions, type TypedDeclarationOptions } from './declared-functions.js';
import type { Manifest } from './config/manifest.js';
import { readManifestGateway, type ManifestGateway } from './gateway/manifest-gateway.js';
import { createGatewayServer } from './gateway/gateway-server.js';
import { RequestHooks } from './http/request-hooks.js';
import type { ServerLimits } from './http/server-limits.js';
import { RouteTable } from './gateway/route-table.js';
import type { SamTemplate } from './template/sam-template.js';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { Settings } from './config/settings.js';
import { ConfigError } from './config/config-error.js';
import { resolveSandbox } from './config/sandbox-setting.js';
import { checkFunctionNetwork } from './config/function-network-setting.js';
import { createLogger, type Logger } from './log.js';
import type { FunctionDefinition } from './registry/function-definition.js';
import { runtimeMismatch } from './registry/runtimes.js';
import { FunctionCatalog, LATEST } from './deploy/function-catalog.js';
import { openEventServices, type EventServices } from './event-services.js';
import { eventInvokeConfigRoutes } from './api/event-invoke-config-api.js';
import { snsRoute } from './api/sns-api.js';
import { KEYS_FILE_NAME, loadKeysFile } from './auth/keys-file.js';
import { roleNameOf } from './auth/principal.js';
import { createRequestAuth } from './auth/request-auth.js';
import { SessionIssuer } from './auth/session-issuer.js';
import { localEndpoint } from './handler/function-access.js';
import { Invoker } from './runtime/invoker.js';
import { LogStore } from './logs/log-store.js';
import { consoleRoutes } from './console/console-api.js';
import { ConsoleAssets } from './console/console-assets.js';
import { isConsoleOperation, withConsoleGuard } from './console/console-guard.js';
import { ConsoleSessions } from './console/console-sessions.js';
import { InvocationHistory } from './console/invocation-history.js';

/** What `serve()` takes besides its settings. */
interface ServeExtras {
  /** Replaces the logger built from the log settings. */
  readonly logger?: Logger;
  /**
   * Do not keep the Node.js process alive (as `server.unref()`): a script that starts a server in its
   * own process exits when its work is done. Default `false`.
   */
  readonly unref?: boolean;
}

/** Options of `serve()`: typed settings (`port: number`, `isolation: 'worker' | ...`), a manifest, a template and/or functions. */
export interface ServeOptions extends TypedDeclarationOptions, ServeExtras {}

/** `serve()`'s options with settings as loose values, such as CLI flags' text: checked only at run time. */
export interface UncheckedServeOptions extends DeclarationOptions, ServeExtras {}

/** A server that is listening. */
export interface RunningServer {
  /** `http://host:port`, the endpoint to give AWS SDK clients. */
  readonly url: string;
  readonly port: number;
  readonly settings: Readonly<Settings>;
  /** The manifest's, the template's and `serve()`'s functions (deployed ones come and go through the API). */
  readonly functions: readonly FunctionDefinition[];
  /** `http://host:port` of the API Gateway, when routes are declared. */
  readonly httpUrl?: string;
  /** Warnings about the template: what it declares that serverfull does not run. */
  readonly warnings: readonly string[];
  /** Invocations running or waiting to run now (synchronous ones and queued events). */
  readonly inFlight: number;
  /** This server's `serverId` in its lifecycle events: unique in the process. */
  readonly serverId: number;
  /** Stops accepting, lets invocations in flight finish (bounded by `shutdownTimeout`), stops all environments. */
  close(): Promise<void>;
}

/** Starts a server; resolves once it listens. Throws `ConfigError` for invalid input. */
export async function serve(options: ServeOptions = {}): Promise<RunningServer> {
  // The types catch a wrong setting in TypeScript; JavaScript callers still get the run-time checks.
  return serveUnchecked(options);
}

/** `serve()` for settings the type system cannot vouch for (the CLI's text): the same run-time validation, the same errors. */
export async function serveUnchecked(options: UncheckedServeOptions = {}): Promise<RunningServer> {
  const { logger: givenLogger, unref, ...declaration } = options;
  const { settings, manifest, template, definitions } = loadDefinitions(declaration);
  const logger = givenLogger ?? createLogger({ level: settings.logLevel, format: settings.logFormat });
  for (const warning of template?.warnings ?? []) logger.log('warn', warning, { template: template!.path });
  checkExposure(settings, logger);
  checkDeployedIsolation(settings, logger);
  // Read before anything starts: a keys file that is unsafe or wrong stops the start.
  const keys = settings.auth === 'sigv4' ? loadKeysFile(settings.keys ?? join(settings.dataDir, KEYS_FILE_NAME)) : undefined;

  const noteRuntimes = runtimeNotes(logger);
  // Functions' credentials are minted even without auth (then no one checks them): code that calls
  // serverfull works the same either way.
  const issuer = new SessionIssuer();
  // Known once the Lambda API listens, before any environment exists.
  let functionEndpoint = '';
  const dataDir = resolve(settings.dataDir);
  const sandbox = resolveSandbox(settings.sandbox, logger);
  checkFunctionNetwork(settings, definitions, sandbox);
  const logStore = new LogStore({ dataDir, retentionDays: settings.logRetention, maxBytesPerFunction: settings.logMaxBytes, logger });
  const invoker = new Invoker({
    region: settings.region, concurrency: settings.concurrency, idleTimeout: settings.idleTimeout, logger,
    sandbox, functionNetwork: settings.functionNetwork,
    // With no room for logs, nothing is recorded: the hot path pays nothing.
    recorder: settings.logMaxBytes > 0 ? logStore : undefined,
    functionAccess: (definition) => ({ endpoint: functionEndpoint, ...issuer.issue(roleNameOf(definition.role), definition.name, FUNCTION_SESSION_SECONDS) }),
  });
  let catalog: FunctionCatalog;
  let eventServices: EventServices | undefined;
  try {
    catalog = new FunctionCatalog({
      dataDir,
      identity: settings,
      isolation: settings.deployedIsolation,
      concurrency: settings.concurrency,
      manifest: definitions,
      manifestSource: [manifest?.path, template?.path].filter(Boolean).join(' or ') || 'serve()',
      manifestAliases: new Map((template?.functions ?? []).filter((fn) => fn.alias).map((fn) => [fn.name, fn.alias!])),
      codeStorageLimit: settings.codeStorageLimit,
      kmsKeyFile: settings.kmsKeyFile,
      listener: {
        reservedConcurrencyChanged: (name, limit) => invoker.setReservedConcurrency(name, limit),
        versionRemoved: (name, version) => {
          invoker.retire(name, version);
          // A deleted function (its $LATEST gone) or version takes its event invoke configuration along, as AWS's does.
          eventServices?.configs.forget(name, version === LATEST ? undefined : version);
        },
        versionAdded: (definition) => {
          invoker.prepare([definition]);
          noteRuntimes([definition]);
        },
      },
    });
  } catch (error) {
    await invoker.close();
    await logStore.close();
    throw error;
  }
  invoker.prepare(definitions);
  let services: EventServices;
  try {
    services = eventServices = openEventServices({ dataDir, settings, invoker, catalog, logger, endpoint: () => functionEndpoint, declared: definitions });
  } catch (error) {
    await invoker.close();
    catalog.close();
    await logStore.close();
    throw error;
  }
  const { events, topics } = services;
  const metrics = new ServerMetrics(invoker.serverId, events);
  const gateway = gatewayOf(manifest, template, options.functions);
  const routes = new RouteTable(gateway.declaration);
  // The hook points of each server: browser protection and authentication guard the Lambda APIs only;
  // the gateway answers the web as its routes declare.
  const apiHooks = new RequestHooks();
  const browserPolicy = { allowedOrigins: settings.allowedOrigins, allowedHosts: settings.allowedHosts, boundHost: settings.host };
  // The web console is a page of this server: its same-origin requests pass, with a session of its own when auth is on.
  apiHooks.beforeBody.push(withConsoleGuard(browserGuard(browserPolicy), browserPolicy));
  if (keys !== undefined) requireAuthentication(apiHooks, createRequestAuth({ keys: () => keys, identity: settings, issuer }), isConsoleOperation);
  const history = new InvocationHistory(invoker.serverId);
  const gatewayHooks = new RequestHooks();
  gatewayHooks.finished.push(metrics.gatewayHook());
  const limits: ServerLimits = {
    maxConnections: settings.maxConnections,
    headersTimeoutMs: settings.headersTimeout * 1000,
    requestTimeoutMs: settings.requestTimeout * 1000,
    maxLargeBodies: settings.maxConcurrentUploads,
  };
  const gatewayServer = routes.empty ? undefined : createGatewayServer({
    table: routes, registry: catalog, invoker, identity: settings, basePaths: gateway.basePaths, logger, hooks: gatewayHooks, limits,
  });
  // The Invoke route comes first: it is the hot path, matched before any other.
  let httpUrl: string | undefined;
  const consolePages = consoleRoutes({
    assets: new ConsoleAssets(), catalog, invoker, history, identity: settings, gatewayRoutes: gateway.declaration.routes, gatewayUrl: () => httpUrl,
    sessions: keys === undefined ? undefined : new ConsoleSessions(() => keys, settings.accountId),
    logs: settings.logMaxBytes > 0 ? logStore : undefined,
  });
  const server = createApiServer([
    invokeRoute(catalog, invoker, events, settings), ...managementRoutes(catalog, settings, (arn) => topics.exists(arn)),
    ...eventInvokeConfigRoutes(catalog, services.configs, settings, (arn) => topics.exists(arn)), snsRoute(topics), cloudWatchLogsRoute(logStore, settings, settings.logRetention),
    metricsRoute(metrics), healthcheckRoute, ...consolePages,
  ], logger, apiHooks, limits);
  server.keepAliveTimeout = 65_000;

  let url: string;
  try {
    url = await listen(server, settings.port, settings.host, 'the Lambda API', '--port (SERVERFULL_PORT)');
    functionEndpoint = localEndpoint(settings.host, (server.address() as AddressInfo).port);
    if (gatewayServer) httpUrl = await listen(gatewayServer, settings.httpPort, settings.host, 'the API Gateway', '--http-port (SERVERFULL_HTTP_PORT)');
  } catch (error) {
    server.close();
    metrics.close();
    history.close();
    await invoker.close();
    catalog.close();
    services.close();
    await logStore.close();
    throw error;
  }
  // Events a stopped server had accepted and not finished: run once the functions can reach the API.
  const restored = services.restore();
  if (restored > 0) logger.log('info', `${restored} queued events from before the restart are run again`);
  const servers = gatewayServer ? [server, gatewayServer] : [server];
  if (unref) {
    for (const s of servers) {
      s.unref();
      s.on('connection', (socket) => socket.unref());
    }
  }
  const port = (server.address() as AddressInfo).port;
  const served = catalog.list();
  noteRuntimes(served);
  if (served.length === 0) {
    logger.log('warn', 'no functions to serve: no manifest (./serverfull.json or --config), no --template, and none deployed in the data directory. '
      + 'Add one with --config PATH (a serverfull.json), --template PATH (a SAM template), or deploy one: serverfull deploy DIR --name NAME (or aws lambda create-function)', { dataDir: resolve(settings.dataDir) });
  }
  logger.log('info', `serverfull listening on ${url}`, { functions: served.map((d) => d.name).join(','), dataDir: resolve(settings.dataDir), console: `${url}/console` });
  if (httpUrl) logger.log('info', `API Gateway listening on ${httpUrl}`, { routes: gateway.declaration.routes.map((r) => `${r.method} ${r.path}`).join(',') });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // Environments never keep the process alive; waiting for them to stop must, or the caller's await is dropped.
      const holdOpen = setInterval(() => undefined, 60_000);
      try {
        const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
        for (const s of servers) s.closeIdleConnections();
        const deadline = Date.now() + settings.shutdownTimeout * 1000;
        while ((invoker.inFlight > 0 || events.pending > 0) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        services.close();
        for (const s of servers) s.closeAllConnections();
        await Promise.all([closed, invoker.close()]);
        metrics.close();
        history.close();
        catalog.close();
        // After the environments: the last invocations' lines are in the last batch.
        await logStore.close();
      } finally {
        clearInterval(holdOpen);
      }
    })();
    return closing;
  };
  return {
    url, port, settings, functions: definitions, httpUrl, warnings: template?.warnings ?? [], close, serverId: invoker.serverId,
    get inFlight() {
      return invoker.inFlight + events.pending;
    },
  };
}

/** Says once per runtime, as functions appear, when a declared runtime is not what actually runs it. */
function runtimeNotes(logger: Logger): (functions: readonly FunctionDefinition[]) => void {
  const said = new Set<string>();
  return (functions) => {
    const byRuntime = new Map<string, string[]>();
    for (const fn of functions) {
      if (said.has(fn.runtime) || runtimeMismatch(fn.runtime) === undefined) continue;
      byRuntime.set(fn.runtime, [...(byRuntime.get(fn.runtime) ?? []), fn.name]);
    }
    for (const [runtime, names] of byRuntime) {
      said.add(runtime);
      logger.log('warn', runtimeMismatch(runtime)!, { runtime, functions: names.join(',') });
    }
  };
}

/** How long a function environment's credentials are valid: longer than any environment lives warm in practice. */
const FUNCTION_SESSION_SECONDS = 7 * 24 * 3600;

/**
 * Refuses to put the Lambda APIs, which run whatever code they are sent, on a network without
 * authentication; `insecure` overrides that, loudly, at every start.
 */
function checkExposure(settings: Settings, logger: Logger): void {
  if (settings.auth !== 'none' || isLoopbackName(settings.host.toLowerCase().replace(/^\[(.*)\]$/, '$1'))) return;
  if (!settings.insecure) {
    throw new ConfigError(`--host ${settings.host} would let anyone who can reach it run code on this machine: add keys `
      + '(serverfull keys add NAME --keys keys.json, then --auth sigv4 --keys keys.json), or accept the risk with --insecure');
  }
  logger.log('warn', `serving on ${settings.host} without authentication (--insecure): anyone who can reach it can run code on this machine`);
}

/**
 * Says at every start when code deployed through the API, which anyone with API access can send, runs outside
 * a process environment: in the server's own threads, with its files, memory and rights.
 */
function checkDeployedIsolation(settings: Settings, logger: Logger): void {
  if (settings.deployedIsolation === 'process') return;
  logger.log('warn', `code deployed through the Lambda API runs in ${settings.deployedIsolation} isolation (--deployed-isolation), `
    + 'with the server\'s rights: it can read the server\'s files, memory and environment; use --deployed-isolation process to sandbox it');
}

/** Listens and resolves with `http://host:port`; a port in use is a `ConfigError` naming the setting to change. */
async function listen(server: Server, port: number, host: string, what: string, setting: string): Promise<string> {
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new ConfigError(`port ${port} on ${host}, for ${what}, is already in use: choose another with ${setting}, or 0 for any free port`);
  }
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return `http://${bracketed}:${(server.address() as AddressInfo).port}`;
}

/** The gateway as the manifest, the template and `serve({ functions })` declare it, together. */
function gatewayOf(manifest: Manifest | undefined, template: SamTemplate | undefined, functions: Record<string, unknown> | undefined): ManifestGateway {
  const fromManifest = readManifestGateway(manifest?.http, { ...manifest?.functions, ...functions }, manifest?.path ?? 'serve()');
  if (!template) return fromManifest;
  return {
    declaration: {
      apis: [...fromManifest.declaration.apis, ...template.gateway.apis],
      routes: [...fromManifest.declaration.routes, ...template.gateway.routes],
    },
    basePaths: fromManifest.basePaths,
  };
}
