/**
 * @module auth/lambda-operations
 * Which IAM action and resource each Lambda API request needs, as IAM checks it:
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
 *
 * The table mirrors the routes of `api/invoke-api.ts` and `api/management-api.ts` (a test
 * checks that every served route is here), plus the AWS operations serverfull may serve next.
 * It reads the request on its own, without the API modules, so it can run before them.
 */
import { functionArn, type ServiceIdentity } from '../registry/arns.js';
import { isObject } from '../values.js';
import type { AuthorizationTarget } from './authorize.js';

/** A Lambda API operation this module knows how to authorize. */
export type LambdaOperation =
  | 'Invoke' | 'InvokeAsync'
  | 'CreateFunction' | 'ListFunctions' | 'GetFunction' | 'DeleteFunction'
  | 'GetFunctionConfiguration' | 'UpdateFunctionConfiguration' | 'UpdateFunctionCode'
  | 'PublishVersion' | 'ListVersionsByFunction'
  | 'CreateAlias' | 'ListAliases' | 'GetAlias' | 'UpdateAlias' | 'DeleteAlias'
  | 'PutFunctionConcurrency' | 'DeleteFunctionConcurrency' | 'GetFunctionConcurrency'
  | 'TagResource' | 'UntagResource' | 'ListTags'
  | 'PutFunctionEventInvokeConfig' | 'UpdateFunctionEventInvokeConfig' | 'GetFunctionEventInvokeConfig'
  | 'DeleteFunctionEventInvokeConfig' | 'ListFunctionEventInvokeConfigs'
  | 'GetAccountSettings'
  | 'GetFunctionCodePackage'
  | 'GetMetrics';

/** The parameters of a request that name its resource. */
export interface OperationParams {
  /** `FunctionName` as given: a name, `NAME:QUALIFIER`, a partial or a full ARN. */
  readonly functionName?: string;
  /** The `Qualifier` query parameter. */
  readonly qualifier?: string;
  /** The resource ARN of the tagging operations. */
  readonly resourceArn?: string;
}

/** One request, recognized: its operation and the parameters authorization reads. */
export interface OperationCall {
  readonly operation: LambdaOperation;
  readonly params: OperationParams;
}


/** How an operation's resource is named. */
type ResourceKind =
  /** The function ARN, with the qualifier when the request names one (a version or alias ARN). */
  | 'qualified'
  /** Always the unqualified function ARN: the operation acts on the function as a whole. */
  | 'function'
  /** The ARN the request names (tagging). */
  | 'arn'
  /** No resource: `*`. */
  | 'none';

const OPERATIONS: Record<LambdaOperation, { readonly action: string; readonly resource: ResourceKind }> = {
  Invoke: { action: 'InvokeFunction', resource: 'qualified' },
  // The legacy API: AWS checks lambda:InvokeFunction for it (its own name is only a deprecated alias).
  InvokeAsync: { action: 'InvokeFunction', resource: 'function' },
  CreateFunction: { action: 'CreateFunction', resource: 'function' },
  ListFunctions: { action: 'ListFunctions', resource: 'none' },
  GetFunction: { action: 'GetFunction', resource: 'qualified' },
  DeleteFunction: { action: 'DeleteFunction', resource: 'qualified' },
  GetFunctionConfiguration: { action: 'GetFunctionConfiguration', resource: 'qualified' },
  UpdateFunctionConfiguration: { action: 'UpdateFunctionConfiguration', resource: 'function' },
  UpdateFunctionCode: { action: 'UpdateFunctionCode', resource: 'function' },
  PublishVersion: { action: 'PublishVersion', resource: 'function' },
  ListVersionsByFunction: { action: 'ListVersionsByFunction', resource: 'function' },
  CreateAlias: { action: 'CreateAlias', resource: 'function' },
  ListAliases: { action: 'ListAliases', resource: 'function' },
  GetAlias: { action: 'GetAlias', resource: 'function' },
  UpdateAlias: { action: 'UpdateAlias', resource: 'function' },
  DeleteAlias: { action: 'DeleteAlias', resource: 'function' },
  PutFunctionConcurrency: { action: 'PutFunctionConcurrency', resource: 'function' },
  DeleteFunctionConcurrency: { action: 'DeleteFunctionConcurrency', resource: 'function' },
  GetFunctionConcurrency: { action: 'GetFunctionConcurrency', resource: 'function' },
  TagResource: { action: 'TagResource', resource: 'arn' },
  UntagResource: { action: 'UntagResource', resource: 'arn' },
  ListTags: { action: 'ListTags', resource: 'arn' },
  GetAccountSettings: { action: 'GetAccountSettings', resource: 'none' },
  PutFunctionEventInvokeConfig: { action: 'PutFunctionEventInvokeConfig', resource: 'qualified' },
  UpdateFunctionEventInvokeConfig: { action: 'UpdateFunctionEventInvokeConfig', resource: 'qualified' },
  GetFunctionEventInvokeConfig: { action: 'GetFunctionEventInvokeConfig', resource: 'qualified' },
  DeleteFunctionEventInvokeConfig: { action: 'DeleteFunctionEventInvokeConfig', resource: 'qualified' },
  ListFunctionEventInvokeConfigs: { action: 'ListFunctionEventInvokeConfigs', resource: 'function' },
  // serverfull's stand-in for the presigned S3 URL of GetFunction's Code.Location: the package
  // is named by its hash, not by a function, so only a GetFunction grant on every resource opens it.
  GetFunctionCodePackage: { action: 'GetFunction', resource: 'none' },
  // serverfull's own: `GET /metrics` is no AWS operation. In the lambda namespace so that a policy
  // granting `lambda:*` or `lambda:Get*` scrapes too, while an invoke-only key does not.
  GetMetrics: { action: 'GetMetrics', resource: 'none' },
};

