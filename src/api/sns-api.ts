/**
 * @module api/sns-api
 * A subset of the SNS API in its wire protocol, AWS Query (`POST /`, a form-encoded body with
 * `Action=...`, XML answers), on the Lambda API's port, so that `@aws-sdk/client-sns`, boto3 and
 * `aws sns` work with only the endpoint changed:
 * `CreateTopic`, `DeleteTopic`, `ListTopics`, `Subscribe`, `Unsubscribe`, `ListSubscriptionsByTopic`,
 * `Publish`, `PublishBatch`. https://docs.aws.amazon.com/sns/latest/api/API_Operations.html
 *
 * Where serverfull differs from AWS: `lambda` subscriptions only (confirmed at once); no FIFO
 * topics, no topic attributes beyond those given at creation, no message filtering, messages unsigned.
 */
import type { ServerResponse } from 'node:http';
import { AwsError } from '../errors.js';
import type { MessageAttribute, TopicMessage, Topics } from '../topics/topics.js';
import type { FinishRequest } from '../http/request-pipeline.js';
import type { Route, RouteRequest } from './route.js';

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const MAX_BODY = 1_048_576;
const MAX_BATCH = 10;

/** Whether a request is an AWS Query one: a form body, no `X-Amz-Target`. */
export function isQueryRequest(request: RouteRequest): boolean {
  const type = request.headers['content-type'];
  return request.headers['x-amz-target'] === undefined && typeof type === 'string' && type.startsWith('application/x-www-form-urlencoded');
}

type Action = (params: URLSearchParams) => Promise<string> | string;

/** The SNS route: `POST /` with a form body. */
export function snsRoute(topics: Topics): Route {
  const actions: Record<string, Action> = {
    CreateTopic: (params) => {
      const arn = topics.createTopic(required(params, 'Name'), entries(params, 'Attributes', 'key', 'value'), entries(params, 'Tags', 'Key', 'Value', 'member'));
      return `<TopicArn>${xml(arn)}</TopicArn>`;
    },
    DeleteTopic: (params) => {
      topics.deleteTopic(required(params, 'TopicArn'));
      return '';
    },
    ListTopics: (params) => {
      const { arns, nextToken } = topics.listTopics(params.get('NextToken') ?? undefined);
      return `<Topics>${arns.map((arn) => `<member><TopicArn>${xml(arn)}</TopicArn></member>`).join('')}</Topics>${token(nextToken)}`;
    },
    Subscribe: (params) => {
      const arn = topics.subscribe(required(params, 'TopicArn'), required(params, 'Protocol'), required(params, 'Endpoint'));
      return `<SubscriptionArn>${xml(arn)}</SubscriptionArn>`;
    },
    Unsubscribe: (params) => {
      topics.unsubscribe(required(params, 'SubscriptionArn'));
      return '';
    },
    ListSubscriptionsByTopic: (params) => {
      const topicArn = required(params, 'TopicArn');
      const { subscriptions, nextToken } = topics.listSubscriptions(topicArn, params.get('NextToken') ?? undefined);
      const members = subscriptions.map((s) => `<member><TopicArn>${xml(topicArn)}</TopicArn><Protocol>${xml(s.protocol)}</Protocol>`
        + `<SubscriptionArn>${xml(s.arn)}</SubscriptionArn><Owner>${xml(topicArn.split(':')[4]!)}</Owner><Endpoint>${xml(s.endpoint)}</Endpoint></member>`);
      return `<Subscriptions>${members.join('')}</Subscriptions>${token(nextToken)}`;
    },
    Publish: async (params) => {
      const topicArn = params.get('TopicArn') ?? params.get('TargetArn') ?? undefined;
      if (topicArn === undefined) {
        throw new AwsError('InvalidParameter', params.has('PhoneNumber') ? 'Invalid parameter: serverfull publishes to topics only' : 'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter');
      }
      const message = messageOf(params, '');
      topics.check(message);
      return `<MessageId>${xml(await topics.publish(topicArn, message))}</MessageId>`;
    },
    PublishBatch: async (params) => {
      const topicArn = required(params, 'TopicArn');
      const batch = members(params, 'PublishBatchRequestEntries', 'member');
      if (batch.length === 0) throw new AwsError('InvalidParameter', 'Invalid parameter: PublishBatchRequestEntries: the batch is empty');
      if (batch.length > MAX_BATCH) throw new AwsError('InvalidParameter', `Invalid parameter: PublishBatchRequestEntries: The batch request contains more entries than permissible (${MAX_BATCH})`);
      const ids = new Set<string>();
      const checked = batch.map((prefix) => {
        const id = required(params, `${prefix}Id`);
        if (ids.has(id)) throw new AwsError('InvalidParameter', 'Invalid parameter: PublishBatchRequestEntries: Two or more batch entries in the request have the same Id');
        ids.add(id);
        return { id, message: messageOf(params, prefix) };
      });
      const succeeded: string[] = [];
      const failed: string[] = [];
      for (const { id, message } of checked) {
        try {
          topics.check(message);
          succeeded.push(`<member><Id>${xml(id)}</Id><MessageId>${xml(await topics.publish(topicArn, message))}</MessageId></member>`);
        } catch (error) {
          if (!(error instanceof AwsError) || error.type === 'NotFound') throw error;
          failed.push(`<member><Id>${xml(id)}</Id><Code>${xml(error.type)}</Code><Message>${xml(error.message)}</Message><SenderFault>true</SenderFault></member>`);
        }
      }
      return `<Successful>${succeeded.join('')}</Successful><Failed>${failed.join('')}</Failed>`;
    },
  };

  return {
    method: 'POST',
    pattern: /^\/$/,
    operation: 'SNS',
    claims: isQueryRequest,
    bodyLimit: () => MAX_BODY,
    abandoned: () => ({ operation: 'SNS' }),
    renderError(request, response, error) {
      // SNS names a refusal by policy `AuthorizationError`; other errors keep their registry name.
      const code = error.type === 'AccessDeniedException' ? 'AuthorizationError' : error.type;
      const text = `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${xml(code)}</Code>`
        + `<Message>${xml(error.message)}</Message></Error><RequestId>${xml(request.requestId)}</RequestId></ErrorResponse>`;
      response.writeHead(error.status, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(text), 'x-amzn-RequestId': request.requestId, ...error.headers }).end(text);
    },
    handle(request: RouteRequest, response: ServerResponse, finish: FinishRequest) {
      const params = new URLSearchParams(request.body.toString('utf8'));
      const name = params.get('Action') ?? '';
      const fields = { operation: `SNS.${name}` };
      if (!Object.hasOwn(actions, name)) throw new AwsError('InvalidAction', `The action ${name} is not valid for this endpoint.`);
      Promise.resolve().then(() => actions[name]!(params)).then((result) => {
        const text = `<${name}Response xmlns="${XMLNS}">${result === '' ? '' : `<${name}Result>${result}</${name}Result>`}`
          + `<ResponseMetadata><RequestId>${xml(request.requestId)}</RequestId></ResponseMetadata></${name}Response>`;
        response.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(text), 'x-amzn-RequestId': request.requestId }).end(text);
        finish(request, response, undefined, fields);
      }, (error: unknown) => finish(request, response, error, fields));
    },
  };
}

