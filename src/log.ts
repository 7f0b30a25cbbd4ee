/**
 * @module log
 * The only logger: one JSON object per line, or a readable line when stdout is a terminal.
 */

/** Severity of a log line, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Minimum level written, or `silent` for nothing. */
export type LogThreshold = LogLevel | 'silent';

/** Output style: machine-readable JSON lines or coloured text for people. */
export type LogFormat = 'json' | 'pretty';

const RANK: Record<LogThreshold, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const COLOUR: Record<LogLevel, string> = { debug: '\x1b[90m', info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' };

/** Structured fields attached to a log line. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** Writes structured log lines. */
export interface Logger {
  /** Whether a line of this level would be written: lets hot paths skip building fields. */
  enabled(level: LogLevel): boolean;
  log(level: LogLevel, msg: string, fields?: LogFields): void;
}

/** Options of `createLogger`. */
export interface LoggerOptions {
  level?: LogThreshold;
  format?: LogFormat;
  /** Where lines go; defaults to process.stdout. */
  write?: (line: string) => void;
}

/** A logger writing JSON lines (or pretty lines on a terminal) at or above `level`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const format = options.format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  return {
    enabled: (level) => RANK[level] >= threshold,
    log(level, msg, fields) {
      if (RANK[level] < threshold) return;
      const time = new Date().toISOString();
      if (format === 'json') {
        write(JSON.stringify({ time, level, msg, ...fields }) + '\n');
        return;
      }
      let extra = '';
      if (fields) {
        for (const [key, value] of Object.entries(fields)) {
          if (value !== undefined && key !== 'function' && key !== 'requestId') extra += ` ${key}=${value}`;
        }
      }
      const scope = fields?.function ? ` [${fields.function}${fields.requestId ? ' ' + String(fields.requestId).slice(0, 8) : ''}]` : '';
      write(`\x1b[90m${time.slice(11, 23)}\x1b[0m ${COLOUR[level]}${level.toUpperCase().padEnd(5)}\x1b[0m${scope} ${msg}\x1b[90m${extra}\x1b[0m\n`);
    },
  };
}
