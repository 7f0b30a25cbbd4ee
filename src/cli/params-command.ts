/**
 * @module cli/params-command
 * `serverfull params put|get|list|delete`: the Parameter Store of a running server, through its SSM
 * API, signed as `aws ssm` would sign it (the standard credential chain, or placeholder keys).
 */
import { parseArgs } from 'node:util';
import { ENDPOINT_OPTION_HELP, resolveEndpoint } from './endpoint.js';
import { json11Client, LogsServiceError, type LogsClient } from './logs-client.js';
import { printable } from './logs-command.js';

/** Help text of `serverfull params`. */
export const PARAMS_HELP = `Usage: serverfull params put NAME VALUE [--type String|StringList|SecureString] [--overwrite] [--description TEXT]
       serverfull params get NAME[:VERSION|:LABEL] [--decrypt]
       serverfull params list [PATH]
       serverfull params delete NAME...

The Parameter Store of a running server (its SSM API; aws ssm and the SDKs work too).

put      creates NAME (String unless --type says otherwise), or a new version of it with --overwrite;
         VALUE - reads the value from standard input (keeps a secret out of the shell's history)
get      prints the value; a SecureString's only with --decrypt
list     prints NAME, TYPE and VERSION of every parameter (under PATH, at any depth)
delete   deletes parameters with all their versions

Options:
  --type T                String (default), StringList or SecureString (encrypted at rest)
  --overwrite             replace an existing parameter's value with a new version
  --description TEXT      the parameter's description
  --decrypt               print a SecureString's value in plain text
${ENDPOINT_OPTION_HELP}
  -h, --help              this text
`;

/** Runs `serverfull params`; returns the exit code. */
export async function paramsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      type: { type: 'string' },
      overwrite: { type: 'boolean' },
      description: { type: 'string' },
      decrypt: { type: 'boolean' },
      endpoint: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(PARAMS_HELP);
    return 0;
  }
  const [action, ...args] = positionals;
  const usage = (): number => {
    process.stderr.write(PARAMS_HELP);
    return 2;
  };
  const endpoint = resolveEndpoint(values.endpoint);
  let client: LogsClient | undefined;
  const call = async (operation: string, body: Record<string, unknown>) => {
    client ??= await json11Client(endpoint, 'ssm', 'AmazonSSM.');
    return client.call(operation, body);
  };
  try {
    switch (action) {
      case 'put': {
        if (args.length !== 2) return usage();
        const value = args[1] === '-' ? (await readStdin()).replace(/\r?\n$/, '') : args[1]!;
        const answer = await call('PutParameter', {
          Name: args[0], Value: value, Overwrite: values.overwrite ?? false, Description: values.description,
          // On overwrite the type is the parameter's own unless given.
          Type: values.type ?? (values.overwrite ? undefined : 'String'),
        });
        process.stdout.write(`${args[0]} version ${String(answer.Version)}\n`);
        return 0;
      }
      case 'get': {
        if (args.length !== 1) return usage();
        const answer = await call('GetParameter', { Name: args[0], WithDecryption: values.decrypt ?? false });
        process.stdout.write(`${String((answer.Parameter as { Value: string }).Value)}\n`);
        return 0;
      }
      case 'list': {
        if (args.length > 1) return usage();
        const filters = args[0] === undefined ? undefined : [{ Key: 'Path', Option: 'Recursive', Values: [args[0]] }];
        let token: string | undefined;
        do {
          const page = await call('DescribeParameters', { ParameterFilters: filters, NextToken: token });
          for (const parameter of page.Parameters as Array<{ Name: string; Type: string; Version: number }>) {
            process.stdout.write(`${printable(parameter.Name)}\t${parameter.Type}\t${parameter.Version}\n`);
          }
          token = typeof page.NextToken === 'string' ? page.NextToken : undefined;
        } while (token !== undefined);
        return 0;
      }
      case 'delete': {
        if (args.length === 0) return usage();
        for (const name of args) {
          await call('DeleteParameter', { Name: name });
          process.stdout.write(`deleted ${name}\n`);
        }
        return 0;
      }
      default:
        return usage();
    }
  } catch (error) {
    process.stderr.write(`serverfull params: ${describe(error, endpoint)}\n`);
    return 1;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One line for a failure: the server's error (`ParameterNotFound` has no message), or which endpoint did not answer. */
function describe(error: unknown, endpoint: string): string {
  if (error instanceof LogsServiceError) return error.message === '' ? error.type : `${error.type}: ${error.message}`;
  const code = (error as { cause?: { code?: string } }).cause?.code;
  if (code !== undefined) return `cannot reach ${endpoint} (${code}): is the server running? (serverfull start)`;
  return (error as Error)?.message ?? String(error);
}
