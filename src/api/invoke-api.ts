/**
 * @module api/invoke-api
 * The Lambda Invoke API: `POST /2015-03-31/functions/{FunctionName}/invocations`.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 *
 * Where serverfull differs from AWS:
 * - `Event` payloads are limited to 1 MB (AWS's limit since October 2025, 256 KB before).
 * - Event invocations are stored in the data directory before the 202 (`runtime/async-invocations`).
 * - `X-Amz-Client-Context` is checked for valid base64 JSON up to 3,583 bytes.
 * - `X-Amz-Invocation-Type: Error` (with `X-Error-Type`) is serverfull's own, for mocked
 *   functions: it answers a declared mock error. Other functions refuse it as AWS does.
 * - `X-Amzn-Trace-Id` is kept when its `Root` is valid and replaced by a new trace otherwise
 *   (`handler/trace-header`); no X-Ray segments are recorded.
 */
import { isUtf8 } from 'node:buffer';
import type { ServerResponse } from 'node:http';
import { AwsError, functionNotFound } from '../errors.js';
import type { AsyncInvocations } from '../runtime/async-invocations.js';
import type { Invoker } from '../runtime/invoker.js';
import { traceHeaderFrom, traceIdOf } from '../handler/trace-header.js';
import { MockErrorRequest } from '../runtime/mock-environment.js';
import type { FunctionDefinition, FunctionRegistry } from '../registry/function-definition.js';
import { functionArn, type ServiceIdentity } from '../registry/arns.js';
import { isObject } from '../values.js';
import { parseFunctionRef } from './function-ref.js';
import type { FinishRequest } from '../http/request-pipeline.js';
import { endInTurn } from '../http/response-batch.js';
import type { Route, RouteRequest } from './route.js';
import type { LogFields } from '../log.js';

/** Synchronous request limit: 6 MB. */
export const MAX_SYNC_PAYLOAD = 6_291_456;
/** Asynchronous (Event) request limit: 1 MB. */
export const MAX_ASYNC_PAYLOAD = 1_048_576;
const MAX_CLIENT_CONTEXT = 3583;

const INVOCATION_TYPES = ['RequestResponse', 'Event', 'DryRun'];
const MOCK_ERROR_TYPE = 'Error';
const LOG_TYPES = ['None', 'Tail'];

/** The Invoke API route. */
export function invokeRoute(registry: FunctionRegistry, invoker: Invoker, events: AsyncInvocations, identity: ServiceIdentity): Route {
  return {
    method: 'POST',
    pattern: /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/,
    operation: 'InvokeFunction',
    bodyLimit(request) {
      const headers = readInvokeHeaders(request.rawHeaders);
      request.routeState = headers;
      return headers.invocationType === 'Event' ? MAX_ASYNC_PAYLOAD : MAX_SYNC_PAYLOAD;
    },
    abandoned(request) {
      try {
        const ref = parseFunctionRef(request.params[0]!, request.query.get('Qualifier') ?? undefined, identity);
        return { function: registry.resolve(ref.name, ref.qualifier)?.name ?? ref.name };
      } catch {
        // A name the handler would have refused: the log line says only that the client left.
        return {};
      }
    },
    handle(request: RouteRequest, response: ServerResponse, finish: FinishRequest) {
      const { requestId } = request;
      const headers = request.routeState as InvokeHeaders;
      // One comparison keeps mock errors off the common path; whether `Error` is allowed depends on the function.
      const invocationType = headers.invocationType === MOCK_ERROR_TYPE ? MOCK_ERROR_TYPE
        : enumHeader(headers.invocationType, 'invocationType', INVOCATION_TYPES, 'RequestResponse');
      const logType = enumHeader(headers.logType, 'logType', LOG_TYPES, 'None');
      const ref = parseFunctionRef(request.params[0]!, request.query.get('Qualifier') ?? undefined, identity);
      const definition = registry.resolve(ref.name, ref.qualifier);
      if (!definition) throw functionNotFound(functionArn(identity, ref.name, ref.qualifier ?? '$LATEST'));
      const errorRequest = invocationType === MOCK_ERROR_TYPE ? mockErrorRequest(definition, headers.errorType, functionArn(identity, definition.name, ref.qualifier)) : undefined;
      const clientContext = decodeClientContext(headers.clientContext);
      const { payload, event } = parsePayload(request.body);
      const traceHeader = traceHeaderFrom(headers.traceHeader);
      const fields: LogFields = { function: definition.name, invocationType, traceId: traceIdOf(traceHeader) };
      const input = {
        definition,
        requestId,
        payload,
        // A mock ignores the event: in its place travels the error it is asked for.
        event: errorRequest ?? event,
        invokedFunctionArn: functionArn(identity, definition.name, ref.qualifier),
        clientContext,
        tail: logType === 'Tail',
        traceHeader,
      };
      if (invocationType === 'DryRun') {
        response.writeHead(204, { 'x-amzn-RequestId': requestId }).end();
        return finish(request, response, undefined, fields);
      }
      if (invocationType === 'Event') {
        // AWS does not pass the client context to asynchronous invocations.
        events.submit({ ...input, clientContext: undefined, tail: false }, ref.qualifier ?? '$LATEST', (error) => {
          if (error !== undefined) return finish(request, response, error);
          response.writeHead(202, { 'x-amzn-RequestId': requestId, 'Content-Length': 0 }).end();
          finish(request, response, undefined, fields);
        });
        return;
      }
      invoker.invoke(input, (output) => {
        // From here on this runs in a callback: errors go to `finish`, never up the stack.
        try {
          const responseHeaders: Record<string, string | number> = {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(output.payload),
            'x-amzn-RequestId': requestId,
            'X-Amz-Executed-Version': output.executedVersion,
          };
          if (output.functionError) responseHeaders['X-Amz-Function-Error'] = 'Unhandled';
          if (output.logResult !== undefined) responseHeaders['X-Amz-Log-Result'] = output.logResult;
          endInTurn(response.writeHead(200, responseHeaders), output.payload);
          fields.functionError = output.functionError;
          finish(request, response, undefined, fields);
        } catch (error) {
          finish(request, response, error);
        }
      });
    },
  };
}

