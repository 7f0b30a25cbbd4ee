/**
 * @module cli/invoke-command
 * `serverfull invoke`: call a function through the Invoke API of a running server,
 * print its result, and fail (exit 1) when the function failed.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { callServer, ENDPOINT_OPTION_HELP, resolveEndpoint } from './endpoint.js';

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
  const query = values.qualifier ? `?Qualifier=${encodeURIComponent(values.qualifier)}` : '';
  let response: Response;
  try {
    response = await callServer(endpoint, `/2015-03-31/functions/${encodeURIComponent(name)}/invocations${query}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-amz-invocation-type': values.event ? 'Event' : 'RequestResponse',
        'x-amz-log-type': values.tail ? 'Tail' : 'None',
      },
      body: payload,
    });
  } catch (error) {
    process.stderr.write(`serverfull invoke: ${(error as Error).message}
`);
    return 2;
  }
  const body = await response.text();
  const logResult = response.headers.get('x-amz-log-result');
  if (logResult) process.stderr.write(Buffer.from(logResult, 'base64').toString('utf8'));
  if (response.status >= 300) {
    process.stderr.write(`${response.headers.get('x-amzn-errortype') ?? 'Error'} (HTTP ${response.status}): ${body}\n`);
    return 2;
  }
  if (response.status === 202) {
    process.stdout.write(`accepted (RequestId ${response.headers.get('x-amzn-requestid')})\n`);
    return 0;
  }
  process.stdout.write(body.endsWith('\n') ? body : `${body}\n`);
  const functionError = response.headers.get('x-amz-function-error');
  if (functionError) {
    process.stderr.write(`function error (${functionError})\n`);
    return 1;
  }
  return 0;
}
