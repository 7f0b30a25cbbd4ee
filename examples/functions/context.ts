// A TypeScript handler (no build step) that reports what Lambda tells it about itself.
import type { Context } from 'aws-lambda';

let invocations = 0; // module state survives warm invocations of one execution environment

export const handler = async (_event: unknown, context: Context) => {
  invocations += 1;
  console.log(`invocation ${invocations} of this environment`);
  return {
    requestId: context.awsRequestId,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB,
    remainingTimeInMillis: context.getRemainingTimeInMillis(),
    region: process.env.AWS_REGION,
    invocations,
  };
};
