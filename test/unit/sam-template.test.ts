/** SAM templates: functions, APIs, routes and warnings exactly as read; each mistake named. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { parseParameterOverrides, readSamTemplate, type SamTemplate } from '../../src/template/sam-template.js';
import { FIXTURES } from '../helpers/fixture-server.js';

const TEMPLATE = join(FIXTURES, 'sam/template.yaml');
const SRC = join(FIXTURES, 'sam/src');
const OPTIONS = { region: 'eu-west-1', accountId: '123456789012' };
const SHARED_ENV = { STAGE: 'dev', TABLE_NAME: 'items-dev' };

const scratch = mkdtempSync(join(tmpdir(), 'serverfull-sam-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let written = 0;

/** Writes `text` as a template of its own and reads it. */
function readInline(text: string, options: { overrides?: Record<string, string>; extension?: string } = {}): SamTemplate {
  const file = join(scratch, `template-${++written}.${options.extension ?? 'yaml'}`);
  writeFileSync(file, text);
  return readSamTemplate(file, { ...OPTIONS, parameterOverrides: options.overrides });
}

/** A SAM template with `body` under `Resources:` (and `head` before it). */
const sam = (body: string, head = '') => `Transform: AWS::Serverless-2016-10-31\n${head}Resources:\n${body}`;

/** A Node.js function with `extra` lines of properties (indented by 6). */
const fn = (id: string, extra = '') => `  ${id}:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: nodejs20.x\n      Handler: app.handler\n${extra}`;

