/**
 * @module api/cloudwatch-logs-api
 * The CloudWatch Logs API, the subset that reads functions' logs, on the Lambda API's port:
 * AWS JSON 1.1, `POST /` with `X-Amz-Target: Logs_20140328.<Operation>`.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/Welcome.html
 * `DescribeLogGroups`, `DescribeLogStreams`, `GetLogEvents` and `FilterLogEvents`: enough for
 * `aws logs tail [--follow]`, `aws logs get-log-events` and `@aws-sdk/client-cloudwatch-logs`.
 *
 * Where serverfull differs from AWS:
 * - log groups are the functions' (`/aws/lambda/<function>`), read-only; a group exists once its
 *   function has logged (as in Lambda), and nothing can be written or configured through the API;
 * - filter patterns: terms, quoted phrases, `-exclusions` and `?alternatives` (`logs/filter-pattern.ts`);
 * - `FilterLogEvents` takes one more member, `traceId` (serverfull's own): only the events of
 *   invocations with that X-Ray trace id;
 * - `logGroupNamePattern`, `unmask`, `interleaved` (always interleaved) and `searchedLogStreams` are
 *   accepted and ignored (the last is always empty, as AWS now sends it).
 */
import { parseJsonBody, type JsonBody } from '../http/json-body.js';
import type { ServerResponse } from 'node:http';
import { LOGS_TARGET_PREFIX } from '../auth/logs-operations.js';
import { AwsError } from '../errors.js';
import { AWS_JSON_11, writeAwsJson11Error } from '../http/aws-json11-error.js';
import type { FinishRequest } from '../http/request-pipeline.js';
import { compileFilterPattern } from '../logs/filter-pattern.js';
import type { EventPosition, LogStore, StoredEvent } from '../logs/log-store.js';
import { logGroupName } from '../handler/lambda-environment.js';
import { functionOfLogGroup } from '../logs/log-stream-name.js';
import { groupNameOf, logGroupArn, logStreamArn, type ServiceIdentity } from '../registry/arns.js';
import type { Route, RouteRequest } from './route.js';

/** The largest request body: every operation served takes a few small members. */
const MAX_BODY = 1024 * 1024;
/** AWS's cap on the events of one GetLogEvents or FilterLogEvents answer. */
const MAX_PAGE_BYTES = 1024 * 1024;
/** Events FilterLogEvents examines per call; past it the page ends (maybe empty) with a `nextToken`, as AWS's does. */
const MAX_SCANNED = 50_000;

type Body = JsonBody;
type Operation = (body: Body, store: LogStore, identity: ServiceIdentity, retentionDays: number) => unknown;

const OPERATIONS: Readonly<Record<string, Operation>> = {
  DescribeLogGroups: describeLogGroups,
  DescribeLogStreams: describeLogStreams,
  GetLogEvents: getLogEvents,
  FilterLogEvents: filterLogEvents,
};

/** The operations served, by name. */
export const LOGS_OPERATIONS: readonly string[] = Object.keys(OPERATIONS);

/** The route of the CloudWatch Logs API: `POST /`, the operation from `X-Amz-Target`. */
export function cloudWatchLogsRoute(store: LogStore, identity: ServiceIdentity, retentionDays: number): Route {
  return {
    method: 'POST',
    pattern: /^\/$/,
    operation: 'CloudWatchLogs',
    operationOf(request) {
      const target = request.headers['x-amz-target'];
      const operation = typeof target === 'string' && target.startsWith(LOGS_TARGET_PREFIX) ? target.slice(LOGS_TARGET_PREFIX.length) : undefined;
      if (operation === undefined || !Object.hasOwn(OPERATIONS, operation)) return new AwsError('UnknownOperationException', 'Unknown operation');
      return operation;
    },
    bodyLimit: () => MAX_BODY,
    abandoned: () => ({}),
    renderError(request, response, error) {
      writeAwsJson11Error(response, request.requestId, error);
    },
    handle(request: RouteRequest, response: ServerResponse, finish: FinishRequest) {
      const operation = OPERATIONS[request.operation!]!;
      const body = parseJsonBody(request.body);
      // What was logged before this request (an invocation whose answer is out) is read too.
      store.sync().then(() => {
        const text = JSON.stringify(operation(body, store, identity, retentionDays));
        response.writeHead(200, { 'Content-Type': AWS_JSON_11, 'Content-Length': Buffer.byteLength(text), 'x-amzn-RequestId': request.requestId }).end(text);
        finish(request, response, undefined);
      }).catch((error: unknown) => finish(request, response, error));
    },
  };
}

