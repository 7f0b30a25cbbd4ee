/**
 * Python functions (python3.11, 3.12, 3.13): serverfull's Python runtime client on the machine's `python3`, in a
 * process of its own (sandboxed where the host allows it) even on a server whose isolation is inline. One server,
 * started with the testing toolkit, serves the fixture manifest and a Python package deployed with CreateFunction;
 * the calls go through the AWS SDK, the toolkit's clients and the gateway.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { CreateFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { ConfigError } from '../../src/config/config-error.js';
import { buildDefinitions } from '../../src/config/manifest.js';
import { loadDefinitions } from '../../src/declared-functions.js';
import { bundleFunction } from '../../src/lambda/lambda-bundle.js';
import { startLambda } from '../../src/lambda/start-lambda.js';
import { findPython, pythonInterpreter, pythonMismatch } from '../../src/runtime/python-interpreter.js';
import { httpClient, lambdaClient, startTestServer, type TestServer } from '../../src/testing/index.js';
import { decodeLog, FIXTURES, REPO_ROOT } from '../helpers/fixture-server.js';
import { SANDBOXED } from '../helpers/sandbox-host.js';
import { zipOf } from '../helpers/zip-fixture.js';

const ROOT = join(FIXTURES, 'python');
const MANIFEST = join(ROOT, 'serverfull.json');
/** What the sandbox test's function (python3.13) runs on. */
const python = pythonInterpreter('python3.13');

/** A line `logging` writes in AWS's text format. */
const logLine = (level: string, requestId: string, message: string) =>
  new RegExp(`^\\[${level}\\]\\t\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z\\t${requestId}\\t${message}$`, 'm');

// CI has python3 (Debian's, which awscli needs too): there, a missing one fails instead of skipping the suite.
if (python === null && process.env.CI) {
  it('python3 is on PATH', () => assert.fail('no python3 on PATH: Python functions cannot run'));
}

/** Started as the toolkit is meant to be used, at the top of a test file: it closes the server after the tests. */
const fx = (python === null ? undefined : await startTestServer({ config: MANIFEST, serve: { isolation: 'inline', logLevel: 'silent', env: {} } })) as TestServer;

