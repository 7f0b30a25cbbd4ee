/**
 * @module http/aws-json11-error
 * The wire shape of an `AwsError` on an AWS JSON 1.1 API (CloudWatch Logs): `{"__type": ...,
 * "message": ...}`. JSON 1.1 services answer every client fault with 400 and name it in `__type`
 * (the SDKs read that, or `x-amzn-ErrorType`); server faults keep their 5xx, and a refused body
 * keeps 413 so that the connection can be closed under it.
 */
import type { ServerResponse } from 'node:http';
import type { AwsError } from '../errors.js';

/** The content type of AWS JSON 1.1 requests and responses. */
export const AWS_JSON_11 = 'application/x-amz-json-1.1';

/** The HTTP status of `error` on a JSON 1.1 API. */
export function json11Status(error: AwsError): number {
  return error.status >= 500 || error.status === 413 ? error.status : 400;
}

/** Writes `error` as an AWS JSON 1.1 service does. */
export function writeAwsJson11Error(response: ServerResponse, requestId: string, error: AwsError): void {
  const body = JSON.stringify({ __type: error.type, message: error.message });
  const status = json11Status(error);
  response.writeHead(status, {
    'Content-Type': AWS_JSON_11,
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
    'x-amzn-ErrorType': error.type,
    ...error.headers,
    ...(status === 413 ? { Connection: 'close' } : {}),
  });
  response.end(body);
}