/** The request headers the Invoke API reads. */
interface InvokeHeaders {
  invocationType?: string;
  logType?: string;
  clientContext?: string;
  /** `X-Error-Type`: the mock error an `Error` invocation asks for. */
  errorType?: string;
  /** `X-Amzn-Trace-Id`, as sent: checked by `traceHeaderFrom`. */
  traceHeader?: string;
}

/** Reads the Invoke headers straight from `rawHeaders`: cheaper than having Node build `request.headers` for five values. */
function readInvokeHeaders(raw: readonly string[]): InvokeHeaders {
  const headers: InvokeHeaders = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Only names of the right length are lower-cased and compared.
    switch (name.length) {
      case 12:
        if (name.toLowerCase() === 'x-error-type') headers.errorType = raw[i + 1];
        break;
      case 14:
        if (name.toLowerCase() === 'x-amz-log-type') headers.logType = raw[i + 1];
        break;
      case 15:
        if (name.toLowerCase() === 'x-amzn-trace-id') headers.traceHeader = raw[i + 1];
        break;
      case 20:
        if (name.toLowerCase() === 'x-amz-client-context') headers.clientContext = raw[i + 1];
        break;
      case 21:
        if (name.toLowerCase() === 'x-amz-invocation-type') headers.invocationType = raw[i + 1];
        break;
    }
  }
  return headers;
}

function enumHeader(value: string | undefined, member: string, allowed: string[], fallback: string): string {
  if (value === undefined) return fallback;
  if (allowed.includes(value)) return value;
  throw notInEnum(value, member, allowed);
}

function notInEnum(value: string, member: string, allowed: string[]): AwsError {
  return new AwsError(
    'ValidationException',
    `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`,
  );
}

/**
 * The error an `Error` invocation triggers. A function that is not mocked refuses the type as
 * AWS refuses any unknown one; a mocked one answers 404 for a type it does not declare.
 */
function mockErrorRequest(definition: FunctionDefinition, errorType: string | undefined, arn: string): MockErrorRequest {
  if (!definition.mock) throw notInEnum(MOCK_ERROR_TYPE, 'invocationType', INVOCATION_TYPES);
  if (errorType === undefined || !definition.mock.errors.includes(errorType)) {
    const declared = definition.mock.errors.length === 0 ? 'none' : definition.mock.errors.join(', ');
    throw new AwsError('ResourceNotFoundException', `Mock error type not found: ${errorType ?? '(no X-Error-Type header)'} for ${arn} (declared: ${declared})`);
  }
  return new MockErrorRequest(errorType);
}

/** The body as validated JSON text and parsed; an empty body is `{}`, as in AWS. */
function parsePayload(body: Buffer): { payload: string; event: unknown } {
  if (body.length === 0) return { payload: '{}', event: {} };
  const invalid = (detail: string) =>
    new AwsError('InvalidRequestContentException', `Could not parse request body into json: Could not parse payload into json: ${detail}`);
  if (!isUtf8(body)) throw invalid('Invalid UTF-8 byte sequence');
  const text = body.toString('utf8');
  try {
    return { payload: text, event: JSON.parse(text) };
  } catch (error) {
    throw invalid((error as Error).message);
  }
}

/** `X-Amz-Client-Context`: base64 of a JSON object; returned as JSON text. */
function decodeClientContext(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_CLIENT_CONTEXT) {
    throw new AwsError('InvalidRequestContentException', `Client context must be at most ${MAX_CLIENT_CONTEXT} bytes of base64-encoded JSON`);
  }
  const text = Buffer.from(value, 'base64').toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObject(parsed)) return text;
  } catch {
    // fall through to the error below
  }
  throw new AwsError('InvalidRequestContentException', 'Client context must be a valid Base64-encoded JSON object.');
}
