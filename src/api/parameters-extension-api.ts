/**
 * @module api/parameters-extension-api
 * The local HTTP interface of the AWS Parameters and Secrets Lambda Extension, for code written against it:
 * `GET /systemsmanager/parameters/get?name=NAME[&version=N|&label=L][&withDecryption=true]` with the
 * `X-Aws-Parameters-Secrets-Token` header (the environment's `AWS_SESSION_TOKEN`), answering GetParameter's
 * JSON. https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-integration-lambda-extensions.html
 *
 * One listener serves every environment: the token says which function asks (its role session), so
 * authorization (with `--auth sigv4`) and the cache are the function's own. The cache follows the function's
 * environment variables as the extension does: `PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED` (default true),
 * `SSM_PARAMETER_STORE_TTL` (seconds, 0 to 300, default 300; 0 caches nothing) and
 * `PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE` (entries, default 1000).
 *
 * Where serverfull differs from AWS: it listens on loopback on the server's side, on the `parametersPort`
 * setting (2773 by default; another free port, told to functions in `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`,
 * when that one is taken); a sandbox without a network reaches it at the same port in its own namespace,
 * through the network forwarder. `/secretsmanager/get` is not served (there is no Secrets Manager).
 */
import type { Server, ServerResponse } from 'node:http';
import { authorize } from '../auth/authorize.js';
import { decryptRefusal } from '../auth/ssm-operations.js';
import type { Principal } from '../auth/principal.js';
import type { SessionIssuer } from '../auth/session-issuer.js';
import type { CredentialResolver } from '../auth/sigv4-verifier.js';
import { AwsError, unrecognizedClient } from '../errors.js';
import { NO_BODY, type ApiRequest } from '../http/api-request.js';
import { RequestHooks } from '../http/request-hooks.js';
import { createPipelineServer, type PipelineApi } from '../http/request-pipeline.js';
import type { ServerLimits } from '../http/server-limits.js';
import type { Logger } from '../log.js';
import type { ParameterService } from '../parameters/parameter-service.js';
import { parameterArn, type ServiceIdentity } from '../registry/arns.js';

/** The extension's own port, where code written for it looks unless `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` says otherwise. */
export const EXTENSION_PORT = 2773;
const TOKEN_HEADER = 'x-aws-parameters-secrets-token';
const PATH = '/systemsmanager/parameters/get';

/** Who asks, from a token: the function (its role session's name) and, with authentication, its principal. */
export type ExtensionCaller = { readonly functionName: string; readonly principal?: Principal } | AwsError;

/** The cache settings of a function, from its environment variables. */
export interface ExtensionCacheSettings {
  readonly enabled: boolean;
  readonly ttlMs: number;
  readonly size: number;
}

/** What the extension's server needs. */
export interface ParametersExtensionOptions {
  readonly service: ParameterService;
  readonly identity: ServiceIdentity;
  readonly caller: (token: string) => ExtensionCaller;
  /** The environment variables of a function's `$LATEST`, for its cache settings; undefined for one that is gone. */
  readonly environmentOf: (functionName: string) => Readonly<Record<string, string>> | undefined;
  readonly logger: Logger;
  readonly hooks?: RequestHooks;
  readonly limits?: ServerLimits;
  /** The clock, in milliseconds; for tests. */
  readonly now?: () => number;
}

/** The callers of tokens minted by `issuer`; with `resolve` (authentication on), with their principal and policy. */
export function extensionCallers(issuer: SessionIssuer, resolve?: CredentialResolver): (token: string) => ExtensionCaller {
  return (token) => {
    const accessKeyId = issuer.accessKeyIdOf(token);
    if (accessKeyId === undefined) return unrecognizedClient();
    const lookup = issuer.resolve(accessKeyId, token);
    if (lookup.kind === 'expired') return new AwsError('ExpiredTokenException', 'The security token included in the request is expired');
    if (lookup.kind === 'invalid') return unrecognizedClient();
    if (resolve === undefined) return { functionName: lookup.session.sessionName };
    const resolved = resolve(accessKeyId, token);
    return resolved instanceof AwsError ? resolved : { functionName: lookup.session.sessionName, principal: resolved.principal };
  };
}

