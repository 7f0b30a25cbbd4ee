/**
 * @module http/json-body
 * The body of an AWS JSON 1.1 request (CloudWatch Logs, SSM) as a JSON object: strictly for the API that
 * answers it, leniently for authorization, which reads it before the API does and leaves refusing a bad
 * body to it.
 */
import { isUtf8 } from 'node:buffer';
import { AwsError } from '../errors.js';
import { isObject } from '../values.js';

/** A parsed request body. */
export type JsonBody = Readonly<Record<string, unknown>>;

/** The body as a JSON object; an empty body is `{}`; anything else is a `SerializationException`. */
export function parseJsonBody(body: Buffer): JsonBody {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    if (!isUtf8(body)) throw new Error('invalid UTF-8');
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AwsError('SerializationException', 'The request body is not valid JSON.');
  }
  if (!isObject(parsed)) throw new AwsError('SerializationException', 'The request body must be a JSON object.');
  return parsed;
}

/** The body's fields when it is a JSON object, else none: what authorization reads before the API parses it. */
export function jsonBodyFields(body: Buffer): JsonBody {
  if (body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}
