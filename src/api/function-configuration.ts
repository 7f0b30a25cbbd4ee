/**
 * @module api/function-configuration
 * Catalog records rendered as the management API's shapes: `FunctionConfiguration` and
 * `AliasConfiguration`, field for field as AWS returns them.
 */
import type { FunctionConfiguration, AliasConfiguration } from '@aws-sdk/client-lambda';
import type { VersionView } from '../deploy/function-catalog.js';
import type { AliasRecord } from '../deploy/deployment-store.js';

/**
 * Which state a response reports: AWS answers `CreateFunction` with `Pending`, updates
 * with `InProgress`, later reads with `Active`/`Successful`, and lists with no state.
 * serverfull's changes are complete when it answers, but it reports what AWS reports
 * so that scripts and SDK waiters written for AWS behave the same.
 */
export type ReportedState = 'created' | 'updated' | 'current' | 'listed';

const CREATING = { State: 'Pending', StateReason: 'The function is being created.', StateReasonCode: 'Creating' } as const;
const UPDATING = {
  State: 'Active', LastUpdateStatus: 'InProgress', LastUpdateStatusReason: 'The function is being created.', LastUpdateStatusReasonCode: 'Creating',
} as const;
const CURRENT = { State: 'Active', LastUpdateStatus: 'Successful' } as const;

/** A version as `FunctionConfiguration`. */
export function renderConfiguration(view: VersionView, state: ReportedState): FunctionConfiguration {
  const { record } = view;
  const { config } = record;
  const rendered: Record<string, unknown> = {
    FunctionName: record.functionName,
    FunctionArn: view.arn,
    Runtime: config.runtime,
    Role: config.role,
    Handler: config.handler,
    CodeSize: record.codeSize,
    Description: config.description,
    Timeout: config.timeout,
    MemorySize: config.memorySize,
    LastModified: record.lastModified,
    CodeSha256: record.codeSha256,
    Version: record.version,
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: record.revisionId,
    PackageType: 'Zip',
    Architectures: config.architectures,
    EphemeralStorage: { Size: config.ephemeralStorage },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${record.functionName}` },
  };
  if (Object.keys(config.environment).length > 0) rendered.Environment = { Variables: config.environment };
  if (config.deadLetterTarget) rendered.DeadLetterConfig = { TargetArn: config.deadLetterTarget };
  if (state === 'created') Object.assign(rendered, CREATING);
  else if (state === 'updated') Object.assign(rendered, UPDATING);
  else if (state === 'current') Object.assign(rendered, CURRENT);
  return rendered as FunctionConfiguration;
}

/** An alias as `AliasConfiguration`. */
export function renderAlias(alias: AliasRecord, arn: string): AliasConfiguration {
  const rendered: AliasConfiguration = {
    AliasArn: arn,
    Name: alias.name,
    FunctionVersion: alias.functionVersion,
    Description: alias.description,
    RevisionId: alias.revisionId,
  };
  if (alias.weights !== undefined) rendered.RoutingConfig = { AdditionalVersionWeights: { ...alias.weights } };
  return rendered;
}
