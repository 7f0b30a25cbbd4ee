/**
 * @module errors
 * The one registry of AWS service errors: each type's HTTP status and wire shape.
 * API handlers throw `AwsError` values; `http-server.ts` turns them into responses.
 */

/** How one AWS error type looks on the wire. */
interface AwsErrorSpec {
  readonly status: number;
  /** AWS is inconsistent: ResourceNotFoundException says `Message`, most others `message`. */
  readonly messageKey: 'message' | 'Message';
  /** `"User"` for caller faults; omitted by AWS for validation errors. */
  readonly type?: 'User' | 'Service';
}

/** Every service error serverfull can return, keyed by its AWS name (the `x-amzn-ErrorType`). */
export const AWS_ERRORS = {
  ResourceNotFoundException: { status: 404, messageKey: 'Message', type: 'User' },
  InvalidRequestContentException: { status: 400, messageKey: 'message', type: 'User' },
  InvalidParameterValueException: { status: 400, messageKey: 'message', type: 'User' },
  ValidationException: { status: 400, messageKey: 'message' },
  /** AWS's wire name for an oversized Invoke body; the SDK model calls it RequestTooLargeException. */
  RequestEntityTooLargeException: { status: 413, messageKey: 'message', type: 'User' },
  TooManyRequestsException: { status: 429, messageKey: 'message', type: 'User' },
  ResourceConflictException: { status: 409, messageKey: 'message', type: 'User' },
  PreconditionFailedException: { status: 412, messageKey: 'message', type: 'User' },
  UnknownOperationException: { status: 404, messageKey: 'message', type: 'User' },
  CodeStorageExceededException: { status: 400, messageKey: 'message', type: 'User' },
  ServiceException: { status: 500, messageKey: 'message', type: 'Service' },
} as const satisfies Record<string, AwsErrorSpec>;

/** Name of a registered AWS error type. */
export type AwsErrorType = keyof typeof AWS_ERRORS;

/** A service error as a value: thrown by API code, rendered once by the HTTP layer. */
export class AwsError extends Error {
  readonly status: number;

  constructor(
    readonly type: AwsErrorType,
    message: string,
    /** Extra body fields AWS sends with some errors (e.g. `Reason` on throttling). */
    readonly extra: Readonly<Record<string, string>> = {},
    /** Extra response headers (e.g. `Retry-After`). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = type;
    this.status = AWS_ERRORS[type].status;
  }

  /** The JSON body AWS sends for this error. */
  toBody(): string {
    const spec: AwsErrorSpec = AWS_ERRORS[this.type];
    const body: Record<string, string> = { ...this.extra };
    if (spec.type) body.Type = spec.type;
    body[spec.messageKey] = this.message;
    return JSON.stringify(body);
  }
}

/** `ResourceNotFoundException` for a function ARN, worded as AWS words it. */
export function functionNotFound(arn: string): AwsError {
  return new AwsError('ResourceNotFoundException', `Function not found: ${arn}`);
}

/** `TooManyRequestsException` with AWS's reason code. */
export function throttled(
  reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' | 'ConcurrentInvocationLimitExceeded',
): AwsError {
  return new AwsError('TooManyRequestsException', 'Rate Exceeded.', { Reason: reason }, { 'Retry-After': '1' });
}
