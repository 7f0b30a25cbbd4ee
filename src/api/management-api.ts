/**
 * @module api/management-api
 * The Lambda management API (functions, code, configuration, versions, aliases,
 * reserved concurrency) over `FunctionCatalog`, request and response shapes as in
 * https://docs.aws.amazon.com/lambda/latest/api/ so the AWS SDKs and CLI work unchanged.
 * Off the hot path: handlers here may use promises.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsError } from '../errors.js';
import { LATEST, type FunctionCatalog } from '../deploy/function-catalog.js';
import { defaultRole, type ServiceIdentity } from '../registry/arns.js';
import type { StoredConfiguration } from '../deploy/deployment-store.js';
import { MAX_ZIPPED_BYTES } from '../deploy/zip-archive.js';
import { EPHEMERAL_STORAGE, MAX_DESCRIPTION_LENGTH, MEMORY_SIZE, RESERVED_CONCURRENCY, TIMEOUT } from '../registry/function-limits.js';
import { AWS_RUNTIMES, SUPPORTED_RUNTIMES } from '../registry/runtimes.js';
import { parseFunctionRef, type FunctionRef } from './function-ref.js';
import { renderAlias, renderConfiguration } from './function-configuration.js';
import {
  decodeZipFile, field, paginate, parseJsonBody, readEnvironment, ROLE_PATTERN, validationError, type RequestBody,
} from './management-request.js';
import { NO_BODY } from '../http/api-request.js';
import type { Route, RouteRequest } from './route.js';

/** Largest `CreateFunction`/`UpdateFunctionCode` request: a 50 MB zip, base64-encoded, in JSON. */
const MAX_CODE_REQUEST = 70_167_211;
/** Largest request of the other operations. */
const MAX_REQUEST = 1_048_576;

const HANDLER = /^[^\s]+$/;
const ALIAS_NAME = /^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/;
const FUNCTION_VERSION = /^(\$LATEST|[0-9]+)$/;
const QUALIFIER = /^(|[a-zA-Z0-9$_-]+)$/;
const PLAIN_NAME = /^[a-zA-Z0-9-_]+$/;
/** Fields of AWS's model that serverfull cannot honour: refused rather than silently ignored. */
const UNSUPPORTED_FIELDS = ['Layers', 'VpcConfig', 'KMSKeyArn', 'FileSystemConfigs', 'ImageConfig', 'CodeSigningConfigArn', 'SnapStart', 'DryRun'];

/** One management request, as a handler sees it. */
export interface Operation {
  readonly ref: FunctionRef;
  readonly request: RouteRequest;
  readonly body: RequestBody;
  /** `http://host:port` as the client reached this server. */
  readonly origin: string;
}

/** A handler's answer. */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
}

/** Answers one management operation. */
export type OperationHandler = (operation: Operation) => Reply | Promise<Reply>;

