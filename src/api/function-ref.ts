/**
 * @module api/function-ref
 * Reads the `FunctionName` path parameter in every form AWS accepts: a name, a full or
 * partial ARN, or `name:qualifier`, reconciled with the `Qualifier` query parameter.
 */
import { AwsError } from '../errors.js';
import { functionArn, type ServiceIdentity } from '../registry/arns.js';

/** A function name with its optional version or alias. */
export interface FunctionRef {
  readonly name: string;
  readonly qualifier?: string;
}

const PATTERN_SOURCE =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?';
const PATTERN = new RegExp(`^${PATTERN_SOURCE}$`);
const MAX_LENGTH = 170;
const PLAIN_NAME = /^[a-zA-Z0-9-_.]{1,64}$/;

/** Parses a `FunctionName` and `Qualifier`; throws AWS's errors for malformed or foreign references. */
export function parseFunctionRef(raw: string, qualifierParam: string | undefined, identity: ServiceIdentity): FunctionRef {
  // The common case, a plain name, needs none of the ARN handling below.
  if (PLAIN_NAME.test(raw)) return { name: raw, qualifier: qualifierParam };
  const match = raw.length <= MAX_LENGTH ? PATTERN.exec(raw) : null;
  if (!match) {
    const constraint = raw.length > MAX_LENGTH
      ? `Member must have length less than or equal to ${MAX_LENGTH}`
      : `Member must satisfy regular expression pattern: ${PATTERN_SOURCE}`;
    throw new AwsError('ValidationException', `1 validation error detected: Value '${raw}' at 'functionName' failed to satisfy constraint: ${constraint}`);
  }
  const region = match[3]?.slice(0, -1);
  const account = match[9]?.slice(0, -1);
  const name = match[11]!;
  const derived = match[13];
  if (region !== undefined && region !== identity.region) {
    throw new AwsError('ResourceNotFoundException', `Functions from '${region}' are not reachable in this region ('${identity.region}')`);
  }
  if (qualifierParam !== undefined && derived !== undefined && qualifierParam !== derived) {
    throw new AwsError('InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.');
  }
  if (account !== undefined && account !== identity.accountId) {
    throw new AwsError('ResourceNotFoundException', `Function not found: ${functionArn({ region: identity.region, accountId: account }, name)}`);
  }
  return { name, qualifier: derived ?? qualifierParam };
}
