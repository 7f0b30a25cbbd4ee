/**
 * @module cli/deploy-command
 * `serverfull deploy`: zip a folder and make it a function's code on a running server through
 * the management API, creating the function the first time, then optionally publishing a
 * version and pointing an alias at it, so that one command takes code from a folder to traffic.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DEFAULT_RUNTIME, SUPPORTED_RUNTIMES } from '../registry/runtimes.js';
import { createZip, MAX_ZIPPED_BYTES } from '../deploy/zip-archive.js';
import { callServer, ENDPOINT_OPTION_HELP, resolveEndpoint } from './endpoint.js';

const DEFAULT_HANDLER = 'index.handler';

/** Help text of `serverfull deploy`. */
export const DEPLOY_HELP = `Usage: serverfull deploy <dir> --name <function> [options]

Zips <dir> and deploys it as the code of a function on a running server: creates the
function when it does not exist, else updates the configuration given and the code
(not uploaded again when unchanged).
Progress goes to stderr, the resulting function configuration (JSON) to stdout.
Exits 2 when the deployment fails.

Options:
  --name NAME             function to create or update (required)
${ENDPOINT_OPTION_HELP}
  --publish               publish a version of the new code and configuration
  --alias NAME            create the alias, or move it, to the published version (needs --publish)
  --handler FILE.EXPORT   handler (default ${DEFAULT_HANDLER} when creating)
  --runtime RUNTIME       ${SUPPORTED_RUNTIMES.join(' | ')} (default ${DEFAULT_RUNTIME} when creating)
  --timeout S             seconds an invocation may run, 1 to 900
  --memory-size MB        memory setting, 128 to 10240
  --description TEXT      description of the function
  --env KEY=VALUE         environment variable, repeatable; replaces all the function's variables
  -h, --help              this text
`;

/** A failure that ends the deployment with one line on stderr and exit code 2. */
class DeployError extends Error {}

/** What to deploy where, checked before anything is zipped or sent. */
interface DeployOptions {
  readonly dir: string;
  readonly name: string;
  readonly endpoint: string;
  readonly publish: boolean;
  readonly alias: string | undefined;
  /** Configuration flags given, as the management API's fields. */
  readonly settings: Readonly<Record<string, unknown>>;
}

/** The fields of a `FunctionConfiguration` that the deployment reads. */
interface FunctionConfiguration {
  readonly Version?: string;
  readonly CodeSha256?: string;
  readonly RevisionId?: string;
  readonly [field: string]: unknown;
}

/** The fields of an `AliasConfiguration` that the deployment reads. */
interface AliasConfiguration {
  readonly FunctionVersion?: string;
  readonly RevisionId?: string;
  readonly RoutingConfig?: unknown;
}

/** Runs `serverfull deploy`; returns the exit code. */
export async function deployCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      endpoint: { type: 'string' },
      publish: { type: 'boolean' },
      alias: { type: 'string' },
      handler: { type: 'string' },
      runtime: { type: 'string' },
      timeout: { type: 'string' },
      'memory-size': { type: 'string' },
      description: { type: 'string' },
      env: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(DEPLOY_HELP);
    return 0;
  }
  const progress = new Progress();
  try {
    const configuration = await deploy(readOptions(values, positionals), progress);
    process.stdout.write(`${JSON.stringify(configuration, null, 2)}\n`);
    return 0;
  } catch (error) {
    progress.endLine();
    if (!(error instanceof DeployError)) throw error;
    process.stderr.write(`serverfull deploy: ${error.message}\n`);
    return 2;
  }
}

