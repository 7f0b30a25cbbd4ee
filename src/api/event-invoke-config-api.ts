/**
 * @module api/event-invoke-config-api
 * The Lambda API's event invoke configuration: `PutFunctionEventInvokeConfig`,
 * `UpdateFunctionEventInvokeConfig`, `GetFunctionEventInvokeConfig`,
 * `ListFunctionEventInvokeConfigs`, `DeleteFunctionEventInvokeConfig`, per function and qualifier.
 * https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html
 *
 * Where serverfull differs from AWS: destinations are functions or SNS topics of this server;
 * SQS queues, EventBridge buses, S3 buckets and Kafka clusters are refused with
 * `InvalidParameterValueException`, as serverfull does not emulate them.
 */
import { AwsError } from '../errors.js';
import type { FunctionRegistry } from '../registry/function-definition.js';
import { functionArn, type ServiceIdentity } from '../registry/arns.js';
import type { EventInvokeConfig, EventInvokeConfigs } from '../runtime/event-invoke-configs.js';
import { LATEST } from '../deploy/function-catalog.js';
import { MAXIMUM_EVENT_AGE, MAXIMUM_RETRY_ATTEMPTS } from '../registry/function-limits.js';
import { field, paginate, validationError, type RequestBody } from './management-request.js';
import { operationRoute, type OperationHandler } from './management-api.js';
import type { Route } from './route.js';

