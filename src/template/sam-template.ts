/**
 * @module template/sam-template
 * An AWS SAM template (YAML or JSON) read as the functions and gateway it declares, to serve
 * locally what SAM would deploy. What needs AWS itself (IAM, other resource types, event
 * sources other than API Gateway) is named in warnings, never dropped silently.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { check, ConfigError } from '../config/config-error.js';
import type { FunctionConfig } from '../config/manifest.js';
import type { GatewayDeclaration } from '../gateway/http-api.js';
import { EPHEMERAL_STORAGE, MAXIMUM_EVENT_AGE, MAXIMUM_RETRY_ATTEMPTS, MEMORY_SIZE, RESERVED_CONCURRENCY, TIMEOUT } from '../registry/function-limits.js';
import { handlerEscape } from '../registry/handler-path.js';
import { SUPPORTED_RUNTIMES } from '../registry/runtimes.js';
import { CLOUDFORMATION_TAGS, TemplateScope, type ParameterValue } from './intrinsics.js';
import { mergeGlobals, PropertyReader, withoutUndefined } from './properties.js';
import { isObject } from '../values.js';
import { API_TYPES, buildGateway, IMPLICIT_HTTP_API, IMPLICIT_REST_API, readEvents, type ApiResource, type DeclaredRoute } from './sam-apis.js';

/** One AWS::Serverless::Function, ready to become a FunctionDefinition. */
export interface TemplateFunction {
  /** The `FunctionName` property if it resolves to a string, else the logical id. */
  readonly name: string;
  readonly logicalId: string;
  /** Absolute `CodeUri` folder (relative to the template's folder; default the template's folder). */
  readonly root: string;
  /** `handler` (`file.export`, relative to `root`), timeout, memorySize, reservedConcurrency, environment, description. */
  readonly config: FunctionConfig;
  /** `AutoPublishAlias`. */
  readonly alias?: string;
}

/** A parsed template. */
export interface SamTemplate {
  /** Absolute. */
  readonly path: string;
  readonly functions: readonly TemplateFunction[];
  readonly gateway: GatewayDeclaration;
  /** Everything unsupported, named: resource type and logical id, property, intrinsic. */
  readonly warnings: readonly string[];
}

/** What a template is read with: parameter values and the pseudo parameters' region and account. */
export interface SamTemplateOptions {
  readonly parameterOverrides?: Readonly<Record<string, string>>;
  readonly region: string;
  readonly accountId: string;
}

const TRANSFORM = 'AWS::Serverless-2016-10-31';
const FUNCTION_TYPE = 'AWS::Serverless::Function';
const TOPIC_TYPE = 'AWS::SNS::Topic';
const SECTIONS = ['AWSTemplateFormatVersion', 'Description', 'Metadata', 'Transform', 'Parameters', 'Mappings', 'Conditions', 'Globals', 'Resources', 'Outputs'];
const FUNCTION_PROPERTIES = [
  'CodeUri', 'Handler', 'Runtime', 'Timeout', 'MemorySize', 'EphemeralStorage', 'Environment', 'ReservedConcurrentExecutions', 'Description',
  'AutoPublishAlias', 'FunctionName', 'Events', 'PackageType', 'InlineCode', 'EventInvokeConfig', 'Role',
];

interface Resource {
  readonly type: string;
  readonly properties: unknown;
  readonly condition?: string;
}