function readOptions(values: Record<string, string | boolean | string[] | undefined>, positionals: string[]): DeployOptions {
  const text = (flag: string) => values[flag] as string | undefined;
  if (positionals.length !== 1) {
    throw new DeployError(positionals.length === 0 ? 'missing <dir>, the folder to deploy (see serverfull deploy --help)' : `deploys one folder at a time (got ${positionals.join(' ')})`);
  }
  const name = text('name');
  if (!name) throw new DeployError('missing --name, the function to create or update (see serverfull deploy --help)');
  const alias = text('alias');
  if (alias !== undefined && !values.publish) {
    throw new DeployError('--alias needs --publish: an alias points at a published version, and --publish is what makes one');
  }
  const settings: Record<string, unknown> = {};
  if (text('handler') !== undefined) settings.Handler = text('handler');
  if (text('runtime') !== undefined) settings.Runtime = text('runtime');
  if (text('timeout') !== undefined) settings.Timeout = wholeNumber('--timeout', text('timeout')!);
  if (text('memory-size') !== undefined) settings.MemorySize = wholeNumber('--memory-size', text('memory-size')!);
  if (text('description') !== undefined) settings.Description = text('description');
  const env = values.env as string[] | undefined;
  if (env !== undefined) settings.Environment = { Variables: environmentVariables(env) };
  return { dir: positionals[0]!, name, endpoint: resolveEndpoint(text('endpoint')), publish: values.publish === true, alias, settings };
}

/** Checks the form only: the server checks the range, with the same messages as AWS. */
function wholeNumber(flag: string, value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new DeployError(`${flag} takes a whole number (got "${value}")`);
  return Number(value);
}

function environmentVariables(pairs: readonly string[]): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals < 1) throw new DeployError(`--env takes KEY=VALUE (got "${pair}")`);
    variables[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return variables;
}

async function deploy(options: DeployOptions, progress: Progress): Promise<FunctionConfiguration> {
  const { name, settings } = options;
  const { zip, codeSha256 } = await zipFolder(options.dir, progress);
  const api = new ManagementClient(options.endpoint);
  const functionPath = `/2015-03-31/functions/${encodeURIComponent(name)}`;
  const existing = await api.find<{ Configuration: FunctionConfiguration }>(functionPath);
  let configuration: FunctionConfiguration;
  if (existing === undefined) {
    progress.start(`Creating function ${name}`);
    configuration = await api.call('POST', '/2015-03-31/functions', {
      FunctionName: name, Runtime: DEFAULT_RUNTIME, Handler: DEFAULT_HANDLER, ...settings, Code: { ZipFile: zip.toString('base64') }, Publish: options.publish,
    });
    progress.finish('done');
  } else {
    configuration = existing.Configuration;
    // Each update carries the revision it builds on, so a deployment racing this one fails
    // (PreconditionFailedException) instead of mixing its code and configuration with ours.
    if (Object.keys(settings).length > 0) {
      // Configuration first: the version published below must include it.
      progress.start(`Updating configuration of ${name}`);
      configuration = await api.call('PUT', `${functionPath}/configuration`, { ...settings, RevisionId: configuration.RevisionId });
      progress.finish('done');
    }
    if (existing.Configuration.CodeSha256 === codeSha256) {
      // Uploading the same package again would restart the function's warm environments for
      // nothing, and the server would publish it again as a new version; PublishVersion does not.
      progress.line(`Code of ${name} unchanged`);
      if (options.publish) {
        configuration = await api.call('POST', `${functionPath}/versions`, { CodeSha256: codeSha256, RevisionId: configuration.RevisionId });
      }
    } else {
      progress.start(`Updating code of ${name}`);
      configuration = await api.call('PUT', `${functionPath}/code`, {
        ZipFile: zip.toString('base64'), Publish: options.publish, RevisionId: configuration.RevisionId,
      });
      progress.finish('done');
    }
  }
  if (options.publish) progress.line(`Published version ${configuration.Version}`);
  if (options.alias !== undefined) await pointAlias(api, functionPath, options.alias, configuration.Version!, progress);
  return configuration;
}