/** https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogGroups.html */
function describeLogGroups(body: Body, store: LogStore, identity: ServiceIdentity, retentionDays: number): unknown {
  const prefix = readString(body, 'logGroupNamePrefix');
  const limit = readInteger(body, 'limit', 1, 50) ?? 50;
  const offset = readOffset(body);
  const all = store.groups()
    .map((group) => ({ ...group, name: logGroupName(group.functionName) }))
    .filter((group) => prefix === undefined || group.name.startsWith(prefix));
  const page = all.slice(offset, offset + limit);
  return {
    logGroups: page.map((group) => {
      const arn = logGroupArn(identity, group.name);
      return {
        logGroupName: group.name,
        creationTime: group.creationTime,
        ...(Number.isInteger(retentionDays) ? { retentionInDays: retentionDays } : {}),
        metricFilterCount: 0,
        arn: `${arn}:*`,
        logGroupArn: arn,
        storedBytes: group.storedBytes,
        logGroupClass: 'STANDARD',
      };
    }),
    ...(offset + limit < all.length ? { nextToken: offsetToken(offset + limit) } : {}),
  };
}

/** https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogStreams.html */
function describeLogStreams(body: Body, store: LogStore, identity: ServiceIdentity): unknown {
  const { functionName, groupName } = readGroup(body, store);
  const prefix = readString(body, 'logStreamNamePrefix');
  const orderBy = readString(body, 'orderBy') ?? 'LogStreamName';
  if (orderBy !== 'LogStreamName' && orderBy !== 'LastEventTime') {
    throw invalidParameter(`1 validation error detected: Value '${orderBy}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]`);
  }
  if (orderBy === 'LastEventTime' && prefix !== undefined) throw invalidParameter('Cannot order by LastEventTime with a logStreamNamePrefix.');
  const descending = readBoolean(body, 'descending') ?? false;
  const limit = readInteger(body, 'limit', 1, 50) ?? 50;
  const offset = readOffset(body);
  const streams = store.streamsOf(functionName).filter((stream) => prefix === undefined || stream.name.startsWith(prefix));
  streams.sort(orderBy === 'LogStreamName'
    ? (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    : (a, b) => a.lastEventTimestamp - b.lastEventTimestamp || (a.name < b.name ? -1 : 1));
  if (descending) streams.reverse();
  const page = streams.slice(offset, offset + limit);
  return {
    logStreams: page.map((stream) => ({
      logStreamName: stream.name,
      creationTime: stream.creationTime,
      firstEventTimestamp: stream.firstEventTimestamp,
      lastEventTimestamp: stream.lastEventTimestamp,
      lastIngestionTime: stream.lastIngestionTime,
      uploadSequenceToken: '1',
      arn: logStreamArn(identity, groupName, stream.name),
      storedBytes: 0,
    })),
    ...(offset + limit < streams.length ? { nextToken: offsetToken(offset + limit) } : {}),
  };
}

/** https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html */
function getLogEvents(body: Body, store: LogStore): unknown {
  const { functionName } = readGroup(body, store);
  const stream = readString(body, 'logStreamName');
  if (stream === undefined) throw invalidParameter("1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: Member must not be null");
  if (!store.hasStream(functionName, stream)) throw new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.');
  const token = readString(body, 'nextToken');
  const startFromHead = readBoolean(body, 'startFromHead') ?? false;
  let afterId: number | undefined;
  let beforeId: number | undefined;
  if (token !== undefined) {
    const match = /^([fb])\/(\d{1,15})$/.exec(token);
    if (!match) throw invalidParameter('The specified nextToken is invalid.');
    if (match[1] === 'f') afterId = Number(match[2]);
    else beforeId = Number(match[2]);
  } else if (startFromHead) {
    afterId = 0;
  } else {
    beforeId = Number.MAX_SAFE_INTEGER;
  }
  const events = store.streamEvents({
    functionName, stream, startTime: readTime(body, 'startTime'), endTime: readTime(body, 'endTime'),
    afterId, beforeId, limit: readInteger(body, 'limit', 1, 10_000) ?? 10_000, maxBytes: MAX_PAGE_BYTES,
  });
  const first = events[0];
  const last = events[events.length - 1];
  // With no event in the window, the tokens stay where the request was: a client paging on sees no change and stops.
  const forward = last !== undefined ? last.id : afterId ?? (beforeId === Number.MAX_SAFE_INTEGER ? 0 : beforeId! - 1);
  const backward = first !== undefined ? first.id : beforeId === Number.MAX_SAFE_INTEGER ? 0 : beforeId ?? afterId! + 1;
  return {
    events: events.map((event) => ({ timestamp: event.timestamp, message: event.message, ingestionTime: event.ingestionTime })),
    nextForwardToken: `f/${forward}`,
    nextBackwardToken: `b/${backward}`,
  };
}

/** https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html */
function filterLogEvents(body: Body, store: LogStore): unknown {
  const { functionName } = readGroup(body, store);
  const names = body.logStreamNames;
  let streams: Set<string> | undefined;
  if (names !== undefined && names !== null) {
    if (!Array.isArray(names) || names.length < 1 || names.length > 100 || !names.every((name) => typeof name === 'string')) {
      throw invalidParameter("1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must be a list of 1 to 100 stream names");
    }
    streams = new Set(names as string[]);
  }
  const streamPrefix = readString(body, 'logStreamNamePrefix');
  if (streams !== undefined && streamPrefix !== undefined) throw invalidParameter('logStreamNames and logStreamNamePrefix are mutually exclusive');
  const token = readString(body, 'nextToken');
  const page = store.filterEvents({
    functionName,
    streams,
    streamPrefix,
    startTime: readTime(body, 'startTime'),
    endTime: readTime(body, 'endTime'),
    traceId: readString(body, 'traceId'),
    matches: compileFilterPattern(readString(body, 'filterPattern')),
    after: token === undefined ? undefined : readPositionToken(token),
    limit: readInteger(body, 'limit', 1, 10_000) ?? 10_000,
    maxBytes: MAX_PAGE_BYTES,
    maxScanned: MAX_SCANNED,
  });
  return {
    events: page.events.map(filteredEvent),
    searchedLogStreams: [],
    ...(page.next === undefined ? {} : { nextToken: positionToken(page.next) }),
  };
}

function filteredEvent(event: StoredEvent): unknown {
  return {
    logStreamName: event.stream,
    timestamp: event.timestamp,
    message: event.message,
    ingestionTime: event.ingestionTime,
    // CloudWatch's ids are long decimal strings; only uniqueness matters (`aws logs tail --follow` drops repeats by it).
    eventId: String(event.id).padStart(20, '0'),
  };
}

/** The function of the request's `logGroupName` or `logGroupIdentifier` (a name or an ARN), which must have a log group. */
function readGroup(body: Body, store: LogStore): { functionName: string; groupName: string } {
  const name = readString(body, 'logGroupName');
  const identifier = readString(body, 'logGroupIdentifier');
  if (name !== undefined && identifier !== undefined) throw invalidParameter('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
  const given = name ?? identifier;
  if (given === undefined) throw invalidParameter('Either parameter logGroupName or logGroupIdentifier must be specified.');
  const groupName = groupNameOf(given);
  const functionName = functionOfLogGroup(groupName);
  if (functionName === undefined || !store.hasGroup(functionName)) throw new AwsError('ResourceNotFoundException', 'The specified log group does not exist.');
  return { functionName, groupName };
}

function readString(body: Body, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsError('SerializationException', `${key} must be a string`);
  return value;
}

function readBoolean(body: Body, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new AwsError('SerializationException', `${key} must be a boolean`);
  return value;
}

function readInteger(body: Body, key: string, min: number, max: number): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new AwsError('SerializationException', `${key} must be an integer`);
  if (value < min) throw invalidParameter(`1 validation error detected: Value '${value}' at '${key}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`);
  if (value > max) throw invalidParameter(`1 validation error detected: Value '${value}' at '${key}' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
  return value;
}

/** A time in milliseconds since the epoch. */
function readTime(body: Body, key: string): number | undefined {
  return readInteger(body, key, 0, Number.MAX_SAFE_INTEGER);
}

/** The offset a `nextToken` of the Describe operations carries. */
function readOffset(body: Body): number {
  const token = readString(body, 'nextToken');
  if (token === undefined) return 0;
  const match = /^o\/(\d{1,9})$/.exec(token);
  if (!match) throw invalidParameter('The specified nextToken is invalid.');
  return Number(match[1]);
}

function offsetToken(offset: number): string {
  return `o/${offset}`;
}

/** FilterLogEvents' `nextToken`: where the page ended, as `p/<timestamp>/<id>`. */
function positionToken(position: EventPosition): string {
  return `p/${position.timestamp}/${position.id}`;
}

function readPositionToken(token: string): EventPosition {
  const match = /^p\/(\d{1,15})\/(\d{1,15})$/.exec(token);
  if (!match) throw invalidParameter('The specified nextToken is invalid.');
  return { timestamp: Number(match[1]), id: Number(match[2]) };
}

function invalidParameter(message: string): AwsError {
  return new AwsError('InvalidParameterException', message);
}
