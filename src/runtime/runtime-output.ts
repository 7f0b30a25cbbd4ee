/**
 * @module runtime/runtime-output
 * Reads a runtime process's stdout or stderr as log lines. Chunks of a pipe do not follow
 * lines, so a partial line waits for its end. A line in the Node.js runtime's format
 * (`time\trequestId\tLEVEL\tmessage`, newlines inside the message written as `\r`), or in
 * the Python runtime's `logging` format (`[LEVEL]\ttime\trequestId\tmessage`), gives its level
 * and message to the server log; any other line (custom runtimes, raw writes) is logged as it
 * is. The Tail log always keeps the line as the runtime wrote it.
 */
import type { FunctionLogLevel } from './execution-environment.js';

/** Receives one line: `level` and `message` when it is in the runtime's format, `raw` (with its newline) always. */
export type LineSink = (level: FunctionLogLevel, message: string, raw: string) => void;

/** A partial line longer than this is let through as it is, rather than held without bound. */
const MAX_PARTIAL_CHARS = 256 * 1024;

/** `2024-01-01T00:00:00.000Z\t<request id>\t<LEVEL>\t`: the prefix of a Node.js runtime line. */
const RUNTIME_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t[^\t]*\t(TRACE|DEBUG|INFO|WARN|ERROR)\t/;

/** `[INFO]\t2024-01-01T00:00:00.000Z\t<request id>\t`: the prefix of a line Python's `logging` writes through serverfull's Python runtime client. */
const PYTHON_LINE = /^\[(DEBUG|INFO|WARNING|ERROR|CRITICAL)\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t[^\t]*\t/;
/** Python's level names as the function log levels. */
const PYTHON_LEVELS: Readonly<Record<string, FunctionLogLevel>> = { DEBUG: 'DEBUG', INFO: 'INFO', WARNING: 'WARN', ERROR: 'ERROR', CRITICAL: 'ERROR' };

/** One output stream of one runtime process, split into lines. */
export class RuntimeOutput {
  private partial = '';

  constructor(private readonly sink: LineSink) {}

  /** Takes the next chunk of the stream. */
  write(chunk: string): void {
    const text = this.partial === '' ? chunk : this.partial + chunk;
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      this.line(text.slice(start, end));
      start = end + 1;
    }
    this.partial = start === 0 ? text : text.slice(start);
    if (this.partial.length > MAX_PARTIAL_CHARS) this.flush();
  }

  /** Lets a partial line through (the invocation is over, or the stream ended). */
  flush(): void {
    if (this.partial === '') return;
    const rest = this.partial;
    this.partial = '';
    this.line(rest);
  }

  private line(line: string): void {
    const match = RUNTIME_LINE.exec(line);
    if (!match) {
      // A Python line starts with `[`: the test costs other lines one character comparison.
      const python = line.startsWith('[') ? PYTHON_LINE.exec(line) : null;
      if (python) this.sink(PYTHON_LEVELS[python[1]!], line.slice(python[0].length), `${line}\n`);
      else this.sink(undefined, line, `${line}\n`);
      return;
    }
    const message = line.slice(match[0].length);
    this.sink(match[1] as FunctionLogLevel, message.includes('\r') ? message.replace(/\r/g, '\n') : message, `${line}\n`);
  }
}
