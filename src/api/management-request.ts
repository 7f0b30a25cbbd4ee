/**
 * @module api/management-request
 * Reading management API requests: the JSON body and each field, checked against the
 * constraints of AWS's model with AWS's messages. A field that breaks a model constraint
 * (type, range, pattern) is a `ValidationException`, as in AWS; rules beyond the model
 * are `InvalidParameterValueException`.
 */
import { isUtf8 } from 'node:buffer';
import { AwsError } from '../errors.js';
import { isObject } from '../values.js';
import { ENVIRONMENT_KEY, exceedsEnvironmentLimit, RESERVED_ENVIRONMENT_KEYS } from '../registry/function-limits.js';

/** A parsed JSON request body: an object, possibly empty. */
export type RequestBody = Readonly<Record<string, unknown>>;

/** Parses a JSON object body; an empty body is `{}`. */
export function parseJsonBody(body: Buffer): RequestBody {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    if (!isUtf8(body)) throw new Error('Invalid UTF-8 byte sequence');
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new AwsError('InvalidRequestContentException', `Could not parse request body into json: ${(error as Error).message}`);
  }
  if (!isObject(parsed)) {
    throw new AwsError('InvalidRequestContentException', 'Could not parse request body into json: the body must be a JSON object');
  }
  return parsed;
}

/** `1 validation error detected: Value 'v' at 'member' failed to satisfy constraint: ...`. */
export function validationError(value: unknown, member: string, constraint: string): AwsError {
  const shown = typeof value === 'string' ? value : JSON.stringify(value);
  return new AwsError('ValidationException', `1 validation error detected: Value '${shown}' at '${member}' failed to satisfy constraint: ${constraint}`);
}

/** Field readers: each returns undefined when the field is absent, else the checked value. */
export const field = {
  string(body: RequestBody, key: string, member: string, limits: { pattern?: RegExp; max?: number; min?: number } = {}): string | undefined {
    const value = body[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw validationError(value, member, 'Member must be a string');
    if (limits.min !== undefined && value.length < limits.min) throw validationError(value, member, `Member must have length greater than or equal to ${limits.min}`);
    if (limits.max !== undefined && value.length > limits.max) throw validationError(value, member, `Member must have length less than or equal to ${limits.max}`);
    if (limits.pattern && !limits.pattern.test(value)) {
      throw validationError(value, member, `Member must satisfy regular expression pattern: ${limits.pattern.source.replace(/^\^|\$$/g, '')}`);
    }
    return value;
  },
  integer(body: RequestBody, key: string, member: string, min: number, max: number): number | undefined {
    const value = body[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw validationError(value, member, 'Member must be an integer');
    if (value < min) throw validationError(value, member, `Member must have value greater than or equal to ${min}`);
    if (value > max) throw validationError(value, member, `Member must have value less than or equal to ${max}`);
    return value;
  },
  boolean(body: RequestBody, key: string, member: string): boolean | undefined {
    const value = body[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw validationError(value, member, 'Member must be a boolean');
    return value;
  },
  object(body: RequestBody, key: string, member: string): RequestBody | undefined {
    const value = body[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) throw validationError(value, member, 'Member must be a structure');
    return value as RequestBody;
  },
  /** A map of strings (tags, environment variables). */
  stringMap(body: RequestBody, key: string, member: string): Record<string, string> | undefined {
    const map = field.object(body, key, member);
    if (map === undefined) return undefined;
    for (const [k, v] of Object.entries(map)) {
      if (typeof v !== 'string') throw validationError(v, `${member}.${k}`, 'Member must be a string');
    }
    return map as Record<string, string>;
  },
};

/** AWS's execution role pattern; serverfull stores the role but has no IAM. */
export const ROLE_PATTERN = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;


/** `Environment.Variables`, checked as AWS does (names, reserved keys, the 4 KB limit). */
export function readEnvironment(body: RequestBody): Record<string, string> | undefined {
  const environment = field.object(body, 'Environment', 'environment');
  if (environment === undefined) return undefined;
  const variables = field.stringMap(environment, 'Variables', 'environment.variables') ?? {};
  for (const key of Object.keys(variables)) {
    if (!ENVIRONMENT_KEY.test(key)) {
      throw new AwsError('ValidationException', `1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: ${ENVIRONMENT_KEY.source.slice(1, -1)}]`);
    }
  }
  const reserved = Object.keys(variables).filter((key) => RESERVED_ENVIRONMENT_KEYS.has(key));
  if (reserved.length > 0) {
    throw new AwsError(
      'InvalidParameterValueException',
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
    );
  }
  const measured = JSON.stringify(variables);
  if (exceedsEnvironmentLimit(measured)) {
    throw new AwsError(
      'InvalidParameterValueException',
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${measured}`,
    );
  }
  return variables;
}

/** Base64 `ZipFile` bytes; refuses anything that is not base64. */
export function decodeZipFile(value: unknown, member: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw validationError('<binary>', member, 'Member must be a base64-encoded blob');
  return Buffer.from(value, 'base64');
}

/** Opaque `Marker` for list pagination: the sort key of the last item returned. */
export function paginate<T>(items: readonly T[], key: (item: T) => string, query: URLSearchParams, defaultMax = 50): { page: T[]; nextMarker?: string } {
  const maxText = query.get('MaxItems');
  const maxItems = maxText === null ? defaultMax : Number(maxText);
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 10_000) {
    throw validationError(maxText, 'maxItems', maxItems < 1 ? 'Member must have value greater than or equal to 1' : 'Member must have value less than or equal to 10000');
  }
  const marker = query.get('Marker');
  let start = 0;
  if (marker !== null && marker !== '') {
    const after = Buffer.from(marker, 'base64url').toString('utf8');
    if (Buffer.from(after, 'utf8').toString('base64url') !== marker) throw new AwsError('InvalidParameterValueException', 'Invalid Marker');
    start = items.findIndex((item) => key(item) > after);
    if (start === -1) start = items.length;
  }
  const page = items.slice(start, start + maxItems);
  const more = start + maxItems < items.length;
  return { page, nextMarker: more ? Buffer.from(key(page.at(-1)!), 'utf8').toString('base64url') : undefined };
}
