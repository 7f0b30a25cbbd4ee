/**
 * @module http/aws-json-error
 * The wire shape of an `AwsError` on the Lambda APIs (AWS's REST-JSON protocol): status,
 * `x-amzn-ErrorType`, `x-amzn-RequestId` and the JSON body. The SDKs read the type from the header.
 */
import type { ServerResponse } from 'node:http';
import type { AwsError } from '../errors.js';

/** Writes `error` as AWS does; a 413 also closes the connection, since the refused body may still be arriving. */
export function writeAwsJsonError(response: ServerResponse, requestId: string, error: AwsError): void {
  const body = error.toBody();
  response.writeHead(error.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
    'x-amzn-ErrorType': error.type,
    ...error.headers,
    ...(error.status === 413 ? { Connection: 'close' } : {}),
  });
  response.end(body);
}
