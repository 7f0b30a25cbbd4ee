/**
 * @module cli/logs-command
 * `serverfull logs <function>`: print a function's stored log from a running server, as
 * `aws logs tail` prints it (time, stream, message), through the CloudWatch Logs API; `--follow`
 * polls for new lines until interrupted. Control characters of a message are shown escaped: a
 * function's output must not drive the terminal.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ENDPOINT_OPTION_HELP, resolveEndpoint } from './endpoint.js';
import { logsClient, LogsServiceError, type LogsClient } from './logs-client.js';

/** Help text of `serverfull logs`. */
export const LOGS_HELP = `Usage: serverfull logs <function> [options]

Prints the stored log of a function (START, its output, END, REPORT of every invocation)
from a running server, oldest first, through the CloudWatch Logs API (as aws logs tail).

Options:
  --since T               from when: a duration back from now (30s, 10m, 2h, 1d) or an ISO time (default 10m)
  --follow                keep printing new lines until interrupted (Ctrl-C)
  --filter TEXT           only lines matching a CloudWatch filter pattern: terms (all must appear),
                          "quoted phrases", -excluded ?alternative terms; case-sensitive
  --trace-id ID           only the lines of invocations with this X-Ray trace id
${ENDPOINT_OPTION_HELP}
  -h, --help              this text
`;

/** How often `--follow` asks for new lines. */
const FOLLOW_INTERVAL_MS = 1000;
const SINCE = /^(\d+)\s*(s|m|h|d|w)$/;
const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Runs `serverfull logs`; returns the exit code (`--follow` returns only on a failure). */
export async function logsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      since: { type: 'string' },
      follow: { type: 'boolean', short: 'f' },
      filter: { type: 'string' },
      'trace-id': { type: 'string' },
      endpoint: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(LOGS_HELP);
    return 0;
  }
  const [name] = positionals;
  if (!name || positionals.length > 1) {
    process.stderr.write(LOGS_HELP);
    return 2;
  }
  const startTime = sinceTime(values.since ?? '10m', Date.now());
  if (startTime === undefined) {
    process.stderr.write(`serverfull logs: --since ${values.since}: not a duration (30s, 10m, 2h, 1d) nor an ISO time\n`);
    return 2;
  }
  const endpoint = resolveEndpoint(values.endpoint);
  const client = await logsClient(endpoint);
  const query = {
    logGroupName: name.startsWith('/') ? name : `/aws/lambda/${name}`,
    filterPattern: values.filter,
    traceId: values['trace-id'],
  };
  const follower = new EventFollower(client, query, startTime);
  try {
    for (;;) {
      try {
        await follower.poll();
      } catch (error) {
        // Following a function that has not logged yet: its group appears with its first invocation.
        if (!(values.follow && error instanceof LogsServiceError && error.type === 'ResourceNotFoundException')) throw error;
      }
      if (!values.follow) return 0;
      await sleep(FOLLOW_INTERVAL_MS);
    }
  } catch (error) {
    process.stderr.write(`serverfull logs: ${describe(error, endpoint)}\n`);
    return 2;
  }
}

/** Reads pages of FilterLogEvents from a start time on, printing each event once. */
class EventFollower {
  /** The newest timestamp printed, and the ids printed at it: the next poll starts there and skips them. */
  private newest: number;
  private printedAtNewest = new Set<string>();

  constructor(private readonly client: LogsClient, private readonly query: Record<string, unknown>, startTime: number) {
    this.newest = startTime;
  }

  async poll(): Promise<void> {
    let nextToken: string | undefined;
    do {
      const page = await this.client.call('FilterLogEvents', { ...this.query, startTime: this.newest, nextToken });
      for (const event of (page.events ?? []) as Array<{ timestamp: number; logStreamName: string; message: string; eventId: string }>) {
        if (event.timestamp < this.newest || (event.timestamp === this.newest && this.printedAtNewest.has(event.eventId))) continue;
        if (event.timestamp > this.newest) {
          this.newest = event.timestamp;
          this.printedAtNewest = new Set();
        }
        this.printedAtNewest.add(event.eventId);
        process.stdout.write(`${new Date(event.timestamp).toISOString()} ${event.logStreamName} ${printable(event.message.trimEnd())}\n`);
      }
      nextToken = typeof page.nextToken === 'string' ? page.nextToken : undefined;
    } while (nextToken !== undefined);
  }
}

/** The start time `--since` names, in ms since the epoch; undefined when it names none. */
export function sinceTime(since: string, now: number): number | undefined {
  const match = SINCE.exec(since.trim());
  if (match) return now - Number(match[1]) * UNIT_MS[match[2]!]!;
  const time = Date.parse(since);
  return Number.isNaN(time) ? undefined : time;
}

/** `text` with control characters (but tab and newline) escaped, so that a log line cannot move the cursor, recolour or retitle a terminal. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One line for a failure: the server's error, or which endpoint did not answer. */
function describe(error: unknown, endpoint: string): string {
  if (error instanceof LogsServiceError) return `${error.type}: ${error.message}`;
  const code = (error as { cause?: { code?: string } }).cause?.code;
  if (code !== undefined) return `cannot reach ${endpoint} (${code}): is the server running? (serverfull start)`;
  return (error as Error)?.message ?? String(error);
}
