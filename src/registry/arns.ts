/**
 * @module registry/arns
 * Every ARN the server hands out, built in one place from the region and account it
 * answers for: functions (and their versions and aliases), API Gateway routes, log groups and
 * streams, the template's stack and the default execution role.
 */

/** The region and account this server answers for. */
export interface ServiceIdentity {
  readonly region: string;
  readonly accountId: string;
}

/** The ARN of a function, with the qualifier when given. */
export function functionArn(identity: ServiceIdentity, name: string, qualifier?: string): string {
  const base = `arn:aws:lambda:${identity.region}:${identity.accountId}:function:${name}`;
  return qualifier === undefined ? base : `${base}:${qualifier}`;
}

/** `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}`; `path` starts with `/`, which the ARN drops. */
export function executeApiArn(identity: ServiceIdentity, apiId: string, stage: string, method: string, path: string): string {
  return `arn:aws:execute-api:${identity.region}:${identity.accountId}:${apiId}/${stage}/${method}/${path.slice(1)}`;
}

/** The `AWS::StackId` of a template's stack. */
export function stackArn(identity: ServiceIdentity, stackName: string, stackId: string): string {
  return `arn:aws:cloudformation:${identity.region}:${identity.accountId}:stack/${stackName}/${stackId}`;
}

/** The execution role reported when none is given: serverfull has no IAM. */
export function defaultRole(accountId: string): string {
  return `arn:aws:iam::${accountId}:role/serverfull`;
}

/** `arn:aws:logs:<region>:<account>:log-group:<name>`: a log group's ARN, without the `:*` that `arn` fields of DescribeLogGroups add. */
export function logGroupArn(identity: ServiceIdentity, groupName: string): string {
  return `arn:aws:logs:${identity.region}:${identity.accountId}:log-group:${groupName}`;
}

/** The ARN of a log stream, as IAM names it for `logs:GetLogEvents`. */
export function logStreamArn(identity: ServiceIdentity, groupName: string, streamName: string): string {
  return `${logGroupArn(identity, groupName)}:log-stream:${streamName}`;
}

/** A log group's name from its name or its ARN (`arn:aws:logs:...:log-group:NAME[:*]`), as `logGroupIdentifier` may give either. */
export function groupNameOf(identifier: string): string {
  const arn = /^arn:aws[a-zA-Z-]*:logs:[^:]*:[^:]*:log-group:(.+?)(?::\*)?$/.exec(identifier);
  return arn ? arn[1]! : identifier;
}

/** `arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>`: a parameter's ARN and IAM resource. */
export function parameterArn(identity: ServiceIdentity, name: string): string {
  return `arn:aws:ssm:${identity.region}:${identity.accountId}:parameter/${name.startsWith('/') ? name.slice(1) : name}`;
}