/** Reads a SAM template; throws `ConfigError` naming the template and the resource or property at fault. */
export function readSamTemplate(path: string, options: SamTemplateOptions): SamTemplate {
  const source = resolve(path);
  const { template, yamlWarnings } = parseTemplate(source);
  const section = (name: string) => check.object(template[name] ?? {}, `${source}: ${name}`);
  const early: string[] = [...yamlWarnings];
  const parameters = readParameters(section('Parameters'), options.parameterOverrides ?? {}, source, early);
  const resources = new Map(Object.entries(section('Resources')).map(([id, raw]) => [id, readResource(raw, `${source}: Resources.${id}`)]));
  section('Outputs');
  const scope = new TemplateScope({
    source,
    region: options.region,
    accountId: options.accountId,
    parameters,
    resources: new Map([[IMPLICIT_HTTP_API, API_TYPES.http], [IMPLICIT_REST_API, API_TYPES.rest], ...[...resources].map(([id, { type }]) => [id, type] as const)]),
    conditions: section('Conditions'),
    mappings: section('Mappings'),
  });
  scope.warnings.push(...early);
  checkTransform(scope, template.Transform);
  scope.ignoreUnknown(template, SECTIONS, 'Template', 'section ');
  const globals = section('Globals');
  scope.ignoreUnknown(globals, ['Function', 'HttpApi', 'Api'], 'Globals', 'section ');

  // A resource whose Condition is false is not created.
  const active = [...resources].filter(([id, { type, condition }]) => condition === undefined || scope.condition(condition, `${type} ${id}`, 'Condition'));
  for (const [id, { type, properties }] of active) {
    if (type === FUNCTION_TYPE) scope.functionNames.set(id, functionName(scope, id, properties));
    if (type === TOPIC_TYPE) {
      const topic = new PropertyReader(scope, `${type} ${id}`, check.object(properties ?? {}, `${scope.source}: Resources.${id}.Properties`));
      topic.ignoreUnknown(['TopicName']);
      scope.topicNames.set(id, topic.string('TopicName') ?? id);
    }
  }
  const functions: TemplateFunction[] = [];
  const routes: DeclaredRoute[] = [];
  const apis: ApiResource[] = [];
  for (const [id, { type, properties }] of active) {
    if (type === FUNCTION_TYPE) {
      const read = readFunction(scope, id, mergeGlobals(globals.Function, properties ?? {}), dirname(source));
      if (read) {
        const other = functions.find((fn) => fn.name === read.function.name);
        if (other) throw scope.error(`${type} ${id}`, `function name "${read.function.name}" is also the name of ${other.logicalId}`);
        functions.push(read.function);
        routes.push(...read.routes);
      }
    } else if (type === TOPIC_TYPE) {
      // Read above: its subscriptions come from the functions' SNS events.
    } else if (type === API_TYPES.http || type === API_TYPES.rest) {
      apis.push({ id, kind: type === API_TYPES.http ? 'http' : 'rest', properties });
    } else {
      scope.warn(`${type} ${id}`, 'resource type not supported, ignored');
    }
  }
  const gateway = buildGateway(scope, apis, { http: globals.HttpApi, rest: globals.Api }, routes, new Set(functions.map((fn) => fn.name)));
  return { path: source, functions, gateway, warnings: scope.warnings };
}