/** Path patterns as the API modules match them, on the raw (still encoded) path. */
const FN = '([^/]+)';
const ROUTES: ReadonlyArray<{ method: string; pattern: RegExp; operation: LambdaOperation; params: 'function' | 'body' | 'arn' | 'none' }> = [
  { method: 'POST', pattern: new RegExp(`^/2015-03-31/functions/${FN}/invocations/?$`), operation: 'Invoke', params: 'function' },
  { method: 'POST', pattern: new RegExp(`^/2014-11-13/functions/${FN}/invoke-async/?$`), operation: 'InvokeAsync', params: 'function' },
  { method: 'POST', pattern: /^\/2015-03-31\/functions\/?$/, operation: 'CreateFunction', params: 'body' },
  { method: 'GET', pattern: /^\/2015-03-31\/functions\/?$/, operation: 'ListFunctions', params: 'none' },
  { method: 'GET', pattern: new RegExp(`^/2015-03-31/functions/${FN}/?$`), operation: 'GetFunction', params: 'function' },
  { method: 'DELETE', pattern: new RegExp(`^/2015-03-31/functions/${FN}/?$`), operation: 'DeleteFunction', params: 'function' },
  { method: 'GET', pattern: new RegExp(`^/2015-03-31/functions/${FN}/configuration/?$`), operation: 'GetFunctionConfiguration', params: 'function' },
  { method: 'PUT', pattern: new RegExp(`^/2015-03-31/functions/${FN}/configuration/?$`), operation: 'UpdateFunctionConfiguration', params: 'function' },
  { method: 'PUT', pattern: new RegExp(`^/2015-03-31/functions/${FN}/code/?$`), operation: 'UpdateFunctionCode', params: 'function' },
  { method: 'POST', pattern: new RegExp(`^/2015-03-31/functions/${FN}/versions/?$`), operation: 'PublishVersion', params: 'function' },
  { method: 'GET', pattern: new RegExp(`^/2015-03-31/functions/${FN}/versions/?$`), operation: 'ListVersionsByFunction', params: 'function' },
  { method: 'POST', pattern: new RegExp(`^/2015-03-31/functions/${FN}/aliases/?$`), operation: 'CreateAlias', params: 'function' },
  { method: 'GET', pattern: new RegExp(`^/2015-03-31/functions/${FN}/aliases/?$`), operation: 'ListAliases', params: 'function' },
  { method: 'GET', pattern: new RegExp(`^/2015-03-31/functions/${FN}/aliases/[^/]+/?$`), operation: 'GetAlias', params: 'function' },
  { method: 'PUT', pattern: new RegExp(`^/2015-03-31/functions/${FN}/aliases/[^/]+/?$`), operation: 'UpdateAlias', params: 'function' },
  { method: 'DELETE', pattern: new RegExp(`^/2015-03-31/functions/${FN}/aliases/[^/]+/?$`), operation: 'DeleteAlias', params: 'function' },
  { method: 'PUT', pattern: new RegExp(`^/2017-10-31/functions/${FN}/concurrency/?$`), operation: 'PutFunctionConcurrency', params: 'function' },
  { method: 'DELETE', pattern: new RegExp(`^/2017-10-31/functions/${FN}/concurrency/?$`), operation: 'DeleteFunctionConcurrency', params: 'function' },
  { method: 'GET', pattern: new RegExp(`^/2019-09-30/functions/${FN}/concurrency/?$`), operation: 'GetFunctionConcurrency', params: 'function' },
  { method: 'POST', pattern: /^\/2017-03-31\/tags\/([^/]+)\/?$/, operation: 'TagResource', params: 'arn' },
  { method: 'DELETE', pattern: /^\/2017-03-31\/tags\/([^/]+)\/?$/, operation: 'UntagResource', params: 'arn' },
  { method: 'GET', pattern: /^\/2017-03-31\/tags\/([^/]+)\/?$/, operation: 'ListTags', params: 'arn' },
  { method: 'PUT', pattern: new RegExp(`^/2019-09-25/functions/${FN}/event-invoke-config/?$`), operation: 'PutFunctionEventInvokeConfig', params: 'function' },
  { method: 'POST', pattern: new RegExp(`^/2019-09-25/functions/${FN}/event-invoke-config/?$`), operation: 'UpdateFunctionEventInvokeConfig', params: 'function' },
  { method: 'GET', pattern: new RegExp(`^/2019-09-25/functions/${FN}/event-invoke-config/?$`), operation: 'GetFunctionEventInvokeConfig', params: 'function' },
  { method: 'DELETE', pattern: new RegExp(`^/2019-09-25/functions/${FN}/event-invoke-config/?$`), operation: 'DeleteFunctionEventInvokeConfig', params: 'function' },
  { method: 'GET', pattern: new RegExp(`^/2019-09-25/functions/${FN}/event-invoke-config/list/?$`), operation: 'ListFunctionEventInvokeConfigs', params: 'function' },
  { method: 'GET', pattern: /^\/2016-08-19\/account-settings\/?$/, operation: 'GetAccountSettings', params: 'none' },
  { method: 'GET', pattern: /^\/serverfull\/code\/[0-9a-f]{64}\.zip$/, operation: 'GetFunctionCodePackage', params: 'none' },
  { method: 'GET', pattern: /^\/metrics\/?$/, operation: 'GetMetrics', params: 'none' },
];