/** The management API routes over `catalog`. */
export function managementRoutes(catalog: FunctionCatalog, identity: ServiceIdentity, topicExists: (topicArn: string) => boolean = () => false): Route[] {
  const fn = '/2015-03-31/functions';
  const one = `${fn}/([^/]+)`;
  const route = (method: string, path: string, name: string, handle: OperationHandler, maxBody = MAX_REQUEST): Route =>
    operationRoute(method, new RegExp(`^${path}/?$`), name, maxBody, identity, handle);

  const getFunction = ({ ref, origin }: Operation): Reply => {
    const view = catalog.getVersion(ref.name, ref.qualifier);
    const record = catalog.getFunction(ref.name);
    const code: Record<string, string> = { RepositoryType: 'S3' };
    if (view.record.codeSha256) code.Location = `${origin}/serverfull/code/${Buffer.from(view.record.codeSha256, 'base64').toString('hex')}.zip`;
    const body: Record<string, unknown> = { Configuration: renderConfiguration(view, 'current'), Code: code };
    if (Object.keys(record.tags).length > 0) body.Tags = record.tags;
    if (record.reservedConcurrency !== undefined) body.Concurrency = { ReservedConcurrentExecutions: record.reservedConcurrency };
    return { status: 200, body };
  };

  return [
    route('POST', fn, 'CreateFunction', async ({ body }) => {
      const ref = parseFunctionRef(requiredString(body, 'FunctionName', 'functionName'), undefined, identity);
      if (ref.qualifier !== undefined || !PLAIN_NAME.test(ref.name)) {
        throw validationError(body.FunctionName, 'functionName', 'Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)');
      }
      if (ref.name.length > 64) {
        throw new AwsError('InvalidParameterValueException', `1 validation error detected: Value '${ref.name}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64`);
      }
      refuseUnsupported(body);
      const packageType = field.string(body, 'PackageType', 'packageType') ?? 'Zip';
      if (packageType !== 'Zip') throw new AwsError('InvalidParameterValueException', `PackageType ${packageType} is not supported by serverfull: deploy a .zip package`);
      const runtime = readRuntime(body);
      const handler = field.string(body, 'Handler', 'handler', { pattern: HANDLER, max: 128 });
      if (runtime === undefined || handler === undefined) {
        throw new AwsError('InvalidParameterValueException', 'Runtime and Handler are mandatory parameters for functions created with deployment packages.');
      }
      const config: StoredConfiguration = {
        runtime,
        handler,
        role: field.string(body, 'Role', 'role', { pattern: ROLE_PATTERN }) ?? defaultRole(identity.accountId),
        timeout: field.integer(body, 'Timeout', 'timeout', TIMEOUT.min, TIMEOUT.max) ?? TIMEOUT.default,
        memorySize: readMemorySize(body) ?? MEMORY_SIZE.default,
        ephemeralStorage: readEphemeralStorage(body) ?? EPHEMERAL_STORAGE.default,
        environment: readEnvironment(body) ?? {},
        description: field.string(body, 'Description', 'description', { max: MAX_DESCRIPTION_LENGTH }) ?? '',
        architectures: readArchitectures(body) ?? ['x86_64'],
        ...deadLetterOf(readDeadLetterTarget(body, topicExists)),
      };
      const zip = readZip(field.object(body, 'Code', 'code'));
      const publish = field.boolean(body, 'Publish', 'publish') ?? false;
      const tags = field.stringMap(body, 'Tags', 'tags') ?? {};
      const view = await catalog.createFunction(ref.name, config, zip, publish, tags);
      return { status: 201, body: renderConfiguration(view, 'created') };
    }, MAX_CODE_REQUEST),

    route('GET', fn, 'ListFunctions', ({ request }) => {
      const version = request.query.get('FunctionVersion');
      if (version !== null && version !== 'ALL') throw validationError(version, 'functionVersion', 'Member must satisfy enum value set: [ALL]');
      const views = catalog.listFunctions(version === 'ALL');
      const { page, nextMarker } = paginate(views, (v) => `${v.record.functionName}\u0000${versionSortKey(v.record.version)}`, request.query);
      return { status: 200, body: { Functions: page.map((v) => renderConfiguration(v, 'listed')), NextMarker: nextMarker } };
    }),

    route('GET', one, 'GetFunction', getFunction),

    route('DELETE', one, 'DeleteFunction', ({ ref }) => {
      catalog.deleteFunction(ref.name, ref.qualifier);
      return { status: 204 };
    }),

    route('GET', `${one}/configuration`, 'GetFunctionConfiguration', ({ ref }) => ({
      status: 200,
      body: renderConfiguration(catalog.getVersion(ref.name, ref.qualifier), 'current'),
    })),

    route('PUT', `${one}/configuration`, 'UpdateFunctionConfiguration', ({ ref, body }) => {
      unqualified(ref);
      refuseUnsupported(body);
      const change = {
        runtime: readRuntime(body),
        handler: field.string(body, 'Handler', 'handler', { pattern: HANDLER, max: 128 }),
        role: field.string(body, 'Role', 'role', { pattern: ROLE_PATTERN }),
        timeout: field.integer(body, 'Timeout', 'timeout', TIMEOUT.min, TIMEOUT.max),
        memorySize: readMemorySize(body),
        ephemeralStorage: readEphemeralStorage(body),
        environment: readEnvironment(body),
        description: field.string(body, 'Description', 'description', { max: MAX_DESCRIPTION_LENGTH }),
        deadLetterTarget: readDeadLetterTarget(body, topicExists),
      };
      const view = catalog.updateConfiguration(ref.name, change, revisionOf(body));
      return { status: 200, body: renderConfiguration(view, 'updated') };
    }),

    route('PUT', `${one}/code`, 'UpdateFunctionCode', async ({ ref, body }) => {
      unqualified(ref);
      refuseUnsupported(body);
      const architectures = readArchitectures(body);
      const zip = readZip(body);
      const publish = field.boolean(body, 'Publish', 'publish') ?? false;
      const view = await catalog.updateCode(ref.name, zip, publish, revisionOf(body), architectures);
      return { status: 200, body: renderConfiguration(view, 'updated') };
    }, MAX_CODE_REQUEST),

    route('POST', `${one}/versions`, 'PublishVersion', ({ ref, body }) => {
      unqualified(ref);
      const view = catalog.publishVersion(
        ref.name,
        field.string(body, 'CodeSha256', 'codeSha256'),
        field.string(body, 'Description', 'description', { max: MAX_DESCRIPTION_LENGTH }),
        revisionOf(body),
      );
      return { status: 201, body: renderConfiguration(view, 'current') };
    }),

    route('GET', `${one}/versions`, 'ListVersionsByFunction', ({ ref, request }) => {
      const { page, nextMarker } = paginate(catalog.listVersions(ref.name), (v) => versionSortKey(v.record.version), request.query);
      return { status: 200, body: { Versions: page.map((v) => renderConfiguration(v, 'listed')), NextMarker: nextMarker } };
    }),

    route('POST', `${one}/aliases`, 'CreateAlias', ({ ref, body }) => {
      unqualified(ref);
      const name = requiredString(body, 'Name', 'name', { pattern: ALIAS_NAME, max: 128 });
      const version = requiredString(body, 'FunctionVersion', 'functionVersion', { pattern: FUNCTION_VERSION, max: 1024 });
      const alias = catalog.createAlias(ref.name, name, version, field.string(body, 'Description', 'description', { max: MAX_DESCRIPTION_LENGTH }) ?? '', readWeights(body) ?? undefined);
      return { status: 201, body: renderAlias(alias, catalog.arn(ref.name, alias.name)) };
    }),

    route('GET', `${one}/aliases`, 'ListAliases', ({ ref, request }) => {
      unqualified(ref);
      const version = request.query.get('FunctionVersion') ?? undefined;
      const aliases = catalog.listAliases(ref.name, version);
      const { page, nextMarker } = paginate(aliases, (a) => a.name, request.query);
      return { status: 200, body: { Aliases: page.map((a) => renderAlias(a, catalog.arn(ref.name, a.name))), NextMarker: nextMarker } };
    }),

    route('GET', `${one}/aliases/([^/]+)`, 'GetAlias', ({ ref, request }) => {
      unqualified(ref);
      const alias = catalog.getAlias(ref.name, request.params[1]!);
      return { status: 200, body: renderAlias(alias, catalog.arn(ref.name, alias.name)) };
    }),

    route('PUT', `${one}/aliases/([^/]+)`, 'UpdateAlias', ({ ref, request, body }) => {
      unqualified(ref);
      const change = {
        functionVersion: field.string(body, 'FunctionVersion', 'functionVersion', { pattern: FUNCTION_VERSION, max: 1024 }),
        description: field.string(body, 'Description', 'description', { max: MAX_DESCRIPTION_LENGTH }),
        weights: readWeights(body),
      };
      const alias = catalog.updateAlias(ref.name, request.params[1]!, change, revisionOf(body));
      return { status: 200, body: renderAlias(alias, catalog.arn(ref.name, alias.name)) };
    }),

    route('DELETE', `${one}/aliases/([^/]+)`, 'DeleteAlias', ({ ref, request }) => {
      unqualified(ref);
      catalog.deleteAlias(ref.name, request.params[1]!);
      return { status: 204 };
    }),

    route('PUT', '/2017-10-31/functions/([^/]+)/concurrency', 'PutFunctionConcurrency', ({ ref, body }) => {
      onlyFunctions(ref);
      const limit = field.integer(body, 'ReservedConcurrentExecutions', 'reservedConcurrentExecutions', RESERVED_CONCURRENCY.min, RESERVED_CONCURRENCY.max);
      if (limit === undefined) throw validationError(null, 'reservedConcurrentExecutions', 'Member must not be null');
      return { status: 200, body: { ReservedConcurrentExecutions: catalog.putConcurrency(ref.name, limit) } };
    }),

    route('DELETE', '/2017-10-31/functions/([^/]+)/concurrency', 'DeleteFunctionConcurrency', ({ ref }) => {
      onlyFunctions(ref);
      catalog.deleteConcurrency(ref.name);
      return { status: 204 };
    }),

    route('GET', '/2019-09-30/functions/([^/]+)/concurrency', 'GetFunctionConcurrency', ({ ref }) => {
      onlyFunctions(ref);
      const limit = catalog.getFunction(ref.name).reservedConcurrency;
      return { status: 200, body: limit === undefined ? {} : { ReservedConcurrentExecutions: limit } };
    }),

    codeDownloadRoute(catalog),
  ];
}