/** AWS's pattern for a destination ARN, as its validation message prints it. */
const DESTINATION_PATTERN_TEXT = '$|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)';
const DESTINATION_PATTERN = /^(|kafka:\/\/([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*))$/;

/** Tells whether a topic ARN names a topic of this server. */
export type TopicLookup = (topicArn: string) => boolean;

/** The event invoke configuration routes. */
export function eventInvokeConfigRoutes(registry: FunctionRegistry, configs: EventInvokeConfigs, identity: ServiceIdentity, topicExists: TopicLookup): Route[] {
  const path = '/2019-09-25/functions/([^/]+)/event-invoke-config';
  const route = (method: string, suffix: string, name: string, handle: OperationHandler): Route =>
    operationRoute(method, new RegExp(`^${path}${suffix}/?$`), name, 1_048_576, identity, handle);

  /** The function and qualifier a request names; `ResourceNotFoundException` when they do not exist. */
  const target = (raw: { name: string; qualifier?: string }) => {
    const qualifier = raw.qualifier === undefined || raw.qualifier === '' ? LATEST : raw.qualifier;
    if (registry.resolve(raw.name, qualifier) === undefined) throw new AwsError('ResourceNotFoundException', 'The function doesn\'t exist.');
    return { name: raw.name, qualifier };
  };
  const missing = (name: string, qualifier: string) =>
    new AwsError('ResourceNotFoundException', `The function ${functionArn(identity, name, qualifier)} doesn't have an EventInvokeConfig`);
  const render = (config: EventInvokeConfig) => {
    const body: Record<string, unknown> = { FunctionArn: functionArn(identity, config.functionName, config.qualifier), LastModified: config.lastModified };
    if (config.maximumRetryAttempts !== undefined) body.MaximumRetryAttempts = config.maximumRetryAttempts;
    if (config.maximumEventAge !== undefined) body.MaximumEventAgeInSeconds = config.maximumEventAge;
    body.DestinationConfig = {
      OnSuccess: config.onSuccess === undefined ? {} : { Destination: config.onSuccess },
      OnFailure: config.onFailure === undefined ? {} : { Destination: config.onFailure },
    };
    return body;
  };

  /** The fields of a Put or Update body that are present: undefined when absent, null for a destination given without an ARN. */
  const read = (name: string, body: RequestBody) => {
    const maximumRetryAttempts = field.integer(body, 'MaximumRetryAttempts', 'maximumRetryAttempts', MAXIMUM_RETRY_ATTEMPTS.min, MAXIMUM_RETRY_ATTEMPTS.max);
    const maximumEventAge = field.integer(body, 'MaximumEventAgeInSeconds', 'maximumEventAgeInSeconds', MAXIMUM_EVENT_AGE.min, MAXIMUM_EVENT_AGE.max);
    const destinations = field.object(body, 'DestinationConfig', 'destinationConfig');
    const destination = (key: 'OnSuccess' | 'OnFailure'): string | null | undefined => {
      if (destinations === undefined) return undefined;
      const member = `destinationConfig.${key === 'OnSuccess' ? 'onSuccess' : 'onFailure'}`;
      const value = field.object(destinations, key, member);
      if (value === undefined) return undefined;
      const arn = field.string(value, 'Destination', `${member}.destination`, { max: 350 });
      if (arn === undefined || arn === '') return null;
      if (!DESTINATION_PATTERN.test(arn)) throw validationError(arn, `${member}.destination`, `Member must satisfy regular expression pattern: ${DESTINATION_PATTERN_TEXT}`);
      return arn;
    };
    const onSuccess = destination('OnSuccess');
    const onFailure = destination('OnFailure');
    for (const arn of [onSuccess, onFailure]) {
      if (typeof arn === 'string') checkDestination(arn, name, { onSuccess, onFailure });
    }
    return { maximumRetryAttempts, maximumEventAge, onSuccess, onFailure, given: destinations !== undefined };
  };

  const checkDestination = (arn: string, self: string, config: { onSuccess?: string | null; onFailure?: string | null }) => {
    const [, , service, region, account, ...rest] = arn.split(':');
    const foreign = region !== identity.region || account !== identity.accountId;
    if (service === 'lambda') {
      const kind = rest[0];
      const name = rest[1];
      if (kind !== 'function' || name === undefined || foreign) throw new AwsError('InvalidParameterValueException', `The destination ARN ${arn} is invalid.`);
      if (name === self) throw new AwsError('InvalidParameterValueException', 'You can\'t specify the function as a destination for itself.');
      if (registry.resolve(name, rest[2]) === undefined) throw new AwsError('InvalidParameterValueException', `The destination ARN ${arn} is invalid.`);
      return;
    }
    if (service === 'sns') {
      if (foreign || !topicExists(arn)) throw new AwsError('InvalidParameterValueException', `The destination ARN ${arn} is invalid.`);
      return;
    }
    if (service === 'sqs' || service === 'events' || service === 's3' || arn.startsWith('kafka://')) {
      throw new AwsError('InvalidParameterValueException', `The destination ARN ${arn} is not supported by serverfull: destinations are functions or SNS topics of this server (SQS queues, EventBridge buses, S3 buckets and Kafka are not emulated).`);
    }
    const shown = (key: string, value: string | null | undefined) => value === undefined ? 'null' : `${key}(destination=${value})`;
    throw new AwsError('InvalidParameterValueException',
      `The provided destination config DestinationConfig(onSuccess=${shown('OnSuccess', config.onSuccess)}, onFailure=${shown('OnFailure', config.onFailure)}) is invalid.`);
  };

  const now = () => Date.now() / 1000;

  return [
    route('PUT', '', 'PutFunctionEventInvokeConfig', ({ ref, body }) => {
      const { name, qualifier } = target(ref);
      const fields = read(name, body);
      if (fields.maximumRetryAttempts === undefined && fields.maximumEventAge === undefined && !fields.given) {
        throw new AwsError('InvalidParameterValueException', 'You must specify at least one of error handling or destination setting.');
      }
      const config: EventInvokeConfig = {
        functionName: name, qualifier, maximumRetryAttempts: fields.maximumRetryAttempts, maximumEventAge: fields.maximumEventAge,
        onSuccess: fields.onSuccess ?? undefined, onFailure: fields.onFailure ?? undefined, lastModified: now(),
      };
      configs.put(config);
      return { status: 200, body: render(config) };
    }),

    route('POST', '', 'UpdateFunctionEventInvokeConfig', ({ ref, body }) => {
      const { name, qualifier } = target(ref);
      const before = configs.get(name, qualifier);
      if (before === undefined) throw missing(name, qualifier);
      const fields = read(name, body);
      const config: EventInvokeConfig = {
        functionName: name, qualifier,
        maximumRetryAttempts: fields.maximumRetryAttempts ?? before.maximumRetryAttempts,
        maximumEventAge: fields.maximumEventAge ?? before.maximumEventAge,
        onSuccess: fields.onSuccess === undefined ? before.onSuccess : fields.onSuccess ?? undefined,
        onFailure: fields.onFailure === undefined ? before.onFailure : fields.onFailure ?? undefined,
        lastModified: now(),
      };
      configs.put(config);
      return { status: 200, body: render(config) };
    }),

    route('GET', '', 'GetFunctionEventInvokeConfig', ({ ref }) => {
      const qualifier = ref.qualifier === undefined || ref.qualifier === '' ? LATEST : ref.qualifier;
      const config = configs.get(ref.name, qualifier);
      if (config === undefined) throw missing(ref.name, qualifier);
      return { status: 200, body: render(config) };
    }),

    route('DELETE', '', 'DeleteFunctionEventInvokeConfig', ({ ref }) => {
      const qualifier = ref.qualifier === undefined || ref.qualifier === '' ? LATEST : ref.qualifier;
      if (!configs.delete(ref.name, qualifier)) throw missing(ref.name, qualifier);
      return { status: 204 };
    }),

    route('GET', '/list', 'ListFunctionEventInvokeConfigs', ({ ref, request }) => {
      if (registry.resolve(ref.name, undefined) === undefined) throw new AwsError('ResourceNotFoundException', 'The function doesn\'t exist.');
      const { page, nextMarker } = paginate(configs.list(ref.name), (config) => config.qualifier, request.query);
      return { status: 200, body: { FunctionEventInvokeConfigs: page.map(render), NextMarker: nextMarker } };
    }),
  ];
}