/**
 * The Lambda operation a request is, from its method, raw path, query and (for CreateFunction,
 * whose function name is in the body) its body; undefined for anything else (e.g. `/healthcheck`).
 */
export function recognizeOperation(method: string, rawPath: string, query: URLSearchParams, body?: Buffer): OperationCall | undefined {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(rawPath);
    if (!match) continue;
    const qualifier = query.get('Qualifier') ?? undefined;
    switch (route.params) {
      case 'function':
        return { operation: route.operation, params: { functionName: decodeParam(match[1]!), qualifier } };
      case 'arn':
        return { operation: route.operation, params: { resourceArn: decodeParam(match[1]!) } };
      case 'body':
        return { operation: route.operation, params: { functionName: functionNameInBody(body) } };
      case 'none':
        return { operation: route.operation, params: {} };
    }
  }
  return undefined;
}

/** The IAM action and resource ARN an operation needs; `identity` gives the region and account of names that are not ARNs. */
export function authorizationTarget(call: OperationCall, identity: ServiceIdentity): AuthorizationTarget {
  const { action, resource } = OPERATIONS[call.operation];
  return { action: `lambda:${action}`, resource: resourceOf(resource, call.params, identity) };
}

/** Every operation with its IAM action name, for documentation and tests. */
export function operationActions(): ReadonlyArray<readonly [LambdaOperation, string]> {
  return (Object.keys(OPERATIONS) as LambdaOperation[]).map((operation) => [operation, `lambda:${OPERATIONS[operation].action}`]);
}

function resourceOf(kind: ResourceKind, params: OperationParams, identity: ServiceIdentity): string {
  switch (kind) {
    case 'none':
      return '*';
    case 'arn':
      return params.resourceArn ?? '*';
    case 'function':
    case 'qualified': {
      // A request without a readable name is refused by its handler anyway; until then it
      // needs the action on every function, which no narrower grant gives.
      if (params.functionName === undefined) return '*';
      const ref = readFunctionName(params.functionName, identity);
      const qualifier = ref.qualifier ?? params.qualifier;
      // $LATEST and no qualifier name the same function: IAM sees the unqualified ARN.
      const qualified = kind === 'qualified' && qualifier !== undefined && qualifier !== '' && qualifier !== '$LATEST';
      return functionArn(ref.owner, ref.name, qualified ? qualifier : undefined);
    }
  }
}

/** `FunctionName` in each form AWS accepts; the region and account of an ARN are kept, so a foreign one is checked as such. */
const FUNCTION_NAME = /^(?:arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):)?(?:(\d{12}):)?(?:function:)?([^:]+)(?::([^:]+))?$/;

function readFunctionName(raw: string, identity: ServiceIdentity): { owner: ServiceIdentity; name: string; qualifier?: string } {
  const match = FUNCTION_NAME.exec(raw);
  // Not a name the API accepts: its handler refuses it; the ARN names it as given, matching no narrow grant.
  if (!match) return { owner: identity, name: raw };
  return {
    owner: { region: match[1] ?? identity.region, accountId: match[2] ?? identity.accountId },
    name: match[3]!,
    qualifier: match[4],
  };
}

function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function functionNameInBody(body: Buffer | undefined): string | undefined {
  if (body === undefined || body.length === 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return isObject(parsed) && typeof parsed.FunctionName === 'string' ? parsed.FunctionName : undefined;
  } catch {
    return undefined;
  }
}