/** A route that parses the JSON body the pipeline read, runs `handle` and writes its reply as JSON. */
export function operationRoute(method: string, pattern: RegExp, operation: string, maxBody: number, identity: ServiceIdentity, handle: OperationHandler): Route {
  return {
    method,
    pattern,
    operation,
    bodyLimit: () => maxBody,
    abandoned: () => ({ operation }),
    handle(request, response, finish) {
      const fields = { operation };
      const qualifier = request.query.get('Qualifier') ?? undefined;
      if (qualifier !== undefined) checkQualifier(qualifier);
      const ref: FunctionRef = request.params.length > 0 ? parseFunctionRef(request.params[0]!, qualifier, identity) : { name: '' };
      Promise.resolve()
        .then(() => handle({ ref, request, body: method === 'GET' || method === 'DELETE' ? {} : parseJsonBody(request.body), origin: originOf(request) }))
        .then((reply) => {
          writeReply(response, request.requestId, reply);
          finish(request, response, undefined, fields);
        }, (error: unknown) => finish(request, response, error, fields));
    },
  };
}

function writeReply(response: ServerResponse, requestId: string, reply: Reply): void {
  if (reply.body === undefined) {
    response.writeHead(reply.status, { 'x-amzn-RequestId': requestId }).end();
    return;
  }
  const text = JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': requestId,
  }).end(text);
}

