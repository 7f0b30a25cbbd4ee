/**
 * Retries, event invoke configuration and destinations of Event invocations, through
 * @aws-sdk/client-lambda over real HTTP, with the retry delay shortened by the `eventRetryDelay` setting.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DeleteFunctionEventInvokeConfigCommand, GetFunctionEventInvokeConfigCommand, ListFunctionEventInvokeConfigsCommand,
  PutFunctionEventInvokeConfigCommand, ResourceNotFoundException, UpdateFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { gate } from '../helpers/gate.js';
import { waitUntil } from '../helpers/wait-until.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';

/** The events a `keep` function kept in `dir`, by function name prefix. */
function kept(dir: string, functionName: string): { event: any; requestId: string }[] {
  return readdirSync(dir).filter((name) => name.startsWith(`${functionName}-`) && name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')));
}

function rejectsWith(name: string, status: number, message: string | RegExp) {
  return (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, name, error.message);
    assert.equal(error.$metadata?.httpStatusCode, status);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  };
}

describe('Event invocation retries and destinations', () => {
  let fx: FixtureServer;
  before(async () => {
    // The maximum event age is short for the age test; every other event here ends well within it.
    fx = await startFixtureServer({ config: join(FIXTURES, 'async/serverfull.json'), eventRetryDelay: 0, maxEventAge: 2 });
  });
  after(() => fx.close());

  it('puts, updates, gets, lists and deletes event invoke configurations, with AWS\'s answers and errors', async () => {
    const { lambda } = fx;
    const put = await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'worker', MaximumRetryAttempts: 1 }));
    assert.equal(put.FunctionArn, `${ARN}:worker:$LATEST`);
    assert.equal(put.MaximumRetryAttempts, 1);
    assert.ok(put.LastModified instanceof Date);
    assert.deepEqual(put.DestinationConfig, { OnSuccess: {}, OnFailure: {} });
    const updated = await lambda.send(new UpdateFunctionEventInvokeConfigCommand({
      FunctionName: 'worker', MaximumEventAgeInSeconds: 60, DestinationConfig: { OnSuccess: { Destination: `${ARN}:on-success` } },
    }));
    assert.equal(updated.MaximumRetryAttempts, 1, 'an update keeps what it does not change');
    assert.equal(updated.MaximumEventAgeInSeconds, 60);
    assert.equal(updated.DestinationConfig?.OnSuccess?.Destination, `${ARN}:on-success`);
    const got = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: `${ARN}:worker` }));
    assert.equal(got.MaximumEventAgeInSeconds, 60);
    const listed = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'worker' }));
    assert.deepEqual(listed.FunctionEventInvokeConfigs?.map((c) => c.FunctionArn), [`${ARN}:worker:$LATEST`]);
    await lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'worker' }));
    await assert.rejects(lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'worker' })),
      rejectsWith('ResourceNotFoundException', 404, `The function ${ARN}:worker:$LATEST doesn't have an EventInvokeConfig`));
    await assert.rejects(lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'worker' })), (error) => error instanceof ResourceNotFoundException);

    const refusals: [Partial<ConstructorParameters<typeof PutFunctionEventInvokeConfigCommand>[0]>, string, number, string | RegExp][] = [
      [{ FunctionName: 'nope', MaximumRetryAttempts: 1 }, 'ResourceNotFoundException', 404, 'The function doesn\'t exist.'],
      [{ FunctionName: 'worker' }, 'InvalidParameterValueException', 400, 'You must specify at least one of error handling or destination setting.'],
      [{ FunctionName: 'worker', MaximumRetryAttempts: 3 }, 'ValidationException', 400, /Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2/],
      [{ FunctionName: 'worker', MaximumEventAgeInSeconds: 59 }, 'ValidationException', 400, /at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60/],
      [{ FunctionName: 'worker', DestinationConfig: { OnFailure: { Destination: `${ARN}:doesnotexist` } } }, 'InvalidParameterValueException', 400, `The destination ARN ${ARN}:doesnotexist is invalid.`],
      [{ FunctionName: 'worker', DestinationConfig: { OnFailure: { Destination: `${ARN}:worker` } } }, 'InvalidParameterValueException', 400, 'You can\'t specify the function as a destination for itself.'],
      [{ FunctionName: 'worker', DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:queue' } } }, 'InvalidParameterValueException', 400, /not supported by serverfull/],
      [{ FunctionName: 'worker', DestinationConfig: { OnSuccess: { Destination: 'arn:aws:iam:us-east-1:000000000000:function:worker' } } }, 'InvalidParameterValueException', 400,
        'The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=arn:aws:iam:us-east-1:000000000000:function:worker), onFailure=null) is invalid.'],
      [{ FunctionName: 'worker', DestinationConfig: { OnFailure: { Destination: 'arn:aws:_-/!lambda:us-east-1:000000000000:function:x' } } }, 'ValidationException', 400, /at 'destinationConfig.onFailure.destination' failed to satisfy constraint/],
    ];
    for (const [input, name, status, message] of refusals) {
      await assert.rejects(lambda.send(new PutFunctionEventInvokeConfigCommand(input as never)), rejectsWith(name, status, message), JSON.stringify(input));
    }
  });

  it('attempts a failing function 3 times, then sends the invocation record to its on-failure destination', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-dest-'));
    await fx.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'worker', DestinationConfig: { OnFailure: { Destination: `${ARN}:on-failure` } } }));
    try {
      const out = await fx.invoke('worker', { dir, fail: 'always' }, { InvocationType: 'Event' });
      assert.equal(out.StatusCode, 202);
      await waitUntil(() => kept(dir, 'on-failure').length === 1, 'the on-failure destination gets the record');
      const attempts = kept(dir, 'worker');
      assert.equal(attempts.length, 3);
      assert.ok(attempts.every((a) => a.requestId === out.$metadata.requestId), 'every attempt has the event\'s request id');
      const { event: record, requestId } = kept(dir, 'on-failure')[0]!;
      assert.notEqual(requestId, out.$metadata.requestId);
      assert.equal(record.version, '1.0');
      assert.ok(!Number.isNaN(Date.parse(record.timestamp)));
      assert.deepEqual(record.requestContext, {
        requestId: out.$metadata.requestId, functionArn: `${ARN}:worker:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 3,
      });
      assert.deepEqual(record.requestPayload, { dir, fail: 'always' });
      assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
      assert.equal(record.responsePayload.errorMessage, 'failing as asked: always');
    } finally {
      await fx.lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'worker' }));
    }
  });

  it('gives one attempt with MaximumRetryAttempts 0, and sends a success to the on-success destination', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-dest-'));
    await fx.lambda.send(new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'worker', MaximumRetryAttempts: 0,
      DestinationConfig: { OnFailure: { Destination: `${ARN}:on-failure` }, OnSuccess: { Destination: `${ARN}:on-success` } },
    }));
    try {
      await fx.invoke('worker', { dir, fail: 'once' }, { InvocationType: 'Event' });
      await waitUntil(() => kept(dir, 'on-failure').length === 1, 'the on-failure destination gets the record');
      assert.equal(kept(dir, 'worker').length, 1);
      assert.equal(kept(dir, 'on-failure')[0]!.event.requestContext.approximateInvokeCount, 1);

      const ok = await fx.invoke('worker', { dir }, { InvocationType: 'Event' });
      await waitUntil(() => kept(dir, 'on-success').length === 1, 'the on-success destination gets the record');
      const { event: record } = kept(dir, 'on-success')[0]!;
      assert.equal(record.requestContext.requestId, ok.$metadata.requestId);
      assert.equal(record.requestContext.condition, 'Success');
      assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: '$LATEST' });
      assert.deepEqual(record.responsePayload, { kept: true });
    } finally {
      await fx.lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'worker' }));
    }
  });

  it('gives up an event older than its maximum age, never run, to the on-failure destination', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-dest-'));
    const held = gate();
    await fx.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'held', DestinationConfig: { OnFailure: { Destination: `${ARN}:on-failure` } } }));
    try {
      // `held` runs one event at a time: the second waits behind the first until it is too old.
      await fx.invoke('held', { gate: held.dir }, { InvocationType: 'Event' });
      await held.arrived(1);
      const late = await fx.invoke('held', { dir }, { InvocationType: 'Event' });
      await waitUntil(() => kept(dir, 'on-failure').length === 1, 'the on-failure destination gets the expired event');
      const { event: record } = kept(dir, 'on-failure')[0]!;
      assert.deepEqual(record.requestContext, { requestId: late.$metadata.requestId, functionArn: `${ARN}:held:$LATEST`, condition: 'EventAgeExceeded', approximateInvokeCount: 0 });
      assert.deepEqual(record.requestPayload, { dir });
      assert.equal(record.responseContext, undefined);
      held.open();
      await waitUntil(() => fx.server.inFlight === 0, 'the held event finishes');
      assert.equal(kept(dir, 'held').length, 0, 'the expired event never ran');
    } finally {
      held.open();
      held.remove();
      await fx.lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'held' }));
    }
  });
});
