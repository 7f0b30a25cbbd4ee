/** `serverfull start --template`: a SAM template's functions and routes over real HTTP, with its authorizer, REST API and aliases. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { listeningUrl, runCli, waitHealthy } from '../helpers/cli-process.js';

const TEMPLATE = join(FIXTURES, 'sam/template.yaml');

describe('SAM template behind the gateway', () => {
  let fixture: FixtureServer;
  let http: string;
  before(async () => {
    fixture = await startFixtureServer({ config: undefined, template: TEMPLATE, parameterOverrides: 'Stage=prod', httpPort: 0 });
    http = fixture.server.httpUrl!;
  });
  after(() => fixture.close());

  it('serves the template functions through the Invoke API too, with AutoPublishAlias as version 1', async () => {
    const names = fixture.server.functions.map((f) => f.name).sort();
    assert.deepEqual(names, ['AuthFunction', 'HelloFunction', 'ListItemsFunction', 'items-prod']);
    const viaAlias = await fixture.invoke('items-prod:live', { pathParameters: { id: '7' } });
    assert.equal(viaAlias.ExecutedVersion, '1');
    assert.equal(JSON.parse(viaAlias.json.body).id, '7');
  });

  it('names what it does not run in warnings', () => {
    const warnings = fixture.server.warnings.join('\n');
    assert.match(warnings, /AWS::DynamoDB::Table/);
    assert.match(warnings, /ItemsTable/);
    assert.match(warnings, /SQS/);
  });

  it('runs the REQUEST authorizer before the route: 401 without the identity source, 403 when denied, its context when allowed', async () => {
    const missing = await fetch(`${http}/items/1`);
    assert.equal(missing.status, 401);
    assert.deepEqual(await missing.json(), { message: 'Unauthorized' });

    const denied = await fetch(`${http}/items/1`, { headers: { Authorization: 'nope' } });
    assert.equal(denied.status, 403);
    assert.deepEqual(await denied.json(), { message: 'Forbidden' });

    const allowed = await fetch(`${http}/items/42`, { headers: { Authorization: 'allow' } });
    assert.equal(allowed.status, 200);
    const { id, event } = await allowed.json() as { id: string; event: any };
    assert.equal(id, '42');
    assert.deepEqual(event.requestContext.authorizer, { lambda: { user: 'alice' } });
    assert.equal(event.routeKey, 'GET /items/{id}');
    assert.equal(event.requestContext.apiId, 'ItemsApi');
  });

  it('invokes the alias of an AutoPublishAlias function from its route', async () => {
    const response = await fetch(`${http}/items/9`, { headers: { Authorization: 'allow' } });
    const { event } = await response.json() as { event: any };
    assert.equal(event.requestContext.http.method, 'GET');
  });

  it('sends payload 1.0 events on a REST API route, with multi-value forms', async () => {
    const response = await fetch(`${http}/legacy/items?tag=a&tag=b`, { method: 'POST', headers: { 'X-Multi': 'one' }, body: 'plain text' });
    assert.equal(response.status, 200);
    const { stage, event } = await response.json() as { stage: string; event: any };
    assert.equal(stage, 'prod', 'parameter overrides reach the environment');
    assert.equal(event.resource, '/legacy/items');
    assert.equal(event.path, '/legacy/items');
    assert.equal(event.httpMethod, 'POST');
    assert.equal(event.headers['X-Multi'], 'one');
    assert.deepEqual(event.multiValueHeaders['X-Multi'], ['one']);
    assert.deepEqual(event.queryStringParameters, { tag: 'b' });
    assert.deepEqual(event.multiValueQueryStringParameters, { tag: ['a', 'b'] });
    assert.equal(event.pathParameters, null);
    assert.equal(event.body, 'plain text');
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.requestContext.stage, 'Prod');
    assert.equal(event.requestContext.resourcePath, '/legacy/items');
    assert.equal(event.requestContext.path, '/Prod/legacy/items');
    assert.equal(event.requestContext.identity.sourceIp, '127.0.0.1');
  });

  it('sends payload 1.0 on an HTTP API route that asks for it, and the $default route takes the rest', async () => {
    const list = await (await fetch(`${http}/items`)).json() as { event: any };
    assert.equal(list.event.version, '1.0');
    assert.equal(list.event.resource, '/items');
    const hello = await fetch(`${http}/anything/else`);
    assert.equal(hello.status, 200);
  });

  it('applies the template CORS configuration, preflight included', async () => {
    const preflight = await fetch(`${http}/items/1`, {
      method: 'OPTIONS', headers: { Origin: 'https://example.com', 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://example.com');
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
  });
});

describe('serverfull start --template', () => {
  it('starts from the CLI with --template, --parameter-overrides and --http-port', async () => {
    // Port 0 for both: the kernel picks free ports, so nothing else running at the same time can take them first.
    const cli = runCli(['start', '--template', TEMPLATE, '--parameter-overrides', 'Stage=dev', '--port', '0', '--http-port', '0', '--log-format', 'json']);
    try {
      const [url, httpUrl] = [await listeningUrl(cli), await listeningUrl(cli, 'API Gateway')];
      await waitHealthy(url, cli);
      const list = await (await fetch(`${httpUrl}/legacy/items`)).json() as { stage: string };
      assert.equal(list.stage, 'dev');
      assert.match(cli.stdout(), /AWS::DynamoDB::Table/, 'template warnings are logged');
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });
});

describe('REST API with an IAM-policy authorizer', () => {
  it('allows by policy, passes the context in requestContext.authorizer, and denies explicitly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serverfull-sam-'));
    writeFileSync(join(dir, 'app.mjs'), `
export const handler = async (event) => ({ statusCode: 200, body: JSON.stringify(event.requestContext.authorizer) });
export const authorize = async (event) => {
  if (event.headers.Authorization === 'throw') throw new Error('Unauthorized');
  return authorized(event);
};
const authorized = (event) => ({
  principalId: 'user-1',
  policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: event.headers.Authorization === 'let-me-in' ? 'Allow' : 'Deny', Resource: event.methodArn.split('/').slice(0, 2).join('/') + '/*' }] },
  context: { tier: 'gold', level: 3 },
});
`);
    writeFileSync(join(dir, 'template.yaml'), `
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Auth:
        DefaultAuthorizer: PolicyAuth
        Authorizers:
          PolicyAuth:
            FunctionArn: !GetAtt AuthFunction.Arn
            FunctionPayloadType: REQUEST
            Identity:
              Headers: [Authorization]
  AppFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: app.handler
      Events:
        Get:
          Type: Api
          Properties: { RestApiId: !Ref Api, Path: /secret, Method: get }
  AuthFunction:
    Type: AWS::Serverless::Function
    Properties: { Runtime: nodejs20.x, Handler: app.authorize }
`);
    const fixture = await startFixtureServer({ config: undefined, template: join(dir, 'template.yaml'), httpPort: 0 });
    try {
      const http = fixture.server.httpUrl!;
      const allowed = await fetch(`${http}/secret`, { headers: { Authorization: 'let-me-in' } });
      assert.equal(allowed.status, 200);
      const authorizer = await allowed.json() as Record<string, unknown>;
      assert.equal(authorizer.principalId, 'user-1');
      assert.equal(authorizer.tier, 'gold');
      assert.equal(authorizer.level, '3', 'REST APIs pass context values as strings');
      const denied = await fetch(`${http}/secret`, { headers: { Authorization: 'wrong' } });
      assert.equal(denied.status, 403);
      assert.deepEqual(await denied.json(), { Message: 'User is not authorized to access this resource with an explicit deny' });
      const missing = await fetch(`${http}/secret`);
      assert.equal(missing.status, 401);
      const thrown = await fetch(`${http}/secret`, { headers: { Authorization: 'throw' } });
      assert.equal(thrown.status, 401, "an authorizer throwing 'Unauthorized' asks for a 401");
      const unknown = await fetch(`${http}/nothing`, { headers: { Authorization: 'let-me-in' } });
      assert.equal(unknown.status, 403);
      assert.deepEqual(await unknown.json(), { message: 'Missing Authentication Token' });
    } finally {
      await fixture.close();
    }
  });
});
