/**
 * SNS-style topics through @aws-sdk/client-sns (AWS Query over real HTTP, on the Lambda API's
 * port): one publish, every subscribed function invoked once with the SNS event; topics as
 * destinations of Event invocations.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  CreateFunctionCommand, DeleteFunctionEventInvokeConfigCommand, GetFunctionConfigurationCommand, PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand, UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateTopicCommand, DeleteTopicCommand, ListSubscriptionsByTopicCommand, ListTopicsCommand, NotFoundException, PublishBatchCommand,
  PublishCommand, SNSClient, SubscribeCommand, UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { gate } from '../helpers/gate.js';
import { waitUntil } from '../helpers/wait-until.js';
import { zipOf } from '../helpers/zip-fixture.js';

/** A deployed function that waits at a gate when given one, then always fails. */
const DOOMED = `
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
export const handler = async (event) => {
  if (event.gate) {
    writeFileSync(join(event.gate, 'arrived-' + Math.random()), '');
    // Not past the gate's removal: a retry that arrives after the test would otherwise wait forever.
    while (existsSync(event.gate) && !existsSync(join(event.gate, 'open'))) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('doomed');
};`;

const FN = 'arn:aws:lambda:us-east-1:000000000000:function';
const TOPIC = 'arn:aws:sns:us-east-1:000000000000';
const AWS_CLI = '/usr/bin/aws';

function kept(dir: string, prefix = ''): { event: any; requestId: string; snsEndpoint?: string; name: string }[] {
  return readdirSync(dir).filter((name) => name.startsWith(prefix) && name.endsWith('.json'))
    .map((name) => ({ ...JSON.parse(readFileSync(join(dir, name), 'utf8')), name }));
}