function assertConfigError(read: () => unknown, message: RegExp): void {
  assert.throws(read, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('readSamTemplate: the fixture template', () => {
  const template = readSamTemplate(TEMPLATE, OPTIONS);

  it('reads the functions with Globals merged, intrinsics resolved and CodeUri roots', () => {
    assert.equal(template.path, TEMPLATE);
    assert.deepEqual(template.functions, [
      {
        name: 'items-dev', logicalId: 'ItemsFunction', root: SRC, alias: 'live',
        config: {
          handler: 'items.get', runtime: 'nodejs20.x', timeout: 10, memorySize: 256, reservedConcurrency: 5, description: 'Gets one item',
          environment: { ...SHARED_ENV, TABLE_ARN: 'ItemsTable.Arn' },
        },
      },
      {
        name: 'ListItemsFunction', logicalId: 'ListItemsFunction', root: SRC,
        config: {
          handler: 'items.list', runtime: 'nodejs20.x', timeout: 10, memorySize: 256,
          environment: {
            ...SHARED_ENV, ITEMS_FUNCTION: 'items-dev', ITEMS_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:items-dev',
            PAGE_SIZE: '25', REGION_TABLE: 'eu-west-1-a',
          },
        },
      },
      {
        name: 'HelloFunction', logicalId: 'HelloFunction', root: SRC,
        config: { handler: 'handlers/hello.handler', runtime: 'nodejs20.x', timeout: 5, memorySize: 256, environment: SHARED_ENV },
      },
      {
        name: 'AuthFunction', logicalId: 'AuthFunction', root: SRC,
        config: { handler: 'auth.handler', runtime: 'nodejs20.x', timeout: 10, memorySize: 128, environment: SHARED_ENV },
      },
    ]);
  });

  it('reads the explicit HTTP API and the implicit HTTP and REST APIs its events use', () => {
    assert.deepEqual(template.gateway.apis, [
      {
        id: 'ItemsApi', kind: 'http', stage: '$default',
        cors: {
          allowOrigins: ['https://example.com'], allowMethods: ['GET', 'POST'], allowHeaders: ['content-type', 'authorization'],
          exposeHeaders: ['X-Request-Id'], allowCredentials: true, maxAge: 600,
        },
        authorizers: {
          LambdaAuth: {
            name: 'LambdaAuth', functionName: 'AuthFunction', payloadFormat: '2.0', simpleResponses: true,
            identitySources: ['$request.header.Authorization'],
          },
        },
        defaultAuthorizer: 'LambdaAuth',
      },
      {
        id: 'ServerlessHttpApi', kind: 'http', stage: '$default', authorizers: {},
        cors: { allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: ['*'], exposeHeaders: [], allowCredentials: false },
      },
      {
        id: 'ServerlessRestApi', kind: 'rest', stage: 'Prod', authorizers: {},
        cors: { allowOrigins: ['*'], allowMethods: ['GET', 'POST'], allowHeaders: ['content-type', 'x-api-key'], exposeHeaders: [], allowCredentials: false, maxAge: 300 },
      },
    ]);
  });

  it('reads the routes with their API, payload format, authorizer, timeout and alias', () => {
    assert.deepEqual(template.gateway.routes, [
      { method: 'GET', path: '/items/{id}', functionName: 'items-dev', qualifier: 'live', apiId: 'ItemsApi', payloadFormat: '2.0', timeoutMs: 30_000 },
      { method: 'GET', path: '/items', functionName: 'ListItemsFunction', apiId: 'ItemsApi', payloadFormat: '1.0', authorizer: 'NONE', timeoutMs: 5000 },
      { method: 'ANY', path: '/legacy/items', functionName: 'ListItemsFunction', apiId: 'ServerlessRestApi', payloadFormat: '1.0', timeoutMs: 29_000 },
      { method: 'ANY', path: '$default', functionName: 'HelloFunction', apiId: 'ServerlessHttpApi', payloadFormat: '2.0', timeoutMs: 30_000 },
    ]);
  });

  it('names everything it does not support', () => {
    assert.deepEqual(template.warnings, [
      'AWS::Serverless::Function ItemsFunction: property Tracing not supported, ignored',
      'AWS::Serverless::Function ItemsFunction: property Policies not supported, ignored',
      'AWS::Serverless::Function ItemsFunction: Environment.Variables.TABLE_ARN: Fn::GetAtt ItemsTable.Arn (AWS::DynamoDB::Table) not supported, "ItemsTable.Arn" used instead',
      'AWS::Serverless::Function ListItemsFunction: property Tracing not supported, ignored',
      'AWS::Serverless::Function ListItemsFunction: Environment.Variables.SHARED: Fn::ImportValue not supported, property dropped',
      'AWS::Serverless::Function ListItemsFunction: event Refresh of type SQS not supported, ignored',
      'AWS::Serverless::Function HelloFunction: property Tracing not supported, ignored',
      'AWS::Serverless::Function AuthFunction: property Tracing not supported, ignored',
      'AWS::DynamoDB::Table ItemsTable: resource type not supported, ignored',
      'AWS::SQS::Queue ItemsQueue: resource type not supported, ignored',
    ]);
  });

  it('applies parameter overrides to names, variables and conditions', () => {
    const prod = readSamTemplate(TEMPLATE, { ...OPTIONS, parameterOverrides: { Stage: 'prod', Unused: 'x' } });
    assert.equal(prod.functions[0]!.name, 'items-prod');
    assert.equal(prod.functions[1]!.config.environment!.PROD_ONLY, 'yes');
    assert.equal(prod.functions[1]!.config.environment!.ITEMS_ARN, 'arn:aws:lambda:eu-west-1:123456789012:function:items-prod');
    assert.equal(prod.gateway.routes[0]!.functionName, 'items-prod');
    assert.equal(prod.warnings[0], 'parameter overrides: Unused is not a parameter of the template, ignored');
    assert.ok(prod.warnings.includes('AWS::CloudWatch::Alarm ProdAlarm: resource type not supported, ignored'));
  });

  it('refuses an override outside AllowedValues', () => {
    assertConfigError(() => readSamTemplate(TEMPLATE, { ...OPTIONS, parameterOverrides: { Stage: 'qa' } }),
      /template\.yaml: Parameters\.Stage: "qa" is not one of its AllowedValues \(dev, prod\)/);
  });
});

describe('readSamTemplate: intrinsics', () => {
  it('resolves Ref, Sub, GetAtt, Join, Select, Split, FindInMap, Base64, If and pseudo parameters', () => {
    const template = readInline(sam(fn('Api', `      FunctionName: !Sub '\${AWS::StackName}-api'
      Environment:
        Variables:
          SUB_VARS: !Sub ['\${Prefix}/\${Name}', { Prefix: !Ref 'AWS::Partition' }]
          LITERAL: !Sub '\${!NotAVariable} \${AWS::URLSuffix} \${AWS::AccountId}'
          ARN: !Sub '\${Other.Arn}'
          OTHER: !Ref Other
          JOINED: !Join [',', !Ref Zones]
          SECOND: !Select [1, !Ref Zones]
          SPLIT: !Select [2, !Split ['/', 'a/b/c']]
          MAPPED: !FindInMap [Sizes, !Ref Name, memory]
          ENCODED: !Base64 hello
          BOTH: !If [Both, 'yes', 'no']
          EITHER: !If [Either, 'yes', 'no']
          NUMBER: !If [Neither, 'x', 42]
          LONG_FORM: { "Fn::Join": ["", ["a", { "Ref": "Name" }]] }
          ALIASED: !Join ['-', [*size, !Ref Name]]
`) + fn('Other'), `Parameters:
  Name: { Type: String, Default: &size small }
  Zones: { Type: CommaDelimitedList, Default: 'a, b, c' }
Mappings:
  Sizes:
    small: { memory: 128 }
Conditions:
  IsSmall: !Equals [!Ref Name, small]
  IsEu: !Equals ['eu-west-1', !Ref 'AWS::Region']
  Both: !And [!Condition IsSmall, !Condition IsEu]
  Either: !Or [!Not [!Condition IsSmall], !Condition IsEu]
  Neither: !Not [!Condition Either]
`));
    assert.deepEqual(template.warnings, []);
    assert.equal(template.functions[0]!.name, 'serverfull-api');
    assert.deepEqual(template.functions[0]!.config.environment, {
      SUB_VARS: 'aws/small',
      LITERAL: '${NotAVariable} amazonaws.com 123456789012',
      ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:Other',
      OTHER: 'Other',
      JOINED: 'a,b,c',
      SECOND: 'b',
      SPLIT: 'c',
      MAPPED: '128',
      ENCODED: 'aGVsbG8=',
      BOTH: 'yes',
      EITHER: 'yes',
      NUMBER: '42',
      LONG_FORM: 'asmall',
      ALIASED: 'small-small',
    });
  });

  it('drops what it cannot resolve, naming the intrinsic and the property', () => {
    const template = readInline(sam(fn('Api', `      Description: !GetAtt Bucket.DomainName
      Environment:
        Variables:
          ZONES: !Join [',', !GetAZs '']
          UNKNOWN: !Ref Nowhere
          MISSING: !Sub '\${Nowhere}'
          UNSURE: !If [FromImport, 'a', 'b']
          NESTED: { Nested: true }
          GONE: !Ref AWS::NoValue
      Timeout: !FindInMap [Nope, a, b]
`) + '  Bucket:\n    Type: AWS::S3::Bucket\n', `Metadata: { Note: !Foo bar }
Conditions:
  FromImport: !Equals [!ImportValue shared, 'x']
`));
    assert.deepEqual(template.functions[0]!.config, { handler: 'app.handler', runtime: 'nodejs20.x', timeout: 3, memorySize: 128, description: 'Bucket.DomainName', environment: {} });
    assert.deepEqual(template.warnings, [
      'YAML: Unresolved tag: !Foo at line 2, column 19, read as a plain value',
      'AWS::Serverless::Function Api: Timeout: Fn::FindInMap: no Nope.a.b in Mappings, property dropped',
      'AWS::Serverless::Function Api: Environment.Variables.ZONES: Fn::GetAZs not supported, property dropped',
      'AWS::Serverless::Function Api: Environment.Variables.UNKNOWN: Ref to unknown "Nowhere", property dropped',
      'AWS::Serverless::Function Api: Environment.Variables.MISSING: Ref to unknown "Nowhere", property dropped',
      'AWS::Serverless::Function Api: Environment.Variables.UNSURE: condition "FromImport": Fn::ImportValue not supported, property dropped',
      'AWS::Serverless::Function Api: Environment.Variables.NESTED is not a string, property dropped',
      'AWS::Serverless::Function Api: Description: Fn::GetAtt Bucket.DomainName (AWS::S3::Bucket) not supported, "Bucket.DomainName" used instead',
      'AWS::S3::Bucket Bucket: resource type not supported, ignored',
    ]);
  });

  it('reads JSON templates; resources whose Condition is false are not created', () => {
    const template = readInline(JSON.stringify({
      Transform: 'AWS::Serverless-2016-10-31',
      Conditions: { Never: { 'Fn::Equals': ['a', 'b'] }, Unknowable: { 'Fn::Equals': [{ 'Fn::ImportValue': 'x' }, 'y'] } },
      Resources: {
        Api: { Type: 'AWS::Serverless::Function', Properties: { Handler: 'app.handler', Runtime: 'nodejs22.x', CodeUri: 'dist' } },
        Skipped: { Type: 'AWS::Serverless::Function', Condition: 'Never', Properties: { Handler: 'app.handler' } },
        Kept: { Type: 'AWS::Serverless::Function', Condition: 'Unknowable', Properties: { Handler: 'app.handler' } },
      },
    }, null, '\t'), { extension: 'json' });
    assert.deepEqual(template.functions.map((f) => [f.name, f.root]), [['Api', join(scratch, 'dist')], ['Kept', scratch]]);
    assert.deepEqual(template.warnings, ['AWS::Serverless::Function Kept: Condition: condition "Unknowable": Fn::ImportValue not supported, taken as true']);
  });
});

describe('readSamTemplate: functions', () => {
  it('merges Globals.Function: maps key by key, the function winning', () => {
    const template = readInline(sam(fn('Api', `      Timeout: 30
      Environment:
        Variables: { B: own, C: own }
`), `Globals:
  Function:
    Timeout: 20
    MemorySize: 512
    Environment:
      Variables: { A: global, B: global }
  SimpleTable:
    SSESpecification: { SSEEnabled: true }
`));
    assert.deepEqual(template.functions[0]!.config, { handler: 'app.handler', runtime: 'nodejs20.x', timeout: 30, memorySize: 512, environment: { A: 'global', B: 'own', C: 'own' } });
    assert.deepEqual(template.warnings, ['Globals: section SimpleTable not supported, ignored']);
  });

  it('keeps a provided.al2023 runtime, so the function runs its bootstrap', () => {
    const template = readInline(sam(fn('Custom', '      CodeUri: custom\n').replace('Runtime: nodejs20.x', 'Runtime: provided.al2023')));
    assert.equal(template.functions[0]!.config.runtime, 'provided.al2023');
    assert.deepEqual(template.warnings, []);
  });

  it('keeps every Node.js runtime as declared, nodejs24.x included; skips one serverfull does not run, saying so', () => {
    for (const runtime of ['nodejs22.x', 'nodejs24.x']) {
      const template = readInline(sam(fn('Api').replace('Runtime: nodejs20.x', `Runtime: ${runtime}`)));
      assert.equal(template.functions[0]!.config.runtime, runtime);
      assert.deepEqual(template.warnings, []);
    }
    const old = readInline(sam(fn('Old').replace('Runtime: nodejs20.x', 'Runtime: nodejs16.x')));
    assert.deepEqual(old.functions, []);
    assert.match(old.warnings[0]!, /^AWS::Serverless::Function Old: Runtime nodejs16.x not supported \(supported: nodejs18.x, .*\), function skipped$/);
  });

  it('skips functions it cannot run, saying why', () => {
    const template = readInline(sam(`  Python:
    Type: AWS::Serverless::Function
    Properties: { Runtime: python3.9, Handler: app.handler }
  Inline:
    Type: AWS::Serverless::Function
    Properties: { Runtime: nodejs20.x, InlineCode: 'exports.handler = async () => 1' }
  InS3:
    Type: AWS::Serverless::Function
    Properties: { Runtime: nodejs20.x, Handler: app.handler, CodeUri: { Bucket: b, Key: k } }
  Zipped:
    Type: AWS::Serverless::Function
    Properties: { Runtime: nodejs20.x, Handler: app.handler, CodeUri: build/app.zip }
  Image:
    Type: AWS::Serverless::Function
    Properties: { PackageType: Image, ImageUri: repo/image:latest }
`, 'Transform: [AWS::Serverless-2016-10-31, AWS::LanguageExtensions]\n').replace(/^Transform: AWS::Serverless-2016-10-31\n/, ''));
    assert.deepEqual(template.functions, []);
    assert.deepEqual(template.warnings, [
      'Transform: "AWS::LanguageExtensions" not supported, ignored',
      'AWS::Serverless::Function Python: Runtime python3.9 not supported (supported: nodejs18.x, nodejs20.x, nodejs22.x, nodejs24.x, python3.11, python3.12, python3.13, provided, provided.al2, provided.al2023), function skipped',
      'AWS::Serverless::Function Inline: InlineCode not supported, function skipped',
      'AWS::Serverless::Function InS3: CodeUri in S3 not supported, function skipped',
      'AWS::Serverless::Function Zipped: CodeUri as an archive not supported (give its unpacked folder), function skipped',
      'AWS::Serverless::Function Image: property ImageUri not supported, ignored',
      'AWS::Serverless::Function Image: PackageType Image not supported, function skipped',
    ]);
  });

  it('warns when the SAM transform is missing, and about sections it does not know', () => {
    const template = readInline(`Rules:\n  Check: {}\nResources:\n${fn('Api')}`);
    assert.deepEqual(template.warnings, [
      'Transform: AWS::Serverless-2016-10-31 not declared, read as a SAM template anyway',
      'Template: section Rules not supported, ignored',
    ]);
    assert.equal(template.functions.length, 1);
  });
});

describe('readSamTemplate: APIs', () => {
  it('reads REST APIs: stage, quoted Cors, REQUEST authorizers; TOKEN and IAM routes are not served', () => {
    const template = readInline(sam(`  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Cors: "'https://example.com'"
      BinaryMediaTypes: ['image/png']
      Auth:
        DefaultAuthorizer: Request
        Authorizers:
          Request:
            FunctionArn: !GetAtt Authorizer.Arn
            FunctionPayloadType: REQUEST
            Identity:
              Headers: [X-Token]
              QueryStrings: [token]
          Token:
            FunctionArn: !GetAtt Authorizer.Arn
` + fn('Authorizer') + fn('Api', `      AutoPublishAlias: live
      Events:
        Default: { Type: Api, Properties: { RestApiId: !Ref Rest, Path: /a, Method: get } }
        Open: { Type: Api, Properties: { RestApiId: !Ref Rest, Path: /b, Method: get, TimeoutInMillis: 1000, Auth: { Authorizer: NONE } } }
        Tokened: { Type: Api, Properties: { RestApiId: !Ref Rest, Path: /c, Method: get, Auth: { Authorizer: Token } } }
        Iam: { Type: Api, Properties: { RestApiId: !Ref Rest, Path: /d, Method: get, Auth: { Authorizer: AWS_IAM } } }
`)));
    assert.deepEqual(template.gateway.apis, [{
      id: 'Rest', kind: 'rest', stage: 'v1',
      cors: { allowOrigins: ['https://example.com'], allowMethods: ['*'], allowHeaders: [], exposeHeaders: [], allowCredentials: false },
      authorizers: {
        Request: {
          name: 'Request', functionName: 'Authorizer', payloadFormat: '1.0', simpleResponses: false,
          identitySources: ['method.request.header.X-Token', 'method.request.querystring.token'],
        },
      },
      defaultAuthorizer: 'Request',
    }]);
    assert.deepEqual(template.gateway.routes, [
      { method: 'GET', path: '/a', functionName: 'Api', qualifier: 'live', apiId: 'Rest', payloadFormat: '1.0', timeoutMs: 29_000 },
      { method: 'GET', path: '/b', functionName: 'Api', qualifier: 'live', apiId: 'Rest', payloadFormat: '1.0', authorizer: 'NONE', timeoutMs: 1000 },
    ]);
    assert.deepEqual(template.warnings, [
      'AWS::Serverless::Api Rest: property BinaryMediaTypes not supported, ignored',
      'AWS::Serverless::Api Rest: Auth.Authorizers.Token: TOKEN authorizer not supported, routes using it are not served',
      'AWS::Serverless::Function Api: Events.Tokened: authorizer Token not supported, route GET /c not served',
      'AWS::Serverless::Function Api: Events.Iam: authorizer AWS_IAM not supported, route GET /d not served',
    ]);
  });

  it('reads HTTP APIs: stage, Globals, authorizer payload 1.0 with query and context sources; JWT is not served', () => {
    const template = readInline(sam(`  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: beta
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            IdentitySource: $request.header.Authorization
            JwtConfiguration: { audience: [a], issuer: https://issuer }
          Lambda:
            FunctionArn: !Sub 'arn:aws:lambda:\${AWS::Region}:\${AWS::AccountId}:function:auth-fn'
            AuthorizerPayloadFormatVersion: 1.0
            Identity:
              QueryStrings: [key]
              Context: [requestId]
              ReauthorizeEvery: 300
` + fn('Authorizer', '      FunctionName: auth-fn\n') + fn('Api', `      Events:
        Protected: { Type: HttpApi, Properties: { ApiId: !Ref Http, Path: /p, Method: post, Auth: { Authorizer: Lambda } } }
        ByDefault: { Type: HttpApi, Properties: { ApiId: !Ref Http, Path: /j, Method: post } }
        Implicit: { Type: HttpApi, Properties: { Path: /i, Method: delete, PayloadFormatVersion: 1.0 } }
`), `Globals:
  HttpApi:
    CorsConfiguration:
      AllowOrigins: ['*']
`));
    const cors = { allowOrigins: ['*'], allowMethods: [], allowHeaders: [], exposeHeaders: [], allowCredentials: false };
    assert.deepEqual(template.gateway.apis, [
      {
        id: 'Http', kind: 'http', stage: 'beta', cors,
        authorizers: {
          Lambda: { name: 'Lambda', functionName: 'auth-fn', payloadFormat: '1.0', simpleResponses: false, identitySources: ['$request.querystring.key', '$context.requestId'] },
        },
      },
      { id: 'ServerlessHttpApi', kind: 'http', stage: '$default', cors, authorizers: {} },
    ]);
    assert.deepEqual(template.gateway.routes, [
      { method: 'POST', path: '/p', functionName: 'Api', apiId: 'Http', payloadFormat: '2.0', authorizer: 'Lambda', timeoutMs: 30_000 },
      { method: 'DELETE', path: '/i', functionName: 'Api', apiId: 'ServerlessHttpApi', payloadFormat: '1.0', timeoutMs: 30_000 },
    ]);
    assert.deepEqual(template.warnings, [
      'AWS::Serverless::HttpApi Http: Auth.Authorizers.Jwt: JWT authorizer not supported, routes using it are not served',
      'AWS::Serverless::HttpApi Http: property Auth.Authorizers.Lambda.Identity.ReauthorizeEvery not supported, ignored',
      'AWS::Serverless::Function Api: Events.ByDefault: authorizer Jwt not supported, route POST /j not served',
    ]);
  });

  it('an authorizer whose function the template does not serve protects nothing: its routes are not served', () => {
    const template = readInline(sam(`  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        Authorizers:
          Elsewhere: { FunctionArn: 'arn:aws:lambda:us-east-1:111111111111:function:other' }
` + fn('Api', `      Events:
        Get: { Type: HttpApi, Properties: { ApiId: !Ref Http, Path: /x, Method: GET, Auth: { Authorizer: Elsewhere } } }
`)));
    assert.deepEqual(template.gateway.routes, []);
    assert.deepEqual(template.warnings, [
      'AWS::Serverless::HttpApi Http: Auth.Authorizers.Elsewhere: FunctionArn arn:aws:lambda:us-east-1:111111111111:function:other (not a function this template serves) not supported, routes using it are not served',
      'AWS::Serverless::Function Api: Events.Get: authorizer Elsewhere not supported, route GET /x not served',
    ]);
  });

  it('creates no implicit API when no event needs one', () => {
    assert.deepEqual(readInline(sam(fn('Api'))).gateway, { apis: [], routes: [] });
  });
});

describe('readSamTemplate: EventInvokeConfig', () => {
  it('reads MaximumEventAgeInSeconds as the function\'s maximum event age, and names what it ignores', () => {
    const template = readInline(sam(fn('Api', '      EventInvokeConfig: { MaximumEventAgeInSeconds: 120, MaximumRetryAttempts: 0, DestinationConfig: {} }\n')));
    assert.equal(template.functions[0]!.config.maximumEventAge, 120);
    assert.equal(template.functions[0]!.config.maximumRetryAttempts, 0);
    assert.ok(template.warnings.some((warning) => /EventInvokeConfig\.?DestinationConfig not supported, ignored/.test(warning)), template.warnings.join('; '));
  });

  it('reads SNS events as subscriptions to the template\'s AWS::SNS::Topic (by !Ref, TopicName or logical id) or a topic ARN', () => {
    const template = readInline(sam(`${fn('Worker', `      Events:
        Orders:
          Type: SNS
          Properties:
            Topic: !Ref OrdersTopic
        Audit:
          Type: SNS
          Properties:
            Topic: !Ref AuditTopic
        ByArn:
          Type: SNS
          Properties:
            Topic: arn:aws:sns:eu-west-1:123456789012:legacy
`)}  OrdersTopic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: orders
  AuditTopic:
    Type: AWS::SNS::Topic
`));
    assert.deepEqual(template.functions[0]!.config.topics, ['orders', 'AuditTopic', 'legacy']);
    assert.deepEqual(template.warnings, []);
    assertConfigError(() => readInline(sam(fn('Worker', `      Events:
        Elsewhere:
          Type: SNS
          Properties:
            Topic: arn:aws:sns:us-east-1:999999999999:other
`))), /Events.Elsewhere.Topic.*must be a !Ref to an AWS::SNS::Topic/);
  });

  it('refuses an age outside AWS\'s 60 to 21600 seconds', () => {
    assert.throws(() => readInline(sam(fn('Api', '      EventInvokeConfig: { MaximumEventAgeInSeconds: 30 }\n'))), /MaximumEventAgeInSeconds must be an integer from 60 to 21600/);
  });
});

describe('readSamTemplate: EphemeralStorage', () => {
  it('reads Size as the function\'s ephemeral storage, from Globals too', () => {
    const own = readInline(sam(fn('Api', '      EphemeralStorage: { Size: 2048 }\n')));
    assert.equal(own.functions[0]!.config.ephemeralStorage, 2048);
    const global = readInline(sam(fn('Api'), 'Globals:\n  Function:\n    EphemeralStorage:\n      Size: 1024\n'));
    assert.equal(global.functions[0]!.config.ephemeralStorage, 1024);
    assert.equal(readInline(sam(fn('Api'))).functions[0]!.config.ephemeralStorage, undefined);
  });

  it('refuses a size outside AWS\'s 512 to 10240 MB', () => {
    assert.throws(() => readInline(sam(fn('Api', '      EphemeralStorage: { Size: 100 }\n'))), /EphemeralStorage\.Size must be an integer from 512 to 10240 \(got 100\)/);
  });
});

describe('readSamTemplate: errors', () => {
  const mistakes: Array<[string, string, RegExp]> = [
    ['a YAML syntax error, with its line', 'Resources:\n  A: [unclosed\n', /template-\d+\.yaml is not valid YAML: .*line 3/],
    ['a function without Handler', sam('  Api:\n    Type: AWS::Serverless::Function\n    Properties: { Runtime: nodejs20.x }\n'),
      /template-\d+\.yaml: AWS::Serverless::Function Api: Handler is required/],
    ['a Handler leaving the CodeUri folder', sam('  Api:\n    Type: AWS::Serverless::Function\n    Properties: { Runtime: nodejs20.x, Handler: ../../x.handler }\n'),
      /template-\d+\.yaml: AWS::Serverless::Function Api: Handler must name a file inside the function's CodeUri folder \(got "\.\.\/\.\.\/x\.handler"/],
    ['an absolute Handler', sam('  Api:\n    Type: AWS::Serverless::Function\n    Properties: { Runtime: nodejs20.x, Handler: /etc/x.handler }\n'),
      /AWS::Serverless::Function Api: Handler must name a file inside .*absolute path/],
    ['a parameter with neither Default nor override', sam(fn('Api'), 'Parameters:\n  Needed: { Type: String }\n'),
      /template-\d+\.yaml: Parameters\.Needed has no Default and no value in the parameter overrides/],
    ['a route to an unknown ApiId', sam(fn('Api', '      Events:\n        Get: { Type: HttpApi, Properties: { ApiId: !Ref Nope, Path: /x, Method: GET } }\n')),
      /AWS::Serverless::Function Api: Events\.Get: ApiId "Nope" is not an AWS::Serverless::HttpApi of this template/],
    ['a REST route to an HTTP API', sam('  Http:\n    Type: AWS::Serverless::HttpApi\n' + fn('Api', '      Events:\n        Get: { Type: Api, Properties: { RestApiId: !Ref Http, Path: /x, Method: GET } }\n')),
      /Events\.Get: RestApiId "Http" is not an AWS::Serverless::Api of this template/],
    ['a duplicate route', sam(fn('A', '      Events:\n        Get: { Type: HttpApi, Properties: { Path: /x, Method: get } }\n')
      + fn('B', '      Events:\n        Get: { Type: HttpApi, Properties: { Path: /x, Method: GET } }\n')),
      /AWS::Serverless::Function B: Events\.Get: route GET \/x of ServerlessHttpApi is declared twice/],
    ['a route naming an unknown authorizer', sam(fn('A', '      Events:\n        Get: { Type: HttpApi, Properties: { Path: /x, Method: get, Auth: { Authorizer: Missing } } }\n')),
      /Events\.Get: Auth\.Authorizer "Missing" is not an authorizer of ServerlessHttpApi/],
    ['a route with a Path but no Method', sam(fn('A', '      Events:\n        Get: { Type: HttpApi, Properties: { Path: /x } }\n')),
      /AWS::Serverless::Function A: Events\.Get\.Method must be one of GET, .* \(got undefined\)/],
    ['two functions with one name', sam(fn('A', '      FunctionName: same\n') + fn('B', '      FunctionName: same\n')),
      /AWS::Serverless::Function B: function name "same" is also the name of A/],
    ['a timeout out of range', sam(fn('A', '      Timeout: 901\n')), /AWS::Serverless::Function A: Timeout must be an integer from 1 to 900 \(got 901\)/],
    ['a REST API without StageName', sam('  Rest:\n    Type: AWS::Serverless::Api\n    Properties: {}\n'), /AWS::Serverless::Api Rest: StageName is required/],
    ['a DefaultAuthorizer not declared', sam('  Http:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n      Auth: { DefaultAuthorizer: Nope }\n'),
      /AWS::Serverless::HttpApi Http: Auth\.DefaultAuthorizer "Nope" is not in Auth\.Authorizers/],
    ['a template that is not a map', '- just a list\n', /SAM template .* must be an object/],
  ];
  for (const [title, text, message] of mistakes) {
    it(`refuses ${title}`, () => assertConfigError(() => readInline(text), message));
  }

  it('refuses an unreadable file', () => {
    assertConfigError(() => readSamTemplate(join(scratch, 'missing.yaml'), OPTIONS), /cannot read SAM template .*missing\.yaml: ENOENT/);
  });
});

describe('parseParameterOverrides', () => {
  it('reads Key=Value pairs, quoted values and the ParameterKey form', () => {
    assert.deepEqual(parseParameterOverrides('Stage=prod Name="two words" List=a,b Eq=x=y'), { Stage: 'prod', Name: 'two words', List: 'a,b', Eq: 'x=y' });
    assert.deepEqual(parseParameterOverrides("ParameterKey=Stage,ParameterValue=prod  ParameterKey=Name,ParameterValue='two words'"), { Stage: 'prod', Name: 'two words' });
    assert.deepEqual(parseParameterOverrides('  '), {});
    assert.deepEqual(parseParameterOverrides('Empty= Quote="say \\"hi\\""'), { Empty: '', Quote: 'say "hi"' });
  });

  it('refuses malformed text', () => {
    assertConfigError(() => parseParameterOverrides('Stage'), /"Stage" is neither Key=Value nor ParameterKey=Key,ParameterValue=Value/);
    assertConfigError(() => parseParameterOverrides('ParameterKey=Stage'), /"ParameterKey=Stage" is neither/);
    assertConfigError(() => parseParameterOverrides('Bad-Key=1'), /"Bad-Key=1" is neither/);
    assertConfigError(() => parseParameterOverrides('Stage="prod'), /unterminated " quote/);
  });
});
