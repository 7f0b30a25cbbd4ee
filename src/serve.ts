/**
 * @module serve
 * Assembles a server from settings and functions: registry, invoker, routes, HTTP;
 * and stops it gracefully.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn, setTimeout as delay } from 'node:timers/promises';
import { browserGuard, isLoopbackName } from './api/browser-guard.js';
import { requireAuthentication } from './api/request-authentication.js';
import { createApiServer, healthcheckRoute } from './api/http-server.js';
import { cloudWatchLogsRoute } from './api/cloudwatch-logs-api.js';
import { ssmRoute } from './api/ssm-api.js';
import { createParametersExtensionServer, extensionCallers } from './api/parameters-extension-api.js';
import { credentialResolver } from './auth/credentials.js';
import { authorize } from './auth/authorize.js';
import { decryptRefusal } from './auth/ssm-operations.js';
import { AwsError } from './errors.js';
import { parameterArn } from './registry/arns.js';
import type { TemporaryCredentials } from './handler/function-access.js';
import { ParameterStore } from './parameters/parameter-store.js';
import { ParameterService } from './parameters/parameter-service.js';
import { invokeRoute } from './api/invoke-api.js';
import { metricsRoute } from './api/metrics-route.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import { managementRoutes } from './api/management-api.js';
import { loadDefinitions, type DeclarationOptions, type DeclaredFunctions, type TypedDeclarationOptions } from './declared-functions.js';
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
import { isCustomRuntime, isPythonRuntime, runtimeMismatch } from './registry/runtimes.js';
import { defaultRuntimesDir, NodeInstalls } from './runtime/node-installs.js';
import { pythonInterpreter, pythonMismatch } from './runtime/python-interpreter.js';
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
import { startBatchScheduling } from './runtime/batch-scheduling.js';
import { environmentKind } from './runtime/environment-factory.js';
import { LogStore } from './logs/log-store.js';
import { consoleRoutes } from './console/console-api.js';
import { ConsoleAssets } from './console/console-assets.js';
import { isConsoleOperation, withConsoleGuard } from './console/console-guard.js';
import { ConsoleSessions } from './console/console-sessions.js';
import { InvocationHistory } from './console/invocation-history.js';
import type { KeptModules } from './watch/fresh-module-importer.js';
import type { HotReload } from './watch/hot-reload.js';

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
  /** The manifest's, the template's and `serve()`'s functions (deployed ones come and go through the API); with `watch`, as last reloaded. */
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

  const nodeInstalls = new NodeInstalls(settings.runtimesDir ?? defaultRuntimesDir());
  const noteRuntimes = runtimeNotes(logger, nodeInstalls);
  // Functions' credentials are minted even without auth (then no one checks them): code that calls
  // serverfull works the same either way.
  const issuer = new SessionIssuer();
  // Known once the Lambda API listens, before any environment exists.
  let functionEndpoint = '';
  let parametersPort: number | undefined;
  // Set once the Parameter Store is open, before any environment starts.
  let resolveParameterAs: (credentials: TemporaryCredentials, name: string) => string = () => {
    throw new Error('the Parameter Store is not open yet');
  };
  const dataDir = resolve(settings.dataDir);
  const sandbox = resolveSandbox(settings.sandbox, logger);
  checkFunctionNetwork(settings, definitions, sandbox);
  const logStore = new LogStore({ dataDir, retentionDays: settings.logRetention, maxBytesPerFunction: settings.logMaxBytes, logger });
  // Hot reload's modules (and esbuild) only for a server that watches.
  const watching = settings.watch
    ? { importer: await import('./watch/fresh-module-importer.js'), reload: await import('./watch/hot-reload.js') }
    : undefined;
  const invoker = new Invoker({
    region: settings.region, concurrency: settings.concurrency, idleTimeout: settings.idleTimeout, scaling: settings.scaling, logger,
    sandbox, functionNetwork: settings.functionNetwork, nodeInstalls,
    // With no room for logs, nothing is recorded: the hot path pays nothing.
    recorder: settings.logMaxBytes > 0 ? logStore : undefined,
    functionAccess: (definition) => {
      const credentials = issuer.issue(roleNameOf(definition.role), definition.name, FUNCTION_SESSION_SECONDS);
      return { endpoint: functionEndpoint, parametersPort, ...credentials, resolveParameter: (name) => resolveParameterAs(credentials, name) };
    },
    // Hot reload: inline functions get a fresh module instance for each new definition.
    inlineImporter: watching?.importer.freshModuleImporter(keptModulesNotice(logger)),
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
      manifestAliases: templateAliases(template),
      codeStorageLimit: settings.codeStorageLimit,
      kmsKeyFile: settings.kmsKeyFile,
      listener: {
        reservedConcurrencyChanged: (name, limit) => invoker.setReservedConcurrency(name, limit),
        versionRemoved: (name, version) => {
          invoker.retire(name, version);
          // A deleted function (its $LATEST gone) or version takes its event invoke configuration along, as AWS's does.
          eventServices?.configs.forget(name, version === LATEST ? undefined : version);
        },
        versionAdded: (definition) => noteRuntimes([definition]),
      },
    });
  } catch (error) {
    await invoker.close();
    await logStore.close();
    throw error;
  }
  // After the catalog: the data directory's key exists by then, and seals SecureStrings too.
  let parameterStore: ParameterStore;
  try {
    parameterStore = new ParameterStore(dataDir, settings.kmsKeyFile);
  } catch (error) {
    catalog.close();
    await invoker.close();
    await logStore.close();
    throw error;
  }
  const parameters = new ParameterService(parameterStore, settings);
  const sessionResolver = keys === undefined ? undefined : credentialResolver(() => keys, settings.accountId, issuer);
  // A `{{resolve:ssm:...}}` reference reads as the function would: with auth on, only what its role may read
  // (else deploying a function would be a way to read any parameter).
  resolveParameterAs = (credentials, name) => {
    if (sessionResolver !== undefined) {
      const resolved = sessionResolver(credentials.accessKeyId, credentials.sessionToken);
      if (resolved instanceof AwsError) throw resolved;
      const refusal = authorize(resolved.principal, { action: 'ssm:GetParameter', resource: parameterArn(settings, name.split(':')[0]!) })
        ?? decryptRefusal(resolved.principal, settings, parameters.keyIdOf(name));
      if (refusal !== undefined) throw refusal;
    }
    return parameters.read(name, true).Value;
  };
  let services: EventServices;
  try {
    services = eventServices = openEventServices({ dataDir, settings, invoker, catalog, logger, endpoint: () => functionEndpoint, declared: definitions });
  } catch (error) {
    await invoker.close();
    catalog.close();
    parameterStore.close();
    await logStore.close();
    throw error;
  }
  const { events, topics } = services;
  const metrics = new ServerMetrics(invoker.serverId, events);
  // Replaced as a whole when hot reload reads new routes.
  let gateway = gatewayOf(manifest, template, options.functions);
  let routes = new RouteTable(gateway.declaration);
  // The hook points of each server: browser protection and authentication guard the Lambda APIs only;
  // the gateway answers the web as its routes declare.
  const apiHooks = new RequestHooks();
  const browserPolicy = { allowedOrigins: settings.allowedOrigins, allowedHosts: settings.allowedHosts, boundHost: settings.host };
  // The web console is a page of this server: its same-origin requests pass, with a session of its own when auth is on.
  apiHooks.beforeBody.push(withConsoleGuard(browserGuard(browserPolicy), browserPolicy));
  if (keys !== undefined) requireAuthentication(apiHooks, createRequestAuth({ keys: () => keys, identity: settings, issuer, parameterKeyId: (name) => parameters.keyIdOf(name) }), isConsoleOperation);
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
    get table() {
      return routes;
    },
    get basePaths() {
      return gateway.basePaths;
    },
    registry: catalog, invoker, identity: settings, logger, hooks: gatewayHooks, limits,
  });
  // The Invoke route comes first: it is the hot path, matched before any other.
  let httpUrl: string | undefined;
  const consolePages = consoleRoutes({
    assets: new ConsoleAssets(), catalog, invoker, history, identity: settings, gatewayUrl: () => httpUrl,
    get gatewayRoutes() {
      return gateway.declaration.routes;
    },
    sessions: keys === undefined ? undefined : new ConsoleSessions(() => keys, settings.accountId),
    logs: settings.logMaxBytes > 0 ? logStore : undefined,
    parameters,
  });
  const server = createApiServer([
    invokeRoute(catalog, invoker, events, settings), ...managementRoutes(catalog, settings, (arn) => topics.exists(arn)),
    ...eventInvokeConfigRoutes(catalog, services.configs, settings, (arn) => topics.exists(arn)), snsRoute(topics),
    ssmRoute(parameters, settings), cloudWatchLogsRoute(logStore, settings, settings.logRetention),
    metricsRoute(metrics), healthcheckRoute, ...consolePages,
  ], logger, apiHooks, limits);
  server.keepAliveTimeout = 65_000;
  const extensionHooks = new RequestHooks();
  extensionHooks.beforeBody.push(browserGuard({ ...browserPolicy, boundHost: '127.0.0.1' }));
  const extensionServer = createParametersExtensionServer({
    service: parameters, identity: settings, logger, hooks: extensionHooks, limits,
    caller: extensionCallers(issuer, sessionResolver),
    environmentOf: (name) => catalog.resolve(name, undefined)?.environment,
  });

  let declared = definitions;
  /** Serves a reloaded declaration (hot reload); throws `ConfigError`, changing nothing, when it cannot be served. */
  const applyDeclaration = (next: DeclaredFunctions) => {
    checkFunctionNetwork(settings, next.definitions, sandbox);
    const nextGateway = gatewayOf(next.manifest, next.template, options.functions);
    const nextRoutes = new RouteTable(nextGateway.declaration);
    catalog.replaceManifest(next.definitions, templateAliases(next.template));
    declared = next.definitions;
    noteRuntimes(next.definitions);
    if (gatewayServer === undefined && !nextRoutes.empty) {
      logger.log('warn', 'routes declared after the start are served from the next start: the API Gateway starts with the server when routes are declared');
    }
    gateway = nextGateway;
    routes = nextRoutes;
  };
  let hotReload: HotReload | undefined;
  let url: string;
  try {
    url = await listen(server, settings.port, settings.host, 'the Lambda API', '--port (SERVERFULL_PORT)');
    functionEndpoint = localEndpoint(settings.host, (server.address() as AddressInfo).port);
    if (gatewayServer) httpUrl = await listen(gatewayServer, settings.httpPort, settings.host, 'the API Gateway', '--http-port (SERVERFULL_HTTP_PORT)');
    parametersPort = await listenForExtension(extensionServer, settings.parametersPort, logger);
    if (watching) {
      hotReload = await watching.reload.HotReload.start({ declaration, current: { settings, manifest, template, definitions }, dataDir, logger, apply: applyDeclaration });
    }
  } catch (error) {
    await hotReload?.close();
    server.close();
    extensionServer.close();
    gatewayServer?.close();
    metrics.close();
    history.close();
    await invoker.close();
    catalog.close();
    parameterStore.close();
    services.close();
    await logStore.close();
    throw error;
  }
  // Events a stopped server had accepted and not finished: run once the functions can reach the API.
  const restored = services.restore();
  if (restored > 0) logger.log('info', `${restored} queued events from before the restart are run again`);
  const servers = gatewayServer ? [server, gatewayServer, extensionServer] : [server, extensionServer];
  if (unref) {
    for (const s of servers) {
      s.unref();
      s.on('connection', (socket) => socket.unref());
    }
  }
  const port = (server.address() as AddressInfo).port;
  const served = catalog.list();
  noteRuntimes(served);
  // Started now rather than at a first cold start, once listening: the helper that runs chrt (batch-scheduling.ts;
  // functions deployed later get deployedIsolation), and a thread for the worker functions, whose first cold start is
  // often the first request a server serves.
  if (settings.deployedIsolation !== 'inline' || served.some((definition) => BATCH_SCHEDULED_KINDS.has(environmentKind(definition)))) void startBatchScheduling();
  invoker.prepareWorkers(served);
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
        await hotReload?.close();
        const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
        for (const s of servers) s.closeIdleConnections();
        const deadline = Date.now() + settings.shutdownTimeout * 1000;
        while ((invoker.inFlight > 0 || events.pending > 0) && Date.now() < deadline) {
          await delay(20);
        }
        // The last answers are ended at the end of their turn (response-batch.ts): an immediate queued now runs after them.
        await nextTurn();
        services.close();
        for (const s of servers) s.closeAllConnections();
        await Promise.all([closed, invoker.close()]);
        metrics.close();
        history.close();
        catalog.close();
        parameterStore.close();
        // After the environments: the last invocations' lines are in the last batch.
        await logStore.close();
      } finally {
        clearInterval(holdOpen);
      }
    })();
    return closing;
  };
  return {
    url, port, settings, httpUrl, warnings: template?.warnings ?? [], close, serverId: invoker.serverId,
    get functions() {
      return declared;
    },
    get inFlight() {
      return invoker.inFlight + events.pending;
    },
  };
}

