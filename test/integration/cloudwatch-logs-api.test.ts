/**
 * The CloudWatch Logs API over a real server, driven by `@aws-sdk/client-cloudwatch-logs`: every
 * invocation's START, output, END and REPORT stored and read back, filtered and paged; kept across
 * a restart; hostile output stored as data; AWS JSON 1.1 errors; SigV4 and IAM on the logs actions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CloudWatchLogsClient, DescribeLogGroupsCommand, DescribeLogStreamsCommand, FilterLogEventsCommand, GetLogEventsCommand, type FilteredLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { writeKeysFile } from '../../src/auth/keys-file.js';
import { serve, type RunningServer, type ServeOptions } from '../../src/index.js';
import { FIXTURES } from '../helpers/fixture-server.js';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

function logsClient(url: string, credentials = CREDENTIALS): CloudWatchLogsClient {
  return new CloudWatchLogsClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
}

/** The functions of these tests: inline handlers whose output is known. */
const FUNCTIONS: ServeOptions['functions'] = {
  talker: async (event: { words?: string[] }) => {
    for (const word of event.words ?? []) console.log(word);
    return 'ok';
  },
  hostile: async () => {
    console.log('x'.repeat(400_000));
    console.log('bell\u0007 escape\u001b[2J nul\u0000 end');
    console.log('START RequestId: 00000000-0000-0000-0000-000000000000 Version: $LATEST');
    return 'done';
  },
  silent: async () => 'quiet',
};

