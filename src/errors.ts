/**
 * @module errors
 * The one registry of AWS service errors: each type's HTTP status and wire shape.
 * API code throws or returns `AwsError` values; the request pipeline (`http/request-pipeline.ts`)
 * renders them once, in the wire shape of the API that was asked: AWS JSON for the Lambda APIs,
 * the gateway's own answer (`gateway` below) for API Gateway.
 */

/**
 * The answers API Gateway sends itself, rather than the function. Declared here, not in `gateway/`,
 * because each registered error names the one it becomes when raised on the gateway.
 */
export type GatewayErrorKind =
  | 'notFound'
  | 'integrationFailure'
  | 'timeout'
  | 'unauthorized'
  /** An authorizer's explicit `Deny`, or a simple response's `isAuthorized: false`. */
  | 'forbidden'
  /** An IAM policy with no statement allowing the method (REST APIs word this one differently). */
  | 'forbiddenImplicit'
  | 'throttled'
  /** A request body over API Gateway's 10 MB payload limit. */
  | 'tooLarge'
  /** The authorizer failed or answered in a shape API Gateway cannot read. */
  | 'authorizerFailure';

/** How one AWS error type looks on the wire. */
interface AwsErrorSpec {
  readonly status: number;
  /** AWS is inconsistent: ResourceNotFoundException says `Message`, most others `message`. */
  readonly messageKey: 'message' | 'Message';
  /** `"User"` for caller faults; omitted by AWS for validation errors. */
  readonly type?: 'User' | 'Service';
  /**
   * The gateway's answer when this error is raised on API Gateway (by a pipeline hook, or the body
   * limit). Errors API Gateway has no answer for become its generic failure (`integrationFailure`).
   */
  readonly gateway?: GatewayErrorKind;
}