describe('topics', () => {
  let fx: FixtureServer;
  let sns: SNSClient;
  before(async () => {
    // A short maximum event age for the dead-letter test; every other event here ends well within it.
    fx = await startFixtureServer({ config: join(FIXTURES, 'async/serverfull.json'), eventRetryDelay: 0, maxEventAge: 2, deployedIsolation: 'inline' });
    sns = new SNSClient({ endpoint: fx.server.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  });
  after(async () => {
    sns.destroy();
    await fx.close();
  });

  it('delivers one publish to each of three subscribed functions, with the SNS event', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-topic-'));
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'orders' }));
    assert.equal(TopicArn, `${TOPIC}:orders`);
    assert.equal((await sns.send(new CreateTopicCommand({ Name: 'orders' }))).TopicArn, TopicArn, 'CreateTopic is idempotent');
    const subscriptions: string[] = [];
    for (const name of ['subscriber-a', 'subscriber-b', 'subscriber-c']) {
      const { SubscriptionArn } = await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'lambda', Endpoint: `${FN}:${name}` }));
      assert.match(SubscriptionArn!, new RegExp(`^${TOPIC}:orders:[0-9a-f-]{36}$`));
      subscriptions.push(SubscriptionArn!);
    }
    const listed = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    assert.deepEqual(listed.Subscriptions?.map((s) => s.Endpoint), [`${FN}:subscriber-a`, `${FN}:subscriber-b`, `${FN}:subscriber-c`]);
    assert.equal(listed.Subscriptions?.[0]?.Protocol, 'lambda');
    assert.ok((await sns.send(new ListTopicsCommand({}))).Topics?.some((t) => t.TopicArn === TopicArn));

    const message = JSON.stringify({ dir, order: 42 });
    const { MessageId } = await sns.send(new PublishCommand({
      TopicArn, Message: message, Subject: 'New order <&>', MessageAttributes: { kind: { DataType: 'String', StringValue: 'retail' } },
    }));
    await waitUntil(() => kept(dir).length === 3, 'each subscribed function gets the message');
    assert.ok(kept(dir).every((k) => k.snsEndpoint === fx.server.url), 'functions find the topics at AWS_ENDPOINT_URL_SNS');
    const byFunction = new Map(kept(dir).map((k) => [k.name.split('-').slice(0, 2).join('-'), k.event]));
    assert.deepEqual([...byFunction.keys()].sort(), ['subscriber-a', 'subscriber-b', 'subscriber-c']);
    for (const [name, event] of byFunction) {
      assert.equal(event.Records.length, 1);
      const [record] = event.Records;
      assert.equal(record.EventSource, 'aws:sns');
      assert.equal(record.EventVersion, '1.0');
      assert.equal(record.EventSubscriptionArn, subscriptions[['subscriber-a', 'subscriber-b', 'subscriber-c'].indexOf(name)]);
      assert.equal(record.Sns.Type, 'Notification');
      assert.equal(record.Sns.MessageId, MessageId);
      assert.equal(record.Sns.TopicArn, TopicArn);
      assert.equal(record.Sns.Subject, 'New order <&>');
      assert.equal(record.Sns.Message, message);
      assert.ok(!Number.isNaN(Date.parse(record.Sns.Timestamp)));
      assert.deepEqual(record.Sns.MessageAttributes, { kind: { Type: 'String', Value: 'retail' } });
    }

    const batch = await sns.send(new PublishBatchCommand({
      TopicArn, PublishBatchRequestEntries: [{ Id: 'one', Message: JSON.stringify({ dir, n: 1 }) }, { Id: 'two', Message: '' }],
    }));
    assert.deepEqual(batch.Successful?.map((s) => s.Id), ['one']);
    assert.deepEqual(batch.Failed?.map((f) => [f.Id, f.Code, f.SenderFault]), [['two', 'InvalidParameter', true]]);
    await waitUntil(() => kept(dir).length === 6, 'the batch\'s message reaches the three functions');

    await sns.send(new UnsubscribeCommand({ SubscriptionArn: subscriptions[0] }));
    assert.equal((await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }))).Subscriptions?.length, 2);
    await sns.send(new DeleteTopicCommand({ TopicArn }));
    await assert.rejects(sns.send(new PublishCommand({ TopicArn, Message: 'gone' })), (error) => {
      assert.ok(error instanceof NotFoundException, String(error));
      assert.equal(error.$metadata.httpStatusCode, 404);
      return true;
    });
  });

  it('serves the subscriptions the manifest declares, which only the manifest changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-topic-'));
    const TopicArn = `${TOPIC}:declared`;
    assert.ok((await sns.send(new ListTopicsCommand({}))).Topics?.some((t) => t.TopicArn === TopicArn));
    const [subscription] = (await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }))).Subscriptions ?? [];
    assert.equal(subscription?.Endpoint, `${FN}:subscriber-c`);
    await sns.send(new PublishCommand({ TopicArn, Message: JSON.stringify({ dir }) }));
    await waitUntil(() => kept(dir, 'subscriber-c-').length === 1, 'the declared subscriber gets the message');
    await assert.rejects(sns.send(new UnsubscribeCommand({ SubscriptionArn: subscription!.SubscriptionArn })), (error: Error) => error.name === 'InvalidParameterException');
    await assert.rejects(sns.send(new DeleteTopicCommand({ TopicArn })), (error: Error) => error.name === 'InvalidParameterException');
  });

  it('refuses what it does not emulate, as SNS refuses bad parameters', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'refusals' }));
    for (const command of [
      new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: 'arn:aws:sqs:us-east-1:000000000000:q' }),
      new SubscribeCommand({ TopicArn, Protocol: 'lambda', Endpoint: 'not-an-arn' }),
      new SubscribeCommand({ TopicArn, Protocol: 'lambda', Endpoint: 'arn:aws:lambda:us-east-1:999999999999:function:theirs' }),
      new PublishCommand({ TopicArn, Message: 'x'.repeat(262_145) }),
      new CreateTopicCommand({ Name: 'fifo.fifo' }),
      new CreateTopicCommand({ Name: 'bad name' }),
    ]) {
      await assert.rejects(sns.send(command as never), (error: Error & { $metadata: { httpStatusCode?: number } }) => {
        assert.equal(error.name, 'InvalidParameterException', error.message);
        assert.equal(error.$metadata.httpStatusCode, 400);
        return true;
      });
    }
    // What the request names comes back escaped, never as markup.
    const response = await fetch(fx.server.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=%3Cx%3E%26' });
    assert.equal(response.status, 400);
    const text = await response.text();
    assert.match(text, /<Code>InvalidAction<\/Code><Message>The action &lt;x&gt;&amp; is not valid for this endpoint.<\/Message>/);
    await sns.send(new DeleteTopicCommand({ TopicArn }));
  });

  it('is the on-failure destination of a function: its subscribers get the invocation record in the message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-topic-'));
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'failures' }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'lambda', Endpoint: `${FN}:on-failure` }));
    await fx.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'worker', MaximumRetryAttempts: 0, DestinationConfig: { OnFailure: { Destination: TopicArn } } }));
    try {
      const out = await fx.invoke('worker', { dir, fail: 'to a topic' }, { InvocationType: 'Event' });
      await waitUntil(() => kept(dir, 'on-failure-').length === 1, 'the topic\'s subscriber gets the record');
      const record = JSON.parse(kept(dir, 'on-failure-')[0]!.event.Records[0].Sns.Message);
      assert.equal(record.requestContext.requestId, out.$metadata.requestId);
      assert.equal(record.requestContext.condition, 'RetriesExhausted');
    } finally {
      await fx.lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'worker' }));
    }
  });

  it('publishes an event older than its maximum age to the function\'s dead-letter topic, with what failed in message attributes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-topic-'));
    const held = gate();
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'dead-letters' }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'lambda', Endpoint: `${FN}:on-failure` }));
    const role = 'arn:aws:iam::000000000000:role/test';
    for (const [TargetArn, message] of [['arn:aws:sqs:us-east-1:000000000000:dlq', /SQS queue, which serverfull does not emulate/], [`${TOPIC}:missing`, /not a topic of this server/]] as const) {
      await assert.rejects(fx.lambda.send(new CreateFunctionCommand({
        FunctionName: 'refused', Runtime: 'nodejs22.x', Handler: 'index.handler', Role: role, Code: { ZipFile: await zipOf({ 'index.mjs': DOOMED }) }, DeadLetterConfig: { TargetArn },
      })), (error: Error) => error.name === 'InvalidParameterValueException' && message.test(error.message));
    }
    // A timeout far beyond the test: the held event keeps the one slot until the gate opens (with the default 3 s, on a
    // loaded machine, it timed out and let the late event run before it was 2 s old).
    await fx.lambda.send(new CreateFunctionCommand({
      FunctionName: 'doomed', Runtime: 'nodejs22.x', Handler: 'index.handler', Role: role, Timeout: 120, Code: { ZipFile: await zipOf({ 'index.mjs': DOOMED }) },
      DeadLetterConfig: { TargetArn: TopicArn },
    }));
    assert.equal((await fx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'doomed' }))).DeadLetterConfig?.TargetArn, TopicArn);
    await fx.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'doomed', ReservedConcurrentExecutions: 1 }));
    try {
      // One execution at a time: the second event waits behind the first until it is too old.
      await fx.invoke('doomed', { gate: held.dir }, { InvocationType: 'Event' });
      await held.arrived(1);
      const late = await fx.invoke('doomed', { dir, late: true }, { InvocationType: 'Event' });
      await waitUntil(() => kept(dir, 'on-failure-').length === 1, 'the dead-letter topic\'s subscriber gets the event');
      const { Sns } = kept(dir, 'on-failure-')[0]!.event.Records[0];
      assert.equal(Sns.TopicArn, TopicArn);
      assert.deepEqual(JSON.parse(Sns.Message), { dir, late: true });
      assert.deepEqual(Sns.MessageAttributes, {
        RequestID: { Type: 'String', Value: late.$metadata.requestId },
        ErrorCode: { Type: 'Number', Value: '200' },
        ErrorMessage: { Type: 'String', Value: 'Event age exceeded' },
      });
      const cleared = await fx.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'doomed', DeadLetterConfig: { TargetArn: '' } }));
      assert.equal(cleared.DeadLetterConfig, undefined);
    } finally {
      held.open();
      await waitUntil(() => fx.server.inFlight === 0, 'the held event ends');
      held.remove();
    }
  });

  it('works from boto3 and `aws sns` with only the endpoint changed', { skip: existsSync(AWS_CLI) ? false : `${AWS_CLI} not installed` }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-topic-'));
    const env = { PATH: process.env.PATH, HOME: dir, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
    const boto = `
import boto3, json, sys
sns = boto3.client('sns', endpoint_url=sys.argv[1])
arn = sns.create_topic(Name='from-python', Attributes={'DisplayName': 'py'}, Tags=[{'Key': 'team', 'Value': 'a'}])['TopicArn']
sns.subscribe(TopicArn=arn, Protocol='lambda', Endpoint='${FN}:subscriber-a')
print(arn)
print(sns.list_subscriptions_by_topic(TopicArn=arn)['Subscriptions'][0]['Endpoint'])
print(sns.publish(TopicArn=arn, Message=json.dumps({'dir': sys.argv[2], 'via': 'boto3'}), MessageAttributes={'n': {'DataType': 'Number', 'StringValue': '7'}})['MessageId'])
try:
    sns.publish(TopicArn=arn + '-missing', Message='x')
except sns.exceptions.NotFoundException as error:
    print(error.response['Error']['Code'])
`;
    const python = await promisify(execFile)('python3', ['-c', boto, fx.server.url, dir], { env });
    const [arn, endpoint, messageId, missing] = python.stdout.trim().split('\n');
    assert.equal(arn, `${TOPIC}:from-python`);
    assert.equal(endpoint, `${FN}:subscriber-a`);
    assert.equal(missing, 'NotFound');
    const cli = await promisify(execFile)(AWS_CLI, ['sns', 'publish', '--endpoint-url', fx.server.url, '--topic-arn', arn!, '--message', JSON.stringify({ dir, via: 'aws' }), '--output', 'json'], { env });
    assert.match(JSON.parse(cli.stdout).MessageId, /^[0-9a-f-]{36}$/);
    await waitUntil(() => kept(dir, 'subscriber-a-').length === 2, 'both messages reach the subscriber');
    const records = kept(dir, 'subscriber-a-').map((k) => k.event.Records[0].Sns);
    const fromPython = records.find((r) => JSON.parse(r.Message).via === 'boto3')!;
    assert.equal(fromPython.MessageId, messageId);
    assert.deepEqual(fromPython.MessageAttributes, { n: { Type: 'Number', Value: '7' } });
    assert.ok(records.some((r) => JSON.parse(r.Message).via === 'aws'));
  });
});
