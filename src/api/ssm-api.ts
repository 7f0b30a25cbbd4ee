/**
 * @module api/ssm-api
 * The Systems Manager Parameter Store API on the Lambda API's port: AWS JSON 1.1, `POST /` with
 * `X-Amz-Target: AmazonSSM.<Operation>`, so that `@aws-sdk/client-ssm`, boto3 and `aws ssm` work
 * with only the endpoint changed. https://docs.aws.amazon.com/systems-manager/latest/APIReference/
 * PutParameter, GetParameter, GetParameters, GetParametersByPath, GetParameterHistory,
 * LabelParameterVersion, UnlabelParameterVersion, DeleteParameter, DeleteParameters and
 * DescribeParameters; the rules, and where they differ from AWS, are `parameters/parameter-service.ts`'s.
 * Any other `AmazonSSM.` operation is `UnknownOperationException`.
 */
import type { ServerResponse } from 'node:http';
import { SSM_TARGET_PREFIX } from '../auth/ssm-operations.js';
import { AwsError } from '../errors.js';
import { AWS_JSON_11, writeAwsJson11Error } from '../http/aws-json11-error.js';
import type { FinishRequest } from '../http/request-pipeline.js';
import type { ParameterService } from '../parameters/parameter-service.js';
import { parseJsonBody } from '../http/json-body.js';
import type { ServiceIdentity } from '../registry/arns.js';
import type { Route, RouteRequest } from './route.js';

/** The largest request body: a value is at most 4 KB, a request a few of them. */
const MAX_BODY = 64 * 1024;

/** The route of the SSM API: `POST /` with an `AmazonSSM.` target; the operation from `X-Amz-Target`. */
export function ssmRoute(service: ParameterService, identity: ServiceIdentity): Route {
  // Who wrote a version, when no authentication says: the account's root, as AWS would name it.
  const anonymous = `arn:aws:iam::${identity.accountId}:root`;
  return {
    method: 'POST',
    pattern: /^\/$/,
    operation: 'SSM',
    claims(request) {
      const target = request.headers['x-amz-target'];
      return typeof target === 'string' && target.startsWith(SSM_TARGET_PREFIX);
    },
    operationOf(request) {
      const operation = (request.headers['x-amz-target'] as string).slice(SSM_TARGET_PREFIX.length);
      if (!Object.hasOwn(service.operations, operation)) return new AwsError('UnknownOperationException', 'Unknown operation');
      return operation;
    },
    bodyLimit: () => MAX_BODY,
    abandoned: () => ({}),
    renderError(request, response, error) {
      writeAwsJson11Error(response, request.requestId, error);
    },
    handle(request: RouteRequest, response: ServerResponse, finish: FinishRequest) {
      const answer = service.operations[request.operation!]!(parseJsonBody(request.body), request.principalArn ?? anonymous);
      const text = JSON.stringify(answer);
      response.writeHead(200, { 'Content-Type': AWS_JSON_11, 'Content-Length': Buffer.byteLength(text), 'x-amzn-RequestId': request.requestId }).end(text);
      finish(request, response, undefined);
    },
  };
}