/** Every service error serverfull can return, keyed by its AWS name (the `x-amzn-ErrorType`). */
export const AWS_ERRORS = {
  ResourceNotFoundException: { status: 404, messageKey: 'Message', type: 'User', gateway: 'notFound' },
  InvalidRequestContentException: { status: 400, messageKey: 'message', type: 'User' },
  InvalidParameterValueException: { status: 400, messageKey: 'message', type: 'User' },
  ValidationException: { status: 400, messageKey: 'message' },
  /** AWS's wire name for an oversized Invoke body; the SDK model calls it RequestTooLargeException. */
  RequestEntityTooLargeException: { status: 413, messageKey: 'message', type: 'User', gateway: 'tooLarge' },
  TooManyRequestsException: { status: 429, messageKey: 'message', type: 'User', gateway: 'throttled' },
  ResourceConflictException: { status: 409, messageKey: 'message', type: 'User' },
  PreconditionFailedException: { status: 412, messageKey: 'message', type: 'User' },
  UnknownOperationException: { status: 404, messageKey: 'message', type: 'User', gateway: 'notFound' },
  CodeStorageExceededException: { status: 400, messageKey: 'message', type: 'User' },
  /** CloudWatch Logs' name for a parameter it refuses (Lambda says InvalidParameterValueException). */
  InvalidParameterException: { status: 400, messageKey: 'message' },
  /** An AWS JSON 1.1 body that is not a JSON object. */
  SerializationException: { status: 400, messageKey: 'message' },
  ServiceException: { status: 500, messageKey: 'message', type: 'Service' },
  // Systems Manager Parameter Store (AWS JSON 1.1: every client fault is a 400 named in `__type`).
  /** A parameter (or every parameter named) that does not exist. */
  ParameterNotFound: { status: 400, messageKey: 'message' },
  /** A `name:version` whose version the parameter does not have. */
  ParameterVersionNotFound: { status: 400, messageKey: 'message' },
  /** PutParameter without `Overwrite` on a name that exists. */
  ParameterAlreadyExists: { status: 400, messageKey: 'message' },
  /** More than 15 levels in a parameter name or path. */
  HierarchyLevelLimitExceededException: { status: 400, messageKey: 'message' },
  /** An overwrite that would change a parameter's type. */
  HierarchyTypeMismatchException: { status: 400, messageKey: 'message' },
  /** More parameters than the Standard tier holds. */
  ParameterLimitExceeded: { status: 400, messageKey: 'message' },
  /** A new version would drop the oldest, which has a label. */
  ParameterMaxVersionLimitExceeded: { status: 400, messageKey: 'message' },
  /** A value that does not match the parameter's `AllowedPattern`. */
  ParameterPatternMismatchException: { status: 400, messageKey: 'message' },
  /** An `AllowedPattern` that is not a usable regular expression. */
  InvalidAllowedPatternException: { status: 400, messageKey: 'message' },
  /** A `Type` other than String, StringList and SecureString. */
  UnsupportedParameterType: { status: 400, messageKey: 'message' },
  ParameterVersionLabelLimitExceeded: { status: 400, messageKey: 'message' },
  InvalidFilterKey: { status: 400, messageKey: 'message' },
  InvalidFilterOption: { status: 400, messageKey: 'message' },
  InvalidFilterValue: { status: 400, messageKey: 'message' },
  InvalidNextToken: { status: 400, messageKey: 'message' },
  /** SNS (AWS Query, rendered as XML by the topics API): a topic or subscription that does not exist. */
  NotFound: { status: 404, messageKey: 'message' },
  /** SNS: a parameter it refuses. */
  InvalidParameter: { status: 400, messageKey: 'message' },
  /** SNS: an `Action` it does not know. */
  InvalidAction: { status: 400, messageKey: 'message' },
  // Authentication and authorization: AWS's front door answers these before Lambda sees the
  // request, with `{"message": ...}` and no `Type`.
  /** No `Authorization` header and no presigned query. */
  MissingAuthenticationTokenException: { status: 403, messageKey: 'message', gateway: 'forbiddenImplicit' },
  /** An `Authorization` header or presigned query lacking a part (Credential, SignedHeaders, ...). */
  IncompleteSignatureException: { status: 403, messageKey: 'message', gateway: 'forbiddenImplicit' },
  /** An access key (or session token) this server does not know. */
  UnrecognizedClientException: { status: 403, messageKey: 'message', gateway: 'forbiddenImplicit' },
  /** A signature that does not match, or a timestamp outside the allowed skew. */
  InvalidSignatureException: { status: 403, messageKey: 'message', gateway: 'forbiddenImplicit' },
  /** A session token past its expiration. */
  ExpiredTokenException: { status: 403, messageKey: 'message', gateway: 'forbiddenImplicit' },
  /** Lambda itself refuses a principal its policy does not allow: that body says `Message`. */
  AccessDeniedException: { status: 403, messageKey: 'Message', gateway: 'forbiddenImplicit' },
} as const satisfies Record<string, AwsErrorSpec>;

/** Name of a registered AWS error type. */
export type AwsErrorType = keyof typeof AWS_ERRORS;

/** A service error as a value: thrown by API code or returned by a pipeline hook, rendered once by the pipeline. */
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

  /** The gateway answer this error becomes on API Gateway. */
  get gatewayKind(): GatewayErrorKind {
    const spec: AwsErrorSpec = AWS_ERRORS[this.type];
    return spec.gateway ?? 'integrationFailure';
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

/** `MissingAuthenticationTokenException`: the request carries no signature at all. */
export function missingAuthenticationToken(): AwsError {
  return new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
}

/** `UnrecognizedClientException`: the access key (or its session token) is unknown; says nothing more, as AWS. */
export function unrecognizedClient(): AwsError {
  return new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
}

/** `InvalidSignatureException` for a signature that does not match, in AWS's words. */
export function signatureMismatch(): AwsError {
  return new AwsError(
    'InvalidSignatureException',
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  );
}

/** `AccessDeniedException` as Lambda words it, for an implicit deny (no Allow) or an explicit one. */
export function accessDenied(principalArn: string, action: string, resource: string, explicit: boolean): AwsError {
  const why = explicit ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${action} action`;
  return new AwsError('AccessDeniedException', `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource} ${why}`);
}