/** `GET /serverfull/code/<sha256 hex>.zip`: the package `GetFunction`'s `Code.Location` points to. */
function codeDownloadRoute(catalog: FunctionCatalog): Route {
  return {
    method: 'GET',
    pattern: /^\/serverfull\/code\/([0-9a-f]{64})\.zip$/,
    operation: 'GetFunctionCodePackage',
    bodyLimit: () => NO_BODY,
    abandoned: () => ({}),
    handle(request, response, finish) {
      const codeSha256 = Buffer.from(request.params[0]!, 'hex').toString('base64');
      if (!catalog.usesPackage(codeSha256)) throw new AwsError('ResourceNotFoundException', 'Code package not found');
      const stream = createReadStream(catalog.archivePath(codeSha256));
      stream.once('open', () => {
        response.writeHead(200, { 'Content-Type': 'application/zip', 'x-amzn-RequestId': request.requestId });
        stream.pipe(response);
      });
      stream.once('error', (error) => finish(request, response, error));
      response.once('finish', () => finish(request, response, undefined));
    },
  };
}

function originOf(request: IncomingMessage): string {
  return `http://${request.headers.host ?? '127.0.0.1'}`;
}

function requiredString(body: RequestBody, key: string, member: string, limits?: Parameters<typeof field.string>[3]): string {
  const value = field.string(body, key, member, limits);
  if (value === undefined) throw validationError(null, member, 'Member must not be null');
  return value;
}

function checkQualifier(qualifier: string): void {
  if (qualifier.length > 128) throw validationError(qualifier, 'qualifier', 'Member must have length less than or equal to 128');
  if (!QUALIFIER.test(qualifier)) throw validationError(qualifier, 'qualifier', 'Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)');
}

function readRuntime(body: RequestBody): string | undefined {
  const runtime = field.string(body, 'Runtime', 'runtime');
  if (runtime === undefined) return undefined;
  if (!AWS_RUNTIMES.includes(runtime)) {
    throw new AwsError('InvalidParameterValueException', `Value ${runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [${AWS_RUNTIMES.join(', ')}] or be a valid ARN`);
  }
  if (!SUPPORTED_RUNTIMES.includes(runtime)) {
    throw new AwsError('InvalidParameterValueException', `The runtime parameter of ${runtime} is not supported by serverfull. Supported runtimes: ${SUPPORTED_RUNTIMES.join(', ')}.`);
  }
  return runtime;
}

function readMemorySize(body: RequestBody): number | undefined {
  return field.integer(body, 'MemorySize', 'memorySize', MEMORY_SIZE.min, MEMORY_SIZE.max);
}

/** `EphemeralStorage.Size`; AWS's model requires `Size` once `EphemeralStorage` is given. */
function readEphemeralStorage(body: RequestBody): number | undefined {
  const storage = field.object(body, 'EphemeralStorage', 'ephemeralStorage');
  if (storage === undefined) return undefined;
  const size = field.integer(storage, 'Size', 'ephemeralStorage.size', EPHEMERAL_STORAGE.min, EPHEMERAL_STORAGE.max);
  if (size === undefined) throw validationError(null, 'ephemeralStorage.size', 'Member must not be null');
  return size;
}

function readArchitectures(body: RequestBody): string[] | undefined {
  const value = body.Architectures;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw validationError(value, 'architectures', 'Member must be a list');
  const shown = `[${value.join(', ')}]`;
  if (value.length > 1) throw validationError(shown, 'architectures', 'Member must have length less than or equal to 1');
  if (value.length === 0 || !['x86_64', 'arm64'].includes(value[0])) {
    throw validationError(shown, 'architectures', 'Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]');
  }
  return value as string[];
}

