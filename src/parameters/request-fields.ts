/**
 * @module parameters/request-fields
 * Reading the members of an AWS JSON 1.1 request body as SSM validates them: a member of the wrong
 * JSON type is a `SerializationException`, one out of its bounds a `ValidationException` worded as
 * AWS words its "1 validation error detected" messages (member names in lower camel case).
 */
import { AwsError } from '../errors.js';
import type { JsonBody } from '../http/json-body.js';

/** A parsed request body. */
export type Body = JsonBody;

/** AWS's "1 validation error detected" message for `member` (its wire name, first letter lowered). */
export function validationError(value: unknown, member: string, constraint: string): AwsError {
  const shown = value === null || value === undefined ? 'null' : `'${Array.isArray(value) ? `[${value.join(', ')}]` : String(value)}'`;
  const at = member.charAt(0).toLowerCase() + member.slice(1);
  return new AwsError('ValidationException', `1 validation error detected: Value ${shown} at '${at}' failed to satisfy constraint: ${constraint}`);
}

/** An optional string member, at most `max` characters. */
export function optionalString(body: Body, key: string, max = Infinity): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsError('SerializationException', `${key} must be a string`);
  if (value.length > max) throw validationError(value.length > 64 ? `${value.slice(0, 64)}...` : value, key, `Member must have length less than or equal to ${max}`);
  return value;
}

/** A required string member of 1 to `max` characters. */
export function requiredString(body: Body, key: string, max = Infinity): string {
  const value = optionalString(body, key, max);
  if (value === undefined) throw validationError(undefined, key, 'Member must not be null');
  if (value === '') throw validationError('', key, 'Member must have length greater than or equal to 1');
  return value;
}

/** An optional boolean member. */
export function optionalBoolean(body: Body, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new AwsError('SerializationException', `${key} must be a boolean`);
  return value;
}

/** An optional integer member within [min, max]. */
export function optionalInteger(body: Body, key: string, min: number, max: number): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new AwsError('SerializationException', `${key} must be an integer`);
  if (value < min) throw validationError(value, key, `Member must have value greater than or equal to ${min}`);
  if (value > max) throw validationError(value, key, `Member must have value less than or equal to ${max}`);
  return value;
}

/** A list of strings of `min` to `max` entries; undefined when absent and `min` is 0. */
export function stringList(body: Body, key: string, min: number, max: number): string[] | undefined {
  const value = body[key];
  if (value === undefined || value === null) {
    if (min > 0) throw validationError(undefined, key, 'Member must not be null');
    return undefined;
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new AwsError('SerializationException', `${key} must be a list of strings`);
  if (value.length < min) throw validationError(value, key, `Member must have length greater than or equal to ${min}`);
  if (value.length > max) throw validationError(value, key, `Member must have length less than or equal to ${max}`);
  return value as string[];
}

/** A `NextToken` of a listing by name: the last name of the previous page, opaque to the caller. */
export function nameToken(name: string): string {
  return Buffer.from(`n:${name}`).toString('base64url');
}

/** The name a `NextToken` carries; `InvalidNextToken` for one this server did not give. */
export function readNameToken(body: Body): string | undefined {
  const token = optionalString(body, 'NextToken', 1024);
  if (token === undefined) return undefined;
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!/^n:[a-zA-Z0-9_.\-/]{1,2048}$/.test(text)) throw new AwsError('InvalidNextToken', 'The specified token is not valid.');
  return text.slice(2);
}
