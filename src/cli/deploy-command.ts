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
import type { AliasConfiguration, CreateFunctionRequest, FunctionConfiguration, LambdaClient, Runtime, UpdateFunctionConfigurationRequest } from '@aws-sdk/client-lambda';
import { connect, ENDPOINT_OPTION_HELP, resolveEndpoint } from './endpoint.js';

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

/** The configuration fields the flags can set. */
type ConfigurationSettings = Pick<UpdateFunctionConfigurationRequest, 'Handler' | 'Runtime' | 'Timeout' | 'MemorySize' | 'Description' | 'Environment'>;

/** What to deploy where, checked before anything is zipped or sent. */
interface DeployOptions {
  readonly dir: string;
  readonly name: string;
  readonly endpoint: string;
  readonly publish: boolean;
  readonly alias: string | undefined;
  /** Configuration flags given, as the management API's fields. */
  readonly settings: Readonly<ConfigurationSettings>;
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
  const settings: ConfigurationSettings = {};
  if (text('handler') !== undefined) settings.Handler = text('handler');
  // Any text: the server checks it against the runtimes it supports, with AWS's message.
  if (text('runtime') !== undefined) settings.Runtime = text('runtime') as Runtime;
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
  const { zip, codeSha256 } = await zipFolder(options.dir, progress);
  const api = await ManagementClient.open(options.endpoint);
  try {
    return await deployZip(api, options, zip, codeSha256, progress);
  } finally {
    api.close();
  }
}

/** Creates or updates the function from the zip, then publishes and points the alias as asked. */
async function deployZip(api: ManagementClient, options: DeployOptions, zip: Buffer, codeSha256: string, progress: Progress): Promise<FunctionConfiguration> {
  const { name, settings } = options;
  const { GetFunctionCommand, CreateFunctionCommand, UpdateFunctionConfigurationCommand, UpdateFunctionCodeCommand, PublishVersionCommand } = api.sdk;
  const existing = await api.find((client) => client.send(new GetFunctionCommand({ FunctionName: name })));
  let configuration: FunctionConfiguration;
  if (existing?.Configuration === undefined) {
    progress.start(`Creating function ${name}`);
    const request: Omit<CreateFunctionRequest, 'Role'> = {
      FunctionName: name, Runtime: DEFAULT_RUNTIME as Runtime, Handler: DEFAULT_HANDLER, ...settings, Code: { ZipFile: zip }, Publish: options.publish,
    };
    // AWS requires an execution role; serverfull has no IAM, so a deployment gives none.
    configuration = await api.call((client) => client.send(new CreateFunctionCommand(request as CreateFunctionRequest)));
    progress.finish('done');
  } else {
    configuration = existing.Configuration;
    // Each update carries the revision it builds on, so a deployment racing this one fails
    // (PreconditionFailedException) instead of mixing its code and configuration with ours.
    if (Object.keys(settings).length > 0) {
      // Configuration first: the version published below must include it.
      progress.start(`Updating configuration of ${name}`);
      configuration = await api.call((client) => client.send(new UpdateFunctionConfigurationCommand({
        FunctionName: name, ...settings, RevisionId: configuration.RevisionId,
      })));
      progress.finish('done');
    }
    if (existing.Configuration.CodeSha256 === codeSha256) {
      // Uploading the same package again would restart the function's warm environments for
      // nothing, and the server would publish it again as a new version; PublishVersion does not.
      progress.line(`Code of ${name} unchanged`);
      if (options.publish) {
        configuration = await api.call((client) => client.send(new PublishVersionCommand({ FunctionName: name, CodeSha256: codeSha256, RevisionId: configuration.RevisionId })));
      }
    } else {
      progress.start(`Updating code of ${name}`);
      configuration = await api.call((client) => client.send(new UpdateFunctionCodeCommand({
        FunctionName: name, ZipFile: zip, Publish: options.publish, RevisionId: configuration.RevisionId,
      })));
      progress.finish('done');
    }
  }
  if (options.publish) progress.line(`Published version ${configuration.Version}`);
  if (options.alias !== undefined) await pointAlias(api, name, options.alias, configuration.Version!, progress);
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
async function pointAlias(api: ManagementClient, functionName: string, alias: string, version: string, progress: Progress): Promise<void> {
  const { GetAliasCommand, CreateAliasCommand, UpdateAliasCommand } = api.sdk;
  const current: AliasConfiguration | undefined = await api.find((client) => client.send(new GetAliasCommand({ FunctionName: functionName, Name: alias })));
  if (current === undefined) {
    await api.call((client) => client.send(new CreateAliasCommand({ FunctionName: functionName, Name: alias, FunctionVersion: version })));
    progress.line(`Alias ${alias} -> ${version} (created)`);
  } else if (current.FunctionVersion === version && current.RoutingConfig === undefined) {
    progress.line(`Alias ${alias} -> ${version} (unchanged)`);
  } else {
    await api.call((client) => client.send(new UpdateAliasCommand({
      FunctionName: functionName, Name: alias, FunctionVersion: version, RoutingConfig: { AdditionalVersionWeights: {} }, RevisionId: current.RevisionId,
    })));
    progress.line(`Alias ${alias} -> ${version} (was ${current.FunctionVersion})`);
  }
}

/** The Lambda API of one server through the SDK, whose failures become `DeployError`s. */
class ManagementClient {
  private constructor(
    /** The SDK's commands, loaded with the client so that other commands never load them. */
    readonly sdk: typeof import('@aws-sdk/client-lambda'),
    private readonly client: LambdaClient,
    private readonly describe: (error: unknown) => string,
  ) {}

  /** Loads the SDK and builds its client for `endpoint`. */
  static async open(endpoint: string): Promise<ManagementClient> {
    const sdk = await import('@aws-sdk/client-lambda');
    const { client, describe } = await connect(endpoint);
    return new ManagementClient(sdk, client, describe);
  }

  /** Sends one command; resolves with its output, without the SDK's response metadata (it is not the resource). */
  async call<Output extends { $metadata: unknown }>(send: (client: LambdaClient) => Promise<Output>): Promise<Omit<Output, '$metadata'>> {
    try {
      const { $metadata: _metadata, ...output } = await send(this.client);
      return output;
    } catch (error) {
      throw new DeployError(this.describe(error));
    }
  }

  /** Sends a Get command; undefined when the server says the resource does not exist. */
  async find<Output extends { $metadata: unknown }>(send: (client: LambdaClient) => Promise<Output>): Promise<Omit<Output, '$metadata'> | undefined> {
    try {
      return await this.call(send);
    } catch (error) {
      if (error instanceof DeployError && error.message.startsWith('ResourceNotFoundException:')) return undefined;
      throw error;
    }
  }

  /** Releases the client's connections, so that the process can exit. */
  close(): void {
    this.client.destroy();
  }
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
