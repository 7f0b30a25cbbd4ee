/**
 * @module console/console-api
 * The web console's routes on the Lambda API server: its page and files under `/console`, and a
 * small JSON API under `/console/api` that reads the catalog, the gateway routes and the
 * invocation history, and test-invokes functions through the same invoker as Invoke.
 *
 * With auth on, a request carries the session cookie of a console login instead of a signature,
 * and is authorized as that user with the policy the Lambda APIs apply: listing needs
 * `lambda:ListFunctions`, a function's data `lambda:GetFunction` on it, a test invoke
 * `lambda:InvokeFunction` on the function (and qualifier) invoked; the Parameter Store's listing
 * `ssm:DescribeParameters`, a value `ssm:GetParameter` on the parameter. SecureString values are never
 * listed: each is read on its own, decrypted, when the user asks to see it.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { isUtf8 } from 'node:buffer';
import { authorize } from '../auth/authorize.js';
import { decryptRefusal } from '../auth/ssm-operations.js';
import type { Principal } from '../auth/principal.js';
import { renderConfiguration } from '../api/function-configuration.js';
import { parseFunctionRef } from '../api/function-ref.js';
import type { Route, RouteRequest } from '../api/route.js';
import { MAX_SYNC_PAYLOAD } from '../api/invoke-api.js';
import type { FunctionCatalog } from '../deploy/function-catalog.js';
import { AwsError, functionNotFound } from '../errors.js';
import type { HttpRoute } from '../gateway/http-api.js';
import { NO_BODY } from '../http/api-request.js';
import type { LogStore } from '../logs/log-store.js';
import { functionArn, type ServiceIdentity } from '../registry/arns.js';
import type { Invoker, InvokeOutput } from '../runtime/invoker.js';
import { isObject } from '../values.js';
import { CONSOLE_SECURITY_HEADERS, type ConsoleAssets } from './console-assets.js';
import { CONSOLE_OPERATION_PREFIX } from './console-guard.js';
import { SESSION_COOKIE, sessionTokenOf, type ConsoleSessions } from './console-sessions.js';
import type { InvocationHistory } from './invocation-history.js';
import type { ParameterService } from '../parameters/parameter-service.js';
import { parameterArn } from '../registry/arns.js';

/** What the console reads and drives. */
export interface ConsoleOptions {
  readonly assets: ConsoleAssets;
  readonly catalog: FunctionCatalog;
  readonly invoker: Invoker;
  readonly history: InvocationHistory;
  readonly identity: ServiceIdentity;
  /** The gateway's routes, to show with their functions. */
  readonly gatewayRoutes: readonly HttpRoute[];
  /** The gateway's URL, when it listens; read when asked, since it listens after the routes are built. */
  readonly gatewayUrl: () => string | undefined;
  /** Logins and sessions when auth is on; undefined when it is off. */
  readonly sessions?: ConsoleSessions;
  /** The stored logs, where an invocation's log is read; undefined when logs are not stored. */
  readonly logs?: LogStore;
  /** The Parameter Store, shown on its own page of the console. */
  readonly parameters?: ParameterService;
}

/** Parameters the console lists at most (the Standard tier holds 10,000). */
const MAX_LISTED_PARAMETERS = 10_000;

/** Log tails of test invokes kept to show again. */
const MAX_KEPT_TAILS = 200;
/** Invocations listed when the request does not say how many; at most `MAX_LISTED`. */
const DEFAULT_LISTED = 200;
const MAX_LISTED = 1000;
/** A login's body: two short strings. */
const SESSION_BODY_LIMIT = 4096;
/** Room for the test invoke's JSON around its payload. */
const INVOKE_BODY_LIMIT = MAX_SYNC_PAYLOAD + 65_536;

/** A JSON answer, or an `AwsError` thrown or returned. */
type ConsoleHandler = (call: ConsoleCall) => unknown;

/** One console API request, with its caller. */
interface ConsoleCall {
  readonly request: RouteRequest;
  readonly response: ServerResponse;
  /** The session's user; undefined when auth is off. */
  readonly principal: Principal | undefined;
}

