/**
 * @module cli/invoke-command
 * `serverfull invoke`: call a function through the Invoke API of a running server,
 * print its result, and fail (exit 1) when the function failed.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { connect, ENDPOINT_OPTION_HELP, resolveEndpoint } from './endpoint.js';

/** Help text of `serverfull invoke`. */
export const INVOKE_HELP = `Usage: serverfull invoke <function> [options]

Invokes a function through the Lambda Invoke API and prints its response payload.
Exits 1 when the function returns an error, 2 when the call itself fails.

Options:
  --payload JSON|@FILE    the event (default {})
${ENDPOINT_OPTION_HELP}
  --qualifier Q           version or alias
  --event                 asynchronous invocation (InvocationType Event)
  --tail                  print the last 4 KB of the invocation log to stderr
  -h, --help              this text
`;

/** Runs `serverfull invoke`; returns the exit code. */
export async function invokeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      payload: { type: 'string' },
      endpoint: { type: 'string' },
      qualifier: { type: 'string' },
      event: { type: 'boolean' },
      tail: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(INVOKE_HELP);
    return 0;
  }
  const [name] = positionals;
  if (!name || positionals.length > 1) {
    process.stderr.write(INVOKE_HELP);
    return 2;
  }
  let payload: string | Buffer = values.payload ?? '{}';
  if (payload.startsWith('@')) {
    try {
      payload = readFileSync(payload.slice(1));
    } catch (error) {
      process.stderr.write(`serverfull invoke: cannot read the payload file ${payload.slice(1)}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}\n`);
      return 2;
    }
  }
  const endpoint = resolveEndpoint(values.endpoint);
  // Loaded here, not at the top: `--help` and argument errors must not wait for the SDK to load.
  const { InvokeCommand } = await import('@aws-sdk/client-lambda');
  const { client, describe } = await connect(endpoint);
  let output: InvokeCommandOutput;
  try {
    output = await client.send(new InvokeCommand({
      FunctionName: name,
      Qualifier: values.qualifier,
      InvocationType: values.event ? 'Event' : 'RequestResponse',
      LogType: values.tail ? 'Tail' : 'None',
      Payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload,
    }));
  } catch (error) {
    process.stderr.write(`serverfull invoke: ${describe(error)}\n`);
    return 2;
  } finally {
    client.destroy();
  }
  if (output.LogResult) process.stderr.write(Buffer.from(output.LogResult, 'base64').toString('utf8'));
  if (output.StatusCode === 202) {
    process.stdout.write(`accepted (RequestId ${output.$metadata.requestId})\n`);
    return 0;
  }
  const body = Buffer.from(output.Payload ?? new Uint8Array()).toString('utf8');
  process.stdout.write(body.endsWith('\n') ? body : `${body}\n`);
  if (output.FunctionError) {
    process.stderr.write(`function error (${output.FunctionError})\n`);
    return 1;
  }
  return 0;
}