describe('Python functions', { skip: python === null ? 'no python3 on PATH' : false }, () => {
  const invoke = async (name: string, event: unknown = {}, tail = false) => {
    const out = await fx.lambda.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(event), LogType: tail ? 'Tail' : 'None' }));
    const text = Buffer.from(out.Payload ?? []).toString();
    return { out, text, json: JSON.parse(text), log: decodeLog(out.LogResult) };
  };

  it('runs the handler in a process of its own, inits the module once, and logs print and logging', async () => {
    const first = await invoke('py-hello', { say: 'hi' }, true);
    assert.equal(first.out.FunctionError, undefined, first.text);
    assert.deepEqual(first.json.event, { say: 'hi' });
    assert.equal(first.json.invocations, 1);
    // A Decimal is a number on the wire, as AWS's runtime serialises it.
    assert.equal(first.json.price, 9.5);
    assert.notEqual(first.json.pid, process.pid);
    assert.equal(first.json.cwd, SANDBOXED ? '/var/task' : ROOT);
    const requestId = first.out.$metadata.requestId!;
    assert.match(first.log, /^init: module loaded$/m);
    assert.match(first.log, /^printed hi$/m);
    assert.match(first.log, logLine('INFO', requestId, 'logged at info'));
    assert.match(first.log, logLine('WARNING', requestId, 'logged at warning'));
    assert.match(first.log, /Init Duration: /);

    const second = await invoke('py-hello', {}, true);
    assert.equal(second.json.invocations, 2);
    assert.equal(second.json.pid, first.json.pid);
    assert.doesNotMatch(second.log, /init: module loaded|Init Duration/);
  });

  it('gives the context object of AWS\'s Python runtime, through the testing toolkit', async () => {
    const client = lambdaClient('py-context', { target: fx.url });
    try {
      const clientContext = { custom: { tenant: 't1' }, env: { locale: 'fr' }, client: { installation_id: 'install-1' } };
      const result = await client.invoke<Record<string, any>>({}, { clientContext });
      assert.equal(result.functionError, undefined, JSON.stringify(result.payload));
      const context = result.payload;
      assert.equal(context.aws_request_id, result.requestId);
      assert.equal(context.function_name, 'py-context');
      assert.equal(context.function_version, '$LATEST');
      assert.match(context.invoked_function_arn, /^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:py-context$/);
      // A string, as AWS's Python runtime reads it from the environment.
      assert.equal(context.memory_limit_in_mb, '256');
      assert.equal(context.log_group_name, '/aws/lambda/py-context');
      assert.match(context.log_stream_name, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
      assert.ok(context.remaining > 0 && context.remaining <= 30_000, `remaining ${context.remaining} ms`);
      assert.deepEqual(context.client_context, { custom: { tenant: 't1' }, env: { locale: 'fr' }, installation_id: 'install-1' });
      assert.deepEqual(context.identity, [null, null]);
      assert.match(context.trace_id, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};/);
      assert.equal(context.execution_env, 'AWS_Lambda_python3.13');
      assert.equal(context.sys_path_0, SANDBOXED ? '/var/task' : ROOT);
    } finally {
      await client.close();
    }
  });

  it('sandboxed, shows the interpreter\'s installation and nothing else of the host', { skip: SANDBOXED ? false : 'unsandboxed here' }, async () => {
    const library = python!.folders[0] ?? dirname(python!.executable);
    const paths = [fx.server.settings.dataDir, ROOT, '/node_modules', python!.executable];
    const { json } = await invoke('py-context', { paths, write: [library, '/var/task', '/tmp'] });
    // Not the project's node_modules either, which a Node.js function of the folder sees.
    assert.deepEqual(json.sees, { [fx.server.settings.dataDir]: false, [ROOT]: false, '/node_modules': false, [python!.executable]: true });
    // The interpreter and the code are read-only; /tmp is the function's own.
    assert.deepEqual(json.writes, { [library]: 'OSError', '/var/task': 'OSError', '/tmp': 'written' });
    // Of /root (pyenv's home, say), only the way to the interpreter.
    for (const entry of json.root_entries ?? []) {
      assert.ok(python!.folders.some((folder) => folder.startsWith(`/root/${entry}/`) || folder === `/root/${entry}`), `/root/${entry} is visible`);
    }
  });

  it('shapes a handler\'s exception as AWS\'s Python runtime does, and logs its traceback', async () => {
    const { out, json, log } = await invoke('py-fails', { order: 7 }, true);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.deepEqual(Object.keys(json), ['errorMessage', 'errorType', 'requestId', 'stackTrace']);
    assert.equal(json.errorMessage, 'order 7 rejected');
    assert.equal(json.errorType, 'OrderRejected');
    assert.equal(json.requestId, out.$metadata.requestId);
    const file = SANDBOXED ? '/var/task/app.py' : join(ROOT, 'app.py');
    assert.equal(json.stackTrace.length, 2);
    assert.match(json.stackTrace[0], new RegExp(`^  File "${file}", line \\d+, in fails\\n    check\\(event\\)\\n$`));
    assert.match(json.stackTrace[1], /, in check\n {4}raise OrderRejected\(/);
    assert.match(log, /^\[ERROR\] OrderRejected: order 7 rejected\nTraceback \(most recent call last\):\n {2}File /m);
  });

  it('answers a result JSON cannot hold with Runtime.MarshalError', async () => {
    const { out, json } = await invoke('py-unserializable');
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(json.errorType, 'Runtime.MarshalError');
    assert.match(json.errorMessage, /^Unable to marshal response: <object object at 0x[0-9a-f]+> is not JSON serializable$/);
    assert.deepEqual(json.stackTrace, []);
  });

  it('answers a missing handler function with Runtime.HandlerNotFound on each invocation', async () => {
    for (let call = 0; call < 2; call++) {
      const { out, json } = await invoke('py-not-found');
      assert.equal(out.FunctionError, 'Unhandled');
      assert.deepEqual(json, { errorMessage: 'Handler \'missing\' missing on module \'app\'', errorType: 'Runtime.HandlerNotFound', requestId: out.$metadata.requestId, stackTrace: [] });
    }
  });

  it('fails the init of a module that cannot import with Runtime.ImportModuleError', async () => {
    const { out, json, log } = await invoke('py-import-error', {}, true);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.deepEqual(json, {
      errorMessage: 'Unable to import module \'needs_missing\': No module named \'not_installed_anywhere\'',
      errorType: 'Runtime.ImportModuleError',
      requestId: '',
      stackTrace: [],
    });
    assert.match(log, /^\[ERROR\] Runtime\.ImportModuleError: Unable to import module/m);
    assert.match(log, /INIT_REPORT .*Status: error\tError Type: Runtime\.ImportModuleError/);
  });

  it('fails the init of a module that raises with the exception, its output in the log', async () => {
    const { out, json, log } = await invoke('py-init-error', {}, true);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(json.errorType, 'RuntimeError');
    assert.equal(json.errorMessage, 'no database configured');
    assert.match(json.stackTrace.at(-1), /init_fails\.py", line 2, in <module>\n {4}raise RuntimeError\("no database configured"\)\n$/);
    assert.match(log, /^init: about to fail$/m);
    assert.match(log, /^\[ERROR\] RuntimeError: no database configured$/m);
  });

  it('times out a handler that runs too long', async () => {
    // Warmed first: the timeout counts the init of a cold start, which on a loaded machine may take it all.
    let warm: unknown;
    for (let attempt = 0; attempt < 5 && warm !== 'warm'; attempt++) warm = (await invoke('py-sleeps', { warm: true })).json;
    assert.equal(warm, 'warm');
    const { out, json, log } = await invoke('py-sleeps', {}, true);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(json.errorType, 'Sandbox.Timedout');
    assert.equal(json.errorMessage, `RequestId: ${out.$metadata.requestId} Error: Task timed out after 3.00 seconds`);
    assert.match(log, /^going to sleep$/m);
  });

  it('imports a handler from a package, named with slashes or dots', async () => {
    for (const name of ['py-package', 'py-package-dotted']) {
      const { out, json } = await invoke(name, { items: [{ price: 2, quantity: 3 }, { price: 1, quantity: 1 }] });
      assert.equal(out.FunctionError, undefined, JSON.stringify(json));
      assert.deepEqual(json, { total: 7, module: 'shop.orders.handler' });
    }
  });

  it('serves a manifest route, through the testing toolkit\'s HTTP client', async () => {
    const http = httpClient({ target: fx.httpUrl });
    const ok = await http.request('GET', '/py/ada');
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json().pathParameters, { name: 'ada' });
    assert.equal(ok.json().event.rawPath, '/py/ada');
    const failed = await http.request('GET', '/py-fails');
    assert.equal(failed.status, 502);
    assert.deepEqual(failed.json(), { message: 'Internal Server Error' });
  });

  it('runs a Python package deployed with CreateFunction', async () => {
    const zip = await zipOf({
      'lambda_function.py': 'import json\nfrom lib.greeting import greet\n\ndef lambda_handler(event, context):\n    return {"greeting": greet(event["name"]), "root": __file__}\n',
      'lib/__init__.py': '',
      'lib/greeting.py': 'def greet(name):\n    return "hello " + name\n',
    });
    const created = await fx.lambda.send(new CreateFunctionCommand({
      FunctionName: 'py-deployed', Runtime: 'python3.12', Handler: 'lambda_function.lambda_handler', Role: 'arn:aws:iam::000000000000:role/lambda', Code: { ZipFile: zip },
    }));
    assert.equal(created.Runtime, 'python3.12');
    assert.equal((await fx.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'py-deployed' }))).Handler, 'lambda_function.lambda_handler');
    const { out, json } = await invoke('py-deployed', { name: 'ada' });
    assert.equal(out.FunctionError, undefined, JSON.stringify(json));
    assert.equal(json.greeting, 'hello ada');
    if (SANDBOXED) assert.equal(json.root, '/var/task/lambda_function.py');
  });
});