/** `Code.ZipFile` (CreateFunction) or `ZipFile` (UpdateFunctionCode), within AWS's zipped-size limit. */
function readZip(code: RequestBody | undefined): Buffer {
  if (code?.S3Bucket !== undefined || code?.S3Key !== undefined || code?.ImageUri !== undefined) {
    throw new AwsError('InvalidParameterValueException', 'serverfull accepts code as ZipFile only (no S3 or container images).');
  }
  if (code?.ZipFile === undefined || code.ZipFile === null) throw new AwsError('InvalidParameterValueException', 'Please provide a source for function code.');
  const zip = decodeZipFile(code.ZipFile, 'zipFile');
  if (zip.length > MAX_ZIPPED_BYTES) throw new AwsError('RequestEntityTooLargeException', `Zipped size must be smaller than ${MAX_ZIPPED_BYTES} bytes`);
  return zip;
}

/** `RoutingConfig.AdditionalVersionWeights`: null when given empty (clears the routing), undefined when absent. */
function readWeights(body: RequestBody): Record<string, number> | null | undefined {
  const routing = field.object(body, 'RoutingConfig', 'routingConfig');
  if (routing === undefined) return undefined;
  const weights = field.object(routing, 'AdditionalVersionWeights', 'routingConfig.additionalVersionWeights');
  if (weights === undefined || Object.keys(weights).length === 0) return null;
  const javaMap = `{${Object.entries(weights).map(([k, v]) => `${k}=${typeof v === 'number' && Number.isInteger(v) ? `${v}.0` : String(v)}`).join(', ')}}`;
  if (Object.keys(weights).length > 1) throw new AwsError('InvalidParameterValueException', 'Number of items in AdditionalVersionWeights cannot be greater than 1');
  for (const [version, weight] of Object.entries(weights)) {
    if (!/^[0-9]+$/.test(version)) {
      throw validationError(javaMap, 'routingConfig.additionalVersionWeights', 'Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]');
    }
    if (typeof weight !== 'number' || weight < 0 || weight > 1) {
      throw validationError(javaMap, 'routingConfig.additionalVersionWeights', 'Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]');
    }
  }
  return weights as Record<string, number>;
}

/**
 * `DeadLetterConfig.TargetArn`: a topic of this server, or '' (given empty: none); undefined when absent.
 * AWS also takes SQS queues, which serverfull does not emulate.
 */
function readDeadLetterTarget(body: RequestBody, topicExists: (topicArn: string) => boolean): string | undefined {
  const config = field.object(body, 'DeadLetterConfig', 'deadLetterConfig');
  if (config === undefined) return undefined;
  const arn = field.string(config, 'TargetArn', 'deadLetterConfig.targetArn', { max: 1024 }) ?? '';
  if (arn === '') return '';
  if (arn.startsWith('arn:aws:sqs:')) {
    throw new AwsError('InvalidParameterValueException', `The dead-letter target ${arn} is an SQS queue, which serverfull does not emulate: use an SNS topic of this server.`);
  }
  if (!topicExists(arn)) throw new AwsError('InvalidParameterValueException', `The dead-letter target ${arn} is not a topic of this server: create it first (sns create-topic).`);
  return arn;
}

function deadLetterOf(target: string | undefined): { deadLetterTarget?: string } {
  return target ? { deadLetterTarget: target } : {};
}

function revisionOf(body: RequestBody): string | undefined {
  return field.string(body, 'RevisionId', 'revisionId');
}

function refuseUnsupported(body: RequestBody): void {
  for (const key of UNSUPPORTED_FIELDS) {
    const value = body[key];
    const empty = value === undefined || value === null || value === false || value === ''
      || (Array.isArray(value) && value.length === 0)
      || (typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => v === undefined || (Array.isArray(v) && v.length === 0)));
    if (!empty) throw new AwsError('InvalidParameterValueException', `${key} is not supported by serverfull.`);
  }
}

function unqualified(ref: FunctionRef): void {
  if (ref.qualifier !== undefined && ref.qualifier !== LATEST) {
    throw new AwsError('InvalidParameterValueException', 'Current operation does not support versions other than $LATEST. Please set version to $LATEST or do not set a version in your request.');
  }
}

function onlyFunctions(ref: FunctionRef): void {
  if (ref.qualifier !== undefined) {
    throw new AwsError(
      'InvalidParameterValueException',
      'This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.',
    );
  }
}

/** Sorts `$LATEST` first, then versions by number. */
function versionSortKey(version: string): string {
  return version === LATEST ? '0' : `1${version.padStart(12, '0')}`;
}