function required(params: URLSearchParams, key: string): string {
  const value = params.get(key);
  if (value === null) throw new AwsError('InvalidParameter', `Invalid parameter: ${key.split('.').at(-1)} Reason: no value for required parameter`);
  return value;
}

/** The prefixes (`Name.member.1.`, ...) of a Query list, in order. */
function members(params: URLSearchParams, name: string, kind: 'member' | 'entry'): string[] {
  const indexes = new Set<number>();
  const head = `${name}.${kind}.`;
  for (const key of params.keys()) {
    if (!key.startsWith(head)) continue;
    const index = Number(key.slice(head.length).split('.')[0]);
    if (Number.isInteger(index) && index > 0 && index <= 1000) indexes.add(index);
  }
  return [...indexes].sort((a, b) => a - b).map((index) => `${head}${index}.`);
}

/** A Query map (`Attributes.entry.N.key`/`value`) or tag list (`Tags.member.N.Key`/`Value`) as a record. */
function entries(params: URLSearchParams, name: string, key: string, value: string, kind: 'member' | 'entry' = 'entry'): Record<string, string> {
  const record: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const prefix of members(params, name, kind)) {
    const k = params.get(`${prefix}${key}`);
    if (k !== null) record[k] = params.get(`${prefix}${value}`) ?? '';
  }
  return { ...record };
}

/** A message and its attributes, from `prefix` (empty for Publish, the entry's for PublishBatch). */
function messageOf(params: URLSearchParams, prefix: string): TopicMessage {
  const message = params.get(`${prefix}Message`);
  if (message === null) throw new AwsError('InvalidParameter', 'Invalid parameter: Message Reason: no value for required parameter');
  const attributes = new Map<string, MessageAttribute>();
  for (const entry of members(params, `${prefix}MessageAttributes`, 'entry')) {
    const name = params.get(`${entry}Name`);
    const dataType = params.get(`${entry}Value.DataType`);
    if (name === null || dataType === null) throw new AwsError('InvalidParameter', 'Invalid parameter: MessageAttributes: an attribute has no name or data type');
    const value = params.get(`${entry}Value.StringValue`) ?? params.get(`${entry}Value.BinaryValue`);
    if (value === null) throw new AwsError('InvalidParameter', `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`);
    attributes.set(name, { dataType, value });
  }
  const subject = params.get(`${prefix}Subject`) ?? undefined;
  return { message, subject, attributes };
}

function token(nextToken: string | undefined): string {
  return nextToken === undefined ? '' : `<NextToken>${xml(nextToken)}</NextToken>`;
}

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes text for an XML element. */
function xml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]!);
}