/** The environment kinds whose code runs under SCHED_BATCH (batch-scheduling.ts). */
const BATCH_SCHEDULED_KINDS: ReadonlySet<string> = new Set(['worker', 'process']);

/** Bytes of inline modules kept in memory by hot reload past which the log says so, the first time; then at each doubling. */
const KEPT_MODULES_NOTICE_BYTES = 16 * 1024 * 1024;

/** Says, as it grows, how much code hot reload's inline module instances keep in memory: Node.js cannot unload them. */
function keptModulesNotice(logger: Logger): KeptModules {
  let threshold = KEPT_MODULES_NOTICE_BYTES;
  return ({ loads, bytes }) => {
    if (bytes < threshold) return;
    while (threshold <= bytes) threshold *= 2;
    logger.log('warn', `hot reload has loaded inline functions ${loads} times, keeping ${Math.round(bytes / 1024 / 1024)} MB of their code in memory `
      + '(Node.js cannot unload modules): restart to free it, or use worker isolation, whose threads end with their code', { loads, bytes });
  };
}

/** SAM's `AutoPublishAlias` of the template's functions, by function name. */
function templateAliases(template: SamTemplate | undefined): ReadonlyMap<string, string> {
  return new Map((template?.functions ?? []).filter((fn) => fn.alias).map((fn) => [fn.name, fn.alias!]));
}