async function zipFolder(dir: string, progress: Progress): Promise<{ zip: Buffer; codeSha256: string }> {
  progress.start(`Zipping ${dir}`);
  let zip: Buffer;
  try {
    zip = await createZip(dir);
  } catch (error) {
    const message = (error as Error).message;
    throw new DeployError(message.startsWith('Cannot zip') ? message : `Cannot zip ${dir}: ${message}`);
  }
  // Checked here so that an oversized folder fails before tens of megabytes are uploaded.
  if (zip.length > MAX_ZIPPED_BYTES) {
    throw new DeployError(`${dir} zips to ${formatSize(zip.length)}, more than Lambda's ${formatSize(MAX_ZIPPED_BYTES)} for a direct upload`);
  }
  const codeSha256 = createHash('sha256').update(zip).digest('base64');
  progress.finish(`${formatSize(zip.length)}, CodeSha256 ${codeSha256}`);
  return { zip, codeSha256 };
}

/** Creates the alias, or moves all of its traffic to `version`, dropping any weighted routing a canary left. */
async function pointAlias(api: ManagementClient, functionPath: string, alias: string, version: string, progress: Progress): Promise<void> {
  const aliasPath = `${functionPath}/aliases/${encodeURIComponent(alias)}`;
  const current = await api.find<AliasConfiguration>(aliasPath);
  if (current === undefined) {
    await api.call('POST', `${functionPath}/aliases`, { Name: alias, FunctionVersion: version });
    progress.line(`Alias ${alias} -> ${version} (created)`);
  } else if (current.FunctionVersion === version && current.RoutingConfig === undefined) {
    progress.line(`Alias ${alias} -> ${version} (unchanged)`);
  } else {
    await api.call('PUT', aliasPath, { FunctionVersion: version, RoutingConfig: { AdditionalVersionWeights: {} }, RevisionId: current.RevisionId });
    progress.line(`Alias ${alias} -> ${version} (was ${current.FunctionVersion})`);
  }
}

/** The management API of one server, as JSON calls whose service errors become `DeployError`s. */
class ManagementClient {
  constructor(private readonly endpoint: string) {}

  /** Sends one request; resolves with the parsed JSON response. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    if (!response.ok) throw new DeployError(await describeFailure(response));
    return (await response.json()) as T;
  }

  /** GETs a resource; undefined when the server says it does not exist. */
  async find<T>(path: string): Promise<T | undefined> {
    const response = await this.send('GET', path);
    if (response.status === 404 && errorType(response) === 'ResourceNotFoundException') {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) throw new DeployError(await describeFailure(response));
    return (await response.json()) as T;
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await callServer(this.endpoint, path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new DeployError((error as Error).message);
    }
  }
}

/** The error type, without the namespace suffix AWS may append (`Type:http://...`). */
function errorType(response: Response): string | undefined {
  return response.headers.get('x-amzn-errortype')?.split(':')[0];
}

/** `<ErrorType>: <message>` from an AWS error response; anything else (a proxy's page) by status and text. */
async function describeFailure(response: Response): Promise<string> {
  const text = await response.text();
  let message: unknown;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    // AWS names the field `Message` for some error types and `message` for the others.
    message = body.message ?? body.Message;
  } catch {
    message = undefined;
  }
  return `${errorType(response) ?? `HTTP ${response.status}`}: ${typeof message === 'string' ? message : text.slice(0, 500)}`;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Progress lines on stderr. A step's line is written when the step starts and completed with
 * its outcome, so a slow step shows what it is waiting for; a failure still ends the line
 * before its message.
 */
class Progress {
  private open = false;

  /** Begins a step's line. */
  start(step: string): void {
    this.endLine();
    process.stderr.write(`${step} ... `);
    this.open = true;
  }

  /** Completes the open step's line with its outcome. */
  finish(outcome: string): void {
    process.stderr.write(`${outcome}\n`);
    this.open = false;
  }

  /** A line of its own. */
  line(text: string): void {
    this.endLine();
    process.stderr.write(`${text}\n`);
  }

  /** Ends a step's line left open by a failure. */
  endLine(): void {
    if (this.open) process.stderr.write('\n');
    this.open = false;
  }
}