/** The console's routes. */
export function consoleRoutes(options: ConsoleOptions): Route[] {
  const { catalog, identity, sessions, history, logs } = options;
  const tails = new Map<string, { functionName: string; tail: string }>();
  const may = (principal: Principal | undefined, action: string, resource: string): AwsError | undefined =>
    principal === undefined ? undefined : authorize(principal, { action: `lambda:${action}`, resource });
  const mayRead = (principal: Principal | undefined, name: string) => may(principal, 'GetFunction', functionArn(identity, name)) === undefined;

  const page = (pattern: RegExp, file: (request: RouteRequest) => string): Route => ({
    method: 'GET',
    pattern,
    operation: `${CONSOLE_OPERATION_PREFIX}Page`,
    bodyLimit: () => NO_BODY,
    abandoned: () => ({}),
    handle(request, response, finish) {
      options.assets.serve(file(request), response);
      finish(request, response, undefined);
    },
  });

  return [
    page(/^\/console\/?$/, () => 'index.html'),
    page(/^\/console\/(console\.(?:js|css))$/, (request) => request.params[0]!),
    apiRoute('GET', /^\/console\/api\/session$/, 'Session', NO_BODY, false, ({ principal }) => ({ auth: sessions !== undefined, user: principal?.name ?? null })),
    apiRoute('POST', /^\/console\/api\/session$/, 'Login', SESSION_BODY_LIMIT, false, ({ request, response }) => {
      if (!sessions) return { auth: false, user: null };
      const body = jsonBody(request);
      const { accessKeyId, secretAccessKey } = body;
      if (typeof accessKeyId !== 'string' || typeof secretAccessKey !== 'string' || accessKeyId.length > 128 || secretAccessKey.length > 1024) {
        throw new AwsError('ValidationException', 'accessKeyId and secretAccessKey are required strings');
      }
      const result = sessions.login(accessKeyId, secretAccessKey, request.socket.remoteAddress ?? '');
      if (result === 'tooManyFailures') throw new AwsError('TooManyRequestsException', 'Too many failed logins from this address: retry in a minute');
      if (result === 'invalid') throw new AwsError('UnrecognizedClientException', 'The access key id or secret access key is not valid.');
      // No Secure attribute: the server speaks plain HTTP (put a TLS proxy in front of it on a network).
      response.setHeader('Set-Cookie', `${SESSION_COOKIE}=${result.token}; HttpOnly; SameSite=Strict; Path=/console; Max-Age=${sessions.maxAgeSeconds}`);
      return { auth: true, user: result.principal.name };
    }),
    apiRoute('DELETE', /^\/console\/api\/session$/, 'Logout', NO_BODY, false, ({ request, response }) => {
      sessions?.logout(sessionTokenOf(request.headers.cookie));
      response.setHeader('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/console; Max-Age=0`);
      return { auth: sessions !== undefined, user: null };
    }),
    apiRoute('GET', /^\/console\/api\/functions$/, 'ListFunctions', NO_BODY, true, ({ principal }) => {
      const refused = may(principal, 'ListFunctions', '*');
      if (refused) throw refused;
      const gatewayUrl = options.gatewayUrl() ?? null;
      return {
        gatewayUrl,
        functions: catalog.listFunctions(false).filter((view) => mayRead(principal, view.record.functionName)).map((view) => {
          const name = view.record.functionName;
          return {
            name,
            configuration: renderConfiguration(view, 'listed'),
            versions: catalog.listVersions(name).map((v) => ({
              version: v.record.version, description: v.record.config.description, codeSha256: v.record.codeSha256, lastModified: v.record.lastModified,
            })),
            aliases: catalog.listAliases(name, undefined).map((a) => ({ name: a.name, functionVersion: a.functionVersion, weights: a.weights ?? {}, description: a.description })),
            routes: options.gatewayRoutes.filter((r) => r.functionName === name).map((r) => ({ method: r.method, path: r.path, qualifier: r.qualifier ?? null, apiId: r.apiId })),
          };
        }),
      };
    }),
    apiRoute('GET', /^\/console\/api\/functions\/([^/]+)\/metrics$/, 'GetFunction', NO_BODY, true, ({ request, principal }) => {
      const { name } = parseFunctionRef(request.params[0]!, undefined, identity);
      const refused = may(principal, 'GetFunction', functionArn(identity, name));
      if (refused) throw refused;
      if (!catalog.resolve(name, undefined)) throw functionNotFound(functionArn(identity, name));
      return { function: name, minutes: history.minutes(name) };
    }),
    apiRoute('GET', /^\/console\/api\/invocations$/, 'ListInvocations', NO_BODY, true, ({ request, principal }) => {
      const functionName = request.query.get('function') ?? undefined;
      const traceId = request.query.get('traceId') ?? undefined;
      const readable = new Map<string, boolean>();
      const records = history.list({ functionName, traceId }).filter((record) => {
        let allowed = readable.get(record.functionName);
        if (allowed === undefined) readable.set(record.functionName, (allowed = mayRead(principal, record.functionName)));
        return allowed;
      });
      const limit = Math.min(MAX_LISTED, Math.max(1, Number.parseInt(request.query.get('limit') ?? '', 10) || DEFAULT_LISTED));
      return { invocations: records.slice(0, limit).map((record) => ({ ...record, hasLog: logs !== undefined || tails.has(record.requestId) })) };
    }),
    apiRoute('GET', /^\/console\/api\/invocations\/([0-9a-fA-F-]{1,64})\/log$/, 'GetInvocationLog', NO_BODY, true, async ({ request, principal }) => {
      const requestId = request.params[0]!;
      const kept = tails.get(requestId);
      if (kept && mayRead(principal, kept.functionName)) return { requestId, log: kept.tail };
      // Any other invocation: its lines in the stored log, once what was recorded before this request is written.
      const record = history.find(requestId);
      if (record && logs && mayRead(principal, record.functionName)) {
        await logs.sync();
        // A second of slack: the log's START is stamped by the invoker, the history's start by the lifecycle event.
        const events = logs.invocationEvents(record.functionName, requestId, record.startedAt - 1000);
        if (events.length > 0) return { requestId, log: events.map((event) => event.message.endsWith('\n') ? event.message : `${event.message}\n`).join('') };
      }
      throw new AwsError('ResourceNotFoundException', 'No stored log for this invocation');
    }),
    apiRoute('GET', /^\/console\/api\/parameters$/, 'ListParameters', NO_BODY, true, ({ request, principal }) => {
      const service = options.parameters;
      if (service === undefined) return { parameters: [] };
      if (principal !== undefined) {
        const refused = authorize(principal, { action: 'ssm:DescribeParameters', resource: `arn:aws:ssm:${identity.region}:${identity.accountId}:*` });
        if (refused) throw refused;
      }
      const path = request.query.get('path');
      const filters = path === null || path === '' || path === '/' ? undefined : [{ Key: 'Path', Option: 'Recursive', Values: [path] }];
      const listed: Array<{ Name: string; Type: string; Version: number; LastModifiedDate: number; Description?: string }> = [];
      let token: string | undefined;
      do {
        const page = service.operations.DescribeParameters!({ ParameterFilters: filters, MaxResults: 50, NextToken: token }, '') as { Parameters: typeof listed; NextToken?: string };
        listed.push(...page.Parameters);
        token = page.NextToken;
      } while (token !== undefined && listed.length < MAX_LISTED_PARAMETERS);
      return {
        parameters: listed.map((p) => {
          const readable = principal === undefined || authorize(principal, { action: 'ssm:GetParameter', resource: parameterArn(identity, p.Name) }) === undefined;
          return {
            name: p.Name, type: p.Type, version: p.Version, lastModified: p.LastModifiedDate * 1000, description: p.Description ?? '',
            // A SecureString's value only when asked for, one at a time.
            value: p.Type === 'SecureString' || !readable ? null : service.read(p.Name, false).Value,
            readable,
          };
        }),
      };
    }),
    apiRoute('GET', /^\/console\/api\/parameter$/, 'GetParameter', NO_BODY, true, ({ request, principal }) => {
      const service = options.parameters;
      const name = request.query.get('name');
      if (service === undefined || name === null || name === '') throw new AwsError('ValidationException', 'name is required');
      if (principal !== undefined) {
        const refused = authorize(principal, { action: 'ssm:GetParameter', resource: parameterArn(identity, name.split(':')[0]!) })
          ?? (request.query.get('decrypt') === 'true' ? decryptRefusal(principal, identity, service.keyIdOf(name)) : undefined);
        if (refused) throw refused;
      }
      const parameter = service.read(name, request.query.get('decrypt') === 'true');
      return { name: parameter.Name, type: parameter.Type, version: parameter.Version, value: parameter.Value };
    }),
    apiRoute('POST', /^\/console\/api\/invoke$/, 'Invoke', INVOKE_BODY_LIMIT, true, async ({ request, principal }) => {
      const body = jsonBody(request);
      if (typeof body.function !== 'string') throw new AwsError('ValidationException', 'function is a required string');
      if (body.qualifier !== undefined && body.qualifier !== null && body.qualifier !== '' && typeof body.qualifier !== 'string') throw new AwsError('ValidationException', 'qualifier must be a string');
      const ref = parseFunctionRef(body.function, typeof body.qualifier === 'string' && body.qualifier !== '' ? body.qualifier : undefined, identity);
      const refused = may(principal, 'InvokeFunction', functionArn(identity, ref.name, ref.qualifier));
      if (refused) throw refused;
      const definition = catalog.resolve(ref.name, ref.qualifier);
      if (!definition) throw functionNotFound(functionArn(identity, ref.name, ref.qualifier ?? '$LATEST'));
      const payload = typeof body.payload === 'string' && body.payload.trim() !== '' ? body.payload : '{}';
      let event: unknown;
      try {
        event = JSON.parse(payload);
      } catch (error) {
        throw new AwsError('InvalidRequestContentException', `Could not parse request body into json: Could not parse payload into json: ${(error as Error).message}`);
      }
      const requestId = randomUUID();
      const output = await new Promise<InvokeOutput>((resolve, reject) => {
        try {
          options.invoker.invoke({
            definition, requestId, payload, event, invokedFunctionArn: functionArn(identity, definition.name, ref.qualifier), tail: true,
          }, resolve);
        } catch (error) {
          reject(error);
        }
      });
      const tail = output.logResult === undefined ? '' : Buffer.from(output.logResult, 'base64').toString('utf8');
      if (tails.size >= MAX_KEPT_TAILS) tails.delete(tails.keys().next().value!);
      tails.set(requestId, { functionName: definition.name, tail });
      return {
        requestId, statusCode: 200, executedVersion: output.executedVersion, functionError: output.functionError ?? null, payload: output.payload, log: tail,
      };
    }),
  ];

  /** A console API route: security headers, the session's user (required when `private` and auth is on), a JSON answer. */
  function apiRoute(method: string, pattern: RegExp, name: string, bodyLimit: number, privateRoute: boolean, handler: ConsoleHandler): Route {
    return {
      method,
      pattern,
      operation: `${CONSOLE_OPERATION_PREFIX}${name}`,
      bodyLimit: () => bodyLimit,
      abandoned: () => ({}),
      handle(request, response, finish) {
        for (const [header, value] of Object.entries(CONSOLE_SECURITY_HEADERS)) response.setHeader(header, value);
        const principal = sessions?.principal(sessionTokenOf(request.headers.cookie));
        if (privateRoute && sessions && !principal) {
          return finish(request, response, new AwsError('MissingAuthenticationTokenException', 'Log in to the console first'));
        }
        Promise.resolve().then(() => handler({ request, response, principal })).then(
          (value) => {
            const text = JSON.stringify(value);
            response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
            finish(request, response, undefined);
          },
          (error: unknown) => finish(request, response, error),
        );
      },
    };
  }
}

/** The request body as a JSON object, or `InvalidRequestContentException`. */
function jsonBody(request: RouteRequest): Record<string, unknown> {
  const invalid = new AwsError('InvalidRequestContentException', 'The request body must be a JSON object');
  if (!isUtf8(request.body)) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body.toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!isObject(parsed)) throw invalid;
  return parsed as Record<string, unknown>;
}