/**
 * Says once per runtime, as functions appear, what Node.js runs a function that declares it: the installed one
 * (process isolation), or, when that is not the declared major, the server's own, and how to get the declared one.
 */
function runtimeNotes(logger: Logger, nodes: NodeInstalls): (functions: readonly FunctionDefinition[]) => void {
  const said = new Set<string>();
  return (functions) => {
    const byNote = new Map<string, { level: 'info' | 'warn'; runtime: string; names: string[] }>();
    for (const fn of functions) {
      if (said.has(fn.runtime) || isCustomRuntime(fn.runtime) || fn.mock) continue;
      const python = isPythonRuntime(fn.runtime);
      // Python's version is the machine's interpreter's, found on first use.
      const mismatch = python ? pythonMismatch(fn.runtime, pythonInterpreter(fn.runtime)) : runtimeMismatch(fn.runtime);
      const install = !python && (fn.isolation === 'process' || mismatch !== undefined) ? nodes.find(fn.runtime) : undefined;
      let level: 'info' | 'warn' = 'warn';
      let note: string;
      if (python) {
        if (mismatch === undefined) continue;
        note = mismatch;
      } else if (fn.isolation === 'process' && install !== undefined) {
        level = 'info';
        note = `${fn.runtime} functions in process isolation run on Node.js ${install.version} from ${install.folder}`;
      } else if (mismatch === undefined) {
        continue;
      } else {
        note = install !== undefined
          ? `${mismatch}: only process isolation runs the installed Node.js ${install.version}, ${fn.isolation} isolation runs in the server's threads`
          : `${mismatch}: install it with "serverfull runtimes install ${fn.runtime}" (into ${nodes.dir}) to run process isolation on it`;
      }
      const entry = byNote.get(note) ?? { level, runtime: fn.runtime, names: [] };
      entry.names.push(fn.name);
      byNote.set(note, entry);
    }
    for (const [note, { level, runtime, names }] of byNote) {
      said.add(runtime);
      logger.log(level, note, { runtime, functions: names.join(',') });
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

/**
 * Listens for the Parameters and Secrets extension on loopback at `port`; when another server holds it (a second
 * serverfull on the machine, tests), on a free port instead: functions learn it from `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`.
 */
async function listenForExtension(server: Server, port: number, logger: Logger): Promise<number> {
  try {
    await listen(server, port, '127.0.0.1', 'the Parameters and Secrets extension', '--parameters-port (SERVERFULL_PARAMETERS_PORT)');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.log('warn', `port ${port} is in use: the Parameters and Secrets extension's interface listens on another port, `
      + 'which functions read from PARAMETERS_SECRETS_EXTENSION_HTTP_PORT (choose one with --parameters-port)');
    await listen(server, 0, '127.0.0.1', 'the Parameters and Secrets extension', '--parameters-port (SERVERFULL_PARAMETERS_PORT)');
  }
  return (server.address() as AddressInfo).port;
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