describe('CloudWatch Logs API', { timeout: 60_000 }, () => {
  let dataDir: string;
  let server: RunningServer;
  let lambda: LambdaClient;
  let logs: CloudWatchLogsClient;
  const start = () => serve({ port: 0, logLevel: 'silent', env: {}, dataDir, functions: FUNCTIONS });
  const invoke = async (name: string, event: unknown = {}) => {
    const output = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(event) }));
    return output.$metadata.requestId!;
  };
  const filter = async (input: Omit<ConstructorParameters<typeof FilterLogEventsCommand>[0], 'logGroupName'>, group = '/aws/lambda/talker') =>
    logs.send(new FilterLogEventsCommand({ logGroupName: group, ...input }));

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'serverfull-cwlogs-'));
    server = await start();
    lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
    logs = logsClient(server.url);
  });
  after(async () => {
    lambda.destroy();
    logs.destroy();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores START, the output, END and REPORT of an invocation, in its environment\'s stream, named as Lambda names it', async () => {
    const requestId = await invoke('talker', { words: ['alpha', 'beta'] });
    const { logGroups } = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/lambda/talk' }));
    assert.deepEqual(logGroups?.map((group) => group.logGroupName), ['/aws/lambda/talker']);
    assert.equal(logGroups![0]!.arn, 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/talker:*');
    assert.equal(logGroups![0]!.retentionInDays, 7);
    assert.ok(logGroups![0]!.storedBytes! > 0);
    const { logStreams } = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/talker', orderBy: 'LastEventTime', descending: true }));
    const stream = logStreams![0]!.logStreamName!;
    assert.match(stream, /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
    const { events } = await logs.send(new GetLogEventsCommand({ logGroupName: '/aws/lambda/talker', logStreamName: stream, startFromHead: true }));
    const mine = events!.map((event) => event.message!).filter((message) => message.includes(requestId));
    assert.equal(mine.length, 5);
    assert.equal(mine[0], `START RequestId: ${requestId} Version: $LATEST\n`);
    assert.match(mine[1]!, new RegExp(`^\\S+Z\\t${requestId}\\tINFO\\talpha\\n$`));
    assert.match(mine[2]!, /\tINFO\tbeta\n$/);
    assert.equal(mine[3], `END RequestId: ${requestId}\n`);
    assert.match(mine[4]!, new RegExp(`^REPORT RequestId: ${requestId}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB`));
    for (const event of events!) assert.ok(event.timestamp! <= event.ingestionTime!);
  });

  it('filters with terms (AND), quoted phrases, exclusions and a time range', async () => {
    const before = Date.now();
    const requestId = await invoke('talker', { words: ['needle one', 'needle two', 'hay'] });
    const messages = (events: FilteredLogEvent[] | undefined) => (events ?? []).map((event) => event.message!.split('\t').pop()!.trim());
    assert.deepEqual(messages((await filter({ filterPattern: `needle ${requestId}` })).events), ['needle one', 'needle two']);
    assert.deepEqual(messages((await filter({ filterPattern: `"needle two" ${requestId}` })).events), ['needle two']);
    assert.deepEqual(messages((await filter({ filterPattern: `needle -one ${requestId}` })).events), ['needle two']);
    assert.deepEqual(messages((await filter({ filterPattern: `NEEDLE ${requestId}` })).events), [], 'case-sensitive, as CloudWatch');
    const recent = await filter({ startTime: before, filterPattern: 'START' });
    assert.ok(recent.events!.every((event) => event.timestamp! >= before));
    assert.ok(recent.events!.some((event) => event.message!.includes(requestId)));
    assert.deepEqual((await filter({ startTime: 0, endTime: before - 60_000 })).events, []);
    assert.ok((await filter({ filterPattern: 'needle' })).events!.every((event) => /^\d{20}$/.test(event.eventId!) && event.logStreamName));
  });

  it('pages FilterLogEvents with nextToken and GetLogEvents with forward and backward tokens', async () => {
    const requestId = await invoke('talker', { words: Array.from({ length: 7 }, (_, i) => `page-word-${i}`) });
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await filter({ filterPattern: `page-word ${requestId}`, limit: 3, nextToken });
      seen.push(...page.events!.map((event) => event.message!.trim().split('\t').pop()!));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken !== undefined && pages < 10);
    assert.deepEqual(seen, Array.from({ length: 7 }, (_, i) => `page-word-${i}`));
    assert.ok(pages >= 3);

    const { logStreams } = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/talker' }));
    const stream = logStreams![0]!.logStreamName!;
    const last = await logs.send(new GetLogEventsCommand({ logGroupName: '/aws/lambda/talker', logStreamName: stream, limit: 2 }));
    assert.match(last.events![1]!.message!, /^REPORT /);
    assert.match(last.nextBackwardToken!, /^b\//);
    const earlier = await logs.send(new GetLogEventsCommand({ logGroupName: '/aws/lambda/talker', logStreamName: stream, limit: 2, nextToken: last.nextBackwardToken }));
    assert.equal(earlier.events![1]!.message!.trim().split('\t').pop(), 'page-word-6');
    const forward = await logs.send(new GetLogEventsCommand({ logGroupName: '/aws/lambda/talker', logStreamName: stream, limit: 10, nextToken: earlier.nextForwardToken }));
    assert.deepEqual(forward.events!.map((event) => event.message), last.events!.map((event) => event.message));
    const end = await logs.send(new GetLogEventsCommand({ logGroupName: '/aws/lambda/talker', logStreamName: stream, nextToken: forward.nextForwardToken }));
    assert.deepEqual(end.events, []);
    assert.equal(end.nextForwardToken, forward.nextForwardToken, 'the end of the stream: the token stays');
  });

  it('stores hostile output as data: a huge line cut, control characters kept, a forged START in its own invocation', async () => {
    const requestId = await invoke('hostile');
    const { events } = await filter({}, '/aws/lambda/hostile');
    assert.equal(events!.filter((event) => event.message!.startsWith('START ')).length, 1);
    const huge = events!.find((event) => event.message!.includes('xxxx'))!;
    assert.ok(Buffer.byteLength(huge.message!) <= 262_144 - 26);
    assert.ok(events!.some((event) => event.message!.includes('bell\u0007 escape\u001b[2J nul\u0000 end')));
    const forged = events!.find((event) => event.message!.includes('00000000-0000-0000-0000-000000000000'))!;
    assert.match(forged.message!, new RegExp(`^\\S+Z\\t${requestId}\\tINFO\\tSTART RequestId: 0{8}-`));
  });

  it('answers errors in AWS JSON 1.1: an unknown group, a bad token, an unknown operation', async () => {
    await assert.rejects(filter({}, '/aws/lambda/nothing-here'), (error: any) => {
      assert.equal(error.name, 'ResourceNotFoundException');
      assert.equal(error.message, 'The specified log group does not exist.');
      assert.equal(error.$metadata.httpStatusCode, 400);
      return true;
    });
    await assert.rejects(logs.send(new GetLogEventsCommand({ logGroupName: '/aws/lambda/talker', logStreamName: 'no/such/stream' })), { name: 'ResourceNotFoundException', message: 'The specified log stream does not exist.' });
    await assert.rejects(filter({ nextToken: 'forged' }), { name: 'InvalidParameterException' });
    await assert.rejects(filter({ filterPattern: '{ $.level = "ERROR" }' }), { name: 'InvalidParameterException' });
    const raw = async (target: string, body: string) => {
      const response = await fetch(server.url, { method: 'POST', headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': target }, body });
      return { status: response.status, body: await response.json() };
    };
    assert.deepEqual(await raw('Logs_20140328.PutLogEvents', '{}'), { status: 400, body: { __type: 'UnknownOperationException', message: 'Unknown operation' } });
    assert.deepEqual(await raw('Logs_20140328.DescribeLogGroups', '[1]'), { status: 400, body: { __type: 'SerializationException', message: 'The request body must be a JSON object.' } });
    assert.deepEqual(await raw('Logs_20140328.toString', '{}'), { status: 400, body: { __type: 'UnknownOperationException', message: 'Unknown operation' } });
  });

  it('refuses a web page, as the Lambda APIs do', async () => {
    const response = await fetch(server.url, {
      method: 'POST', headers: { 'Content-Type': 'text/plain', 'X-Amz-Target': 'Logs_20140328.FilterLogEvents', Origin: 'http://attacker.example' },
      body: '{"logGroupName":"/aws/lambda/talker"}',
    });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { __type: string }).__type, 'AccessDeniedException');
  });

  it('has no log group for a function that never ran, as Lambda', async () => {
    const { logGroups } = await logs.send(new DescribeLogGroupsCommand({}));
    assert.ok(!logGroups!.some((group) => group.logGroupName === '/aws/lambda/silent'));
  });

  it('keeps the logs across a restart', async () => {
    const requestId = await invoke('talker', { words: ['before the restart'] });
    await server.close();
    server = await start();
    logs.destroy();
    logs = logsClient(server.url);
    const { events } = await filter({ filterPattern: requestId });
    assert.equal(events!.length, 4);
    lambda.destroy();
    lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
  });
});

describe('CloudWatch Logs API with --auth sigv4', { timeout: 60_000 }, () => {
  const READER = { accessKeyId: 'AKIAREADER0000000001', secretAccessKey: 'reader-secret-000000000000000000000000' };
  const INVOKER = { accessKeyId: 'AKIAINVOKER000000001', secretAccessKey: 'invoker-secret-00000000000000000000000' };
  let dir: string;
  let server: RunningServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'serverfull-cwlogs-auth-'));
    writeKeysFile(join(dir, 'keys.json'), {
      users: {
        reader: {
          accessKeys: [READER],
          policy: {
            Statement: [
              { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: '*' },
              { Effect: 'Allow', Action: ['logs:FilterLogEvents', 'logs:GetLogEvents', 'logs:DescribeLogStreams'], Resource: 'arn:aws:logs:*:*:log-group:/aws/lambda/open:*' },
            ],
          },
        },
        invoker: { accessKeys: [INVOKER], policy: { Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: '*' }] } },
      },
    });
    server = await serve({
      auth: 'sigv4', keys: join(dir, 'keys.json'), port: 0, logLevel: 'silent', env: {}, dataDir: join(dir, 'data'), root: FIXTURES,
      functions: { open: { handler: 'functions/echo.handler', timeout: 30 }, closed: { handler: 'functions/echo.handler', timeout: 30 } },
    });
    const lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: READER, maxAttempts: 1 });
    await lambda.send(new InvokeCommand({ FunctionName: 'open', Payload: '{}' }));
    await lambda.send(new InvokeCommand({ FunctionName: 'closed', Payload: '{}' }));
    lambda.destroy();
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an unsigned request', async () => {
    const response = await fetch(server.url, {
      method: 'POST', headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'Logs_20140328.FilterLogEvents' }, body: '{"logGroupName":"/aws/lambda/open"}',
    });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
  });

  it('lets a caller read the groups its policy names, and refuses the others with AccessDeniedException', async () => {
    const reader = logsClient(server.url, READER);
    const invoker = logsClient(server.url, INVOKER);
    try {
      const { events } = await reader.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/open' }));
      assert.ok(events!.some((event) => event.message!.startsWith('START ')));
      await assert.rejects(reader.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/closed' })), (error: any) => {
        assert.equal(error.name, 'AccessDeniedException');
        assert.match(error.message, /is not authorized to perform: logs:FilterLogEvents on resource: arn:aws:logs:us-east-1:000000000000:log-group:\/aws\/lambda\/closed:\*/);
        return true;
      });
      await assert.rejects(reader.send(new DescribeLogGroupsCommand({})), { name: 'AccessDeniedException' });
      await assert.rejects(invoker.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/open' })), { name: 'AccessDeniedException' });
    } finally {
      reader.destroy();
      invoker.destroy();
    }
  });

  it('refuses a signature made for the lambda service', async () => {
    const { SignatureV4 } = await import('@smithy/signature-v4');
    const { NodeSha256 } = await import('../../src/auth/node-sha256.js');
    const url = new URL(server.url);
    const body = '{"logGroupName":"/aws/lambda/open"}';
    const signer = new SignatureV4({ credentials: READER, region: 'us-east-1', service: 'lambda', sha256: NodeSha256, uriEscapePath: true });
    const signed = await signer.sign({
      method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', query: {},
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Logs_20140328.FilterLogEvents' }, body,
    });
    const { host: _host, ...headers } = signed.headers;
    const response = await fetch(server.url, { method: 'POST', headers, body });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { __type: string }).__type, 'InvalidSignatureException');
  });
});

describe('CloudWatch Logs API with --log-max-bytes 0', () => {
  it('stores nothing: no log group appears', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-cwlogs-off-'));
    const server = await serve({ port: 0, logLevel: 'silent', env: {}, dataDir: dir, logMaxBytes: 0, functions: FUNCTIONS });
    const lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
    const logs = logsClient(server.url);
    try {
      await lambda.send(new InvokeCommand({ FunctionName: 'talker', Payload: '{"words":["unstored"]}' }));
      assert.deepEqual((await logs.send(new DescribeLogGroupsCommand({}))).logGroups, []);
    } finally {
      lambda.destroy();
      logs.destroy();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