function parseTemplate(source: string): { template: Record<string, unknown>; yamlWarnings: string[] } {
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read SAM template ${source}: ${(error as Error).message}`);
  }
  const firstLine = (message: string) => message.split('\n', 1)[0]!.replace(/:$/, '');
  // JSON is YAML too, so one parser serves both formats.
  const document = parseDocument(text, { customTags: [...CLOUDFORMATION_TAGS] });
  if (document.errors.length > 0) throw new ConfigError(`${source} is not valid YAML: ${firstLine(document.errors[0]!.message)}`);
  const template = check.object(document.toJS(), `SAM template ${source}`);
  return { template, yamlWarnings: document.warnings.map((warning) => `YAML: ${firstLine(warning.message)}, read as a plain value`) };
}

function readResource(raw: unknown, where: string): Resource {
  const resource = check.object(raw, where);
  return {
    type: check.string(resource.Type, `${where}.Type`),
    properties: resource.Properties,
    condition: resource.Condition === undefined ? undefined : check.string(resource.Condition, `${where}.Condition`),
  };
}

function checkTransform(scope: TemplateScope, raw: unknown): void {
  const transforms = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (!transforms.includes(TRANSFORM)) scope.warn('Transform', `${TRANSFORM} not declared, read as a SAM template anyway`);
  for (const transform of transforms) {
    if (transform !== TRANSFORM) scope.warn('Transform', `${JSON.stringify(transform)} not supported, ignored`);
  }
}

/** Parameter values: an override, else the `Default`; lists for list types. */
function readParameters(
  declared: Record<string, unknown>, overrides: Readonly<Record<string, string>>, source: string, warnings: string[],
): Map<string, ParameterValue> {
  const values = new Map<string, ParameterValue>();
  for (const [name, raw] of Object.entries(declared)) {
    const where = `${source}: Parameters.${name}`;
    const declaration = check.object(raw, where);
    const fallback = Array.isArray(declaration.Default) ? declaration.Default.join(',') : declaration.Default;
    const value = Object.hasOwn(overrides, name) ? overrides[name] : fallback === undefined ? undefined : String(fallback);
    if (value === undefined) throw new ConfigError(`${where} has no Default and no value in the parameter overrides`);
    const allowed = Array.isArray(declaration.AllowedValues) ? declaration.AllowedValues.map(String) : undefined;
    if (allowed && !allowed.includes(value)) throw new ConfigError(`${where}: ${JSON.stringify(value)} is not one of its AllowedValues (${allowed.join(', ')})`);
    const type = String(declaration.Type ?? 'String');
    if (type.startsWith('AWS::SSM::')) warnings.push(`Parameters.${name}: type ${type} not resolved from SSM, "${value}" used as is`);
    values.set(name, type === 'CommaDelimitedList' || type.startsWith('List<') ? value.split(',').map((item) => item.trim()) : value);
  }
  for (const name of Object.keys(overrides)) {
    if (!Object.hasOwn(declared, name)) warnings.push(`parameter overrides: ${name} is not a parameter of the template, ignored`);
  }
  return values;
}

function functionName(scope: TemplateScope, id: string, properties: unknown): string {
  const name = new PropertyReader(scope, `${FUNCTION_TYPE} ${id}`, check.object(properties ?? {}, `${scope.source}: Resources.${id}.Properties`)).string('FunctionName');
  return name ?? id;
}

function readFunction(scope: TemplateScope, id: string, properties: unknown, templateDir: string): { function: TemplateFunction; routes: DeclaredRoute[] } | undefined {
  const label = `${FUNCTION_TYPE} ${id}`;
  const props = new PropertyReader(scope, label, check.object(properties, `${scope.source}: Resources.${id}.Properties`));
  props.ignoreUnknown(FUNCTION_PROPERTIES);
  const skip = (why: string) => {
    scope.warn(label, `${why}, function skipped`);
    return undefined;
  };
  if (props.has('InlineCode')) return skip('InlineCode not supported');
  const packageType = props.string('PackageType');
  if (packageType !== undefined && packageType !== 'Zip') return skip(`PackageType ${packageType} not supported`);
  const runtime = props.string('Runtime');
  if (runtime !== undefined && !SUPPORTED_RUNTIMES.includes(runtime)) {
    return skip(`Runtime ${runtime} not supported (supported: ${SUPPORTED_RUNTIMES.join(', ')})`);
  }
  const codeUri = props.value('CodeUri');
  if (codeUri !== undefined && (typeof codeUri !== 'string' || codeUri.startsWith('s3://'))) return skip('CodeUri in S3 not supported');
  if (codeUri !== undefined && /\.(zip|jar)$/i.test(codeUri)) return skip('CodeUri as an archive not supported (give its unpacked folder)');
  const handler = props.string('Handler');
  if (!handler) throw props.error('Handler', 'is required');
  const escape = handlerEscape(handler);
  if (escape !== undefined) throw props.error('Handler', `must name a file inside the function's CodeUri folder (got ${JSON.stringify(handler)}: ${escape})`);

  const name = scope.functionNames.get(id) ?? id;
  const alias = props.string('AutoPublishAlias');
  const invokeConfig = props.nested('EventInvokeConfig');
  invokeConfig?.ignoreUnknown(['MaximumEventAgeInSeconds', 'MaximumRetryAttempts']);
  const storage = props.nested('EphemeralStorage');
  storage?.ignoreUnknown(['Size']);
  const config: FunctionConfig = withoutUndefined({
    handler,
    runtime,
    timeout: props.integer('Timeout', TIMEOUT.min, TIMEOUT.max) ?? TIMEOUT.default,
    memorySize: props.integer('MemorySize', MEMORY_SIZE.min, MEMORY_SIZE.max) ?? MEMORY_SIZE.default,
    ephemeralStorage: storage?.integer('Size', EPHEMERAL_STORAGE.min, EPHEMERAL_STORAGE.max),
    reservedConcurrency: props.integer('ReservedConcurrentExecutions', RESERVED_CONCURRENCY.min, RESERVED_CONCURRENCY.max),
    maximumEventAge: invokeConfig?.integer('MaximumEventAgeInSeconds', MAXIMUM_EVENT_AGE.min, MAXIMUM_EVENT_AGE.max),
    maximumRetryAttempts: invokeConfig?.integer('MaximumRetryAttempts', MAXIMUM_RETRY_ATTEMPTS.min, MAXIMUM_RETRY_ATTEMPTS.max),
    environment: readEnvironment(props),
    description: props.string('Description'),
    // A role written out (its ARN); one made by the template (!GetAtt) has no keys file entry to name.
    role: typeof props.raw('Role') === 'string' ? props.raw('Role') as string : undefined,
    topics: readTopicEvents(scope, label, props.raw('Events')),
  });
  const fn: TemplateFunction = withoutUndefined({ name, logicalId: id, root: resolve(templateDir, codeUri ?? '.'), config, alias });
  return { function: fn, routes: readEvents(scope, label, props.raw('Events'), { functionName: name, qualifier: alias }) };
}