/** The cache settings `environment` gives, as the extension reads them (values it cannot read keep its defaults). */
export function cacheSettingsOf(environment: Readonly<Record<string, string>> | undefined): ExtensionCacheSettings {
  const number = (name: string, max: number, fallback: number) => {
    const text = environment?.[name];
    const value = text === undefined || !/^\d{1,6}$/.test(text) ? fallback : Number(text);
    return Math.min(value, max);
  };
  return {
    enabled: environment?.PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED?.toLowerCase() !== 'false',
    ttlMs: number('SSM_PARAMETER_STORE_TTL', 300, 300) * 1000,
    size: number('PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE', 1000, 1000),
  };
}

/** The extension's HTTP server (not listening yet). */
export function createParametersExtensionServer(options: ParametersExtensionOptions): Server {
  const now = options.now ?? Date.now;
  // Per function: answers by request, oldest first (a Map keeps insertion order), with when they expire.
  const caches = new Map<string, Map<string, { readonly body: string; readonly expires: number }>>();
  const api: PipelineApi<true> = {
    name: 'parameters-extension',
    logMessage: 'parameters extension request',
    failureMessage: 'unexpected error in the parameters extension',
    logsQuery: false,
    match(request) {
      if (request.method !== 'GET' || request.path !== PATH) return new AwsError('ResourceNotFoundException', `Not found: serverfull serves ${PATH} only`);
      request.target = true;
      request.operation = 'GetParameter';
      request.bodyLimit = NO_BODY;
      if (request.rawQuery !== '') request.query = new URLSearchParams(request.rawQuery);
      return undefined;
    },
    handle(request, response, finish) {
      const token = request.headers[TOKEN_HEADER];
      if (typeof token !== 'string' || token === '') {
        return finish(request, response, new AwsError('MissingAuthenticationTokenException', `The ${TOKEN_HEADER} header (the value of AWS_SESSION_TOKEN) is missing`));
      }
      const caller = options.caller(token);
      if (caller instanceof AwsError) return finish(request, response, caller);
      const name = request.query.get('name');
      if (name === null || name === '') return finish(request, response, new AwsError('ValidationException', 'The name query parameter is missing'));
      const version = request.query.get('version');
      const label = request.query.get('label');
      if (version !== null && label !== null) return finish(request, response, new AwsError('ValidationException', 'Give version or label, not both'));
      const given = version !== null ? `${name}:${version}` : label !== null ? `${name}:${label}` : name;
      const decrypt = request.query.get('withDecryption') === 'true';
      if (caller.principal !== undefined) {
        const refusal = authorize(caller.principal, { action: 'ssm:GetParameter', resource: parameterArn(options.identity, name.split(':')[0]!) })
          ?? (decrypt ? decryptRefusal(caller.principal, options.identity, options.service.keyIdOf(name)) : undefined);
        if (refusal !== undefined) return finish(request, response, refusal);
      }
      const settings = cacheSettingsOf(options.environmentOf(caller.functionName));
      const key = `${decrypt ? 'd' : 'e'}:${given}`;
      const cache = caches.get(caller.functionName);
      const cached = cache?.get(key);
      let body: string;
      if (cached !== undefined && cached.expires > now()) {
        body = cached.body;
      } else {
        body = JSON.stringify({ Parameter: options.service.read(given, decrypt), ResultMetadata: {} });
        if (settings.enabled && settings.ttlMs > 0 && settings.size > 0) remember(caller.functionName, key, body, now() + settings.ttlMs, settings.size);
      }
      response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
      finish(request, response, undefined);
    },
    clientAborted: () => ({}),
    renderError(_request: ApiRequest<true>, response: ServerResponse, error: AwsError) {
      const body = JSON.stringify({ __type: error.type, message: error.message });
      response.writeHead(error.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'x-amzn-ErrorType': error.type }).end(body);
    },
  };
  const remember = (functionName: string, key: string, body: string, expires: number, size: number) => {
    let cache = caches.get(functionName);
    if (cache === undefined) caches.set(functionName, cache = new Map());
    cache.delete(key);
    cache.set(key, { body, expires });
    while (cache.size > size) cache.delete(cache.keys().next().value!);
  };
  return createPipelineServer(api, options.hooks ?? new RequestHooks(), options.logger, options.limits);
}