describe('Python function declarations', () => {
  const build = (config: Record<string, unknown>) => buildDefinitions({ fn: { runtime: 'python3.12', ...config } }, ROOT, 'inline', 'serverfull.json');

  it('run as processes whatever the server\'s isolation; refuse another isolation and a handler without a function', () => {
    assert.equal(build({ handler: 'app.handler' })[0]!.isolation, 'process');
    assert.throws(() => build({ handler: 'app.handler', isolation: 'worker' }), (error) => error instanceof ConfigError && /"isolation" can only be "process"/.test(error.message));
    assert.throws(() => build({ handler: 'app' }), ConfigError);
    assert.throws(() => build({ handler: '../app.handler' }), ConfigError);
  });

  it('are read from a SAM template', () => {
    const { definitions, template } = loadDefinitions({ template: join(ROOT, 'template.yaml'), env: {} });
    assert.deepEqual(template!.warnings, []);
    const [orders] = definitions;
    assert.deepEqual([orders!.name, orders!.runtime, orders!.handler, orders!.isolation], ['orders', 'python3.13', 'shop/orders/handler.place', 'process']);
  });

  it('include the example project\'s', () => {
    const [orders] = loadDefinitions({ config: join(REPO_ROOT, 'examples/python/serverfull.json'), env: {} }).definitions;
    assert.deepEqual([orders!.runtime, orders!.handler, orders!.isolation], ['python3.12', 'orders/app.handler', 'process']);
  });

  it('do not run in lambda mode, which runs Node.js handlers', async () => {
    await assert.rejects(startLambda({ config: MANIFEST, functionName: 'py-hello', runtimeApi: '127.0.0.1:9', env: {} }), (error) => error instanceof ConfigError && /lambda mode runs Node\.js handlers/.test(error.message));
  });

  it('are not bundled: serverfull bundle is for Node.js', async () => {
    const out = mkdtempSync(join(tmpdir(), 'serverfull-py-bundle-'));
    try {
      await assert.rejects(bundleFunction({ config: MANIFEST, functionName: 'py-hello', out: join(out, 'bundle.zip') }), (error) => error instanceof ConfigError && /for Node\.js functions only/.test(error.message));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('run on the python3.X, else the python3, found on PATH, resolved to the interpreter and its installation', { skip: python === null ? 'no python3 on PATH' : false }, () => {
    assert.equal(findPython('/nonexistent:'), null);
    assert.deepEqual(findPython(dirname(python!.executable), basename(python!.executable)), python);
    // Debian's own needs nothing a sandbox does not show already.
    const system = findPython('/usr/bin');
    if (system !== null) assert.deepEqual(system.folders, []);
  });

  it('say at start when the machine\'s Python is not the declared one', () => {
    const interpreter = { executable: '/usr/bin/python3.11', version: '3.11.2', folders: [] };
    assert.equal(pythonMismatch('python3.11', interpreter), undefined);
    assert.match(pythonMismatch('python3.13', interpreter)!, /python3\.13 functions run on the machine's Python 3\.11\.2/);
    assert.match(pythonMismatch('python3.12', null)!, /need python3\.12 or python3 on the server's PATH/);
  });
});