/** `Environment.Variables`, each value as text (CloudFormation turns numbers and booleans into strings). */
function readEnvironment(props: PropertyReader): Record<string, string> | undefined {
  const environment = props.nested('Environment');
  environment?.ignoreUnknown(['Variables']);
  const variables = environment?.nested('Variables');
  if (!variables) return undefined;
  const result: Record<string, string> = {};
  for (const key of variables.keys()) {
    const value = variables.value(key);
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') result[key] = String(value);
    else if (value !== undefined) props.scope.warn(props.label, `${variables.path(key)} is not a string, property dropped`);
  }
  return result;
}

/** Parses `--parameter-overrides` as SAM accepts it: `Key1=Value1 Key2=Value2` or `ParameterKey=Key1,ParameterValue=Value1 ...`, values optionally quoted. */
export function parseParameterOverrides(text: string): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const word of shellWords(text)) {
    const match = word.startsWith('ParameterKey=') ? /^ParameterKey=([^,]*),ParameterValue=(.*)$/s.exec(word) : /^([^=]*)=(.*)$/s.exec(word);
    if (!match || !/^[A-Za-z0-9]+$/.test(match[1]!)) {
      throw new ConfigError(`parameter overrides: ${JSON.stringify(word)} is neither Key=Value nor ParameterKey=Key,ParameterValue=Value`);
    }
    overrides[match[1]!] = match[2]!;
  }
  return overrides;
}

/** Splits at unquoted whitespace and removes the quotes, as a shell would have for a value given in one argument. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else word += char === '\\' && quote === '"' && index + 1 < text.length ? text[++index] : char;
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word ??= '';
      if (char === '"' || char === "'") quote = char;
      else word += char;
    }
  }
  if (quote !== undefined) throw new ConfigError(`parameter overrides: unterminated ${quote} quote in ${JSON.stringify(text)}`);
  if (word !== undefined) words.push(word);
  return words;
}

/** The topics a function's `Events` of type `SNS` subscribe it to (`Topic`: a `!Ref` to an `AWS::SNS::Topic` of the template, or its ARN). */
function readTopicEvents(scope: TemplateScope, label: string, events: unknown): string[] | undefined {
  if (!isObject(events)) return undefined;
  const topics: string[] = [];
  const prefix = scope.topicArn('');
  for (const [id, event] of Object.entries(events as Record<string, unknown>)) {
    if (!isObject(event) || event.Type !== 'SNS') continue;
    const properties = new PropertyReader(scope, label, check.object(event.Properties ?? {}, `${scope.source}: ${label}: Events.${id}.Properties`), `Events.${id}.`);
    properties.ignoreUnknown(['Topic']);
    const arn = properties.string('Topic');
    const name = arn?.startsWith(prefix) && /^[A-Za-z0-9_-]{1,256}$/.test(arn.slice(prefix.length)) ? arn.slice(prefix.length) : undefined;
    if (name === undefined) throw properties.error('Topic', `must be a !Ref to an AWS::SNS::Topic of the template or the ARN of a topic of this account and region (got ${JSON.stringify(arn)})`);
    topics.push(name);
  }
  return topics.length > 0 ? topics : undefined;
}
