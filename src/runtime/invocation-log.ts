/**
 * @module runtime/invocation-log
 * The log of one invocation as CloudWatch (and `X-Amz-Log-Result`) shows it: START, the
 * function's output lines, the platform's lines on a failure, END and REPORT. Only the tail is kept.
 */
import type { FunctionLogLevel } from './execution-environment.js';

/** Bytes of log the Invoke API returns with `LogType: Tail`. */
export const TAIL_BYTES = 4096;
const KEEP_CHARS = TAIL_BYTES * 4;

/** Measurements that go into the REPORT line. */
export interface InvocationReport {
  readonly durationMs: number;
  readonly memorySize: number;
  readonly memoryUsedMB: number;
  readonly initDurationMs?: number;
  /** How the platform saw the invocation end, when not a success: REPORT then ends with `Status:`. */
  readonly status?: 'timeout' | 'error';
  /** With `status: 'error'`: the error type REPORT names. */
  readonly errorType?: string;
}

/** Collects one invocation's log, keeping enough to return its last 4 KB. */
export class InvocationLog {
  private text: string;

  constructor(private readonly requestId: string, version: string) {
    this.text = startLine(requestId, version);
  }

  /**
   * Adds one output line: `raw` as the runtime wrote it, else a raw write (no level) as it is,
   * else the message in the Node.js runtime's format (`time\trequestId\tLEVEL\tmessage`).
   */
  append(level: FunctionLogLevel, message: string, raw?: string): void {
    this.text += outputLine(Date.now(), this.requestId, level, message, raw);
    if (this.text.length > KEEP_CHARS * 2) this.text = this.text.slice(-KEEP_CHARS);
  }

  /** Ends the log with END and REPORT lines and returns its last 4 KB, base64. */
  finish(report: InvocationReport): string {
    this.text += endLine(this.requestId) + reportLine(this.requestId, report);
    const bytes = Buffer.from(this.text);
    return bytes.subarray(Math.max(0, bytes.length - TAIL_BYTES)).toString('base64');
  }
}

/** The START line of an invocation. */
export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}\n`;
}

/**
 * One output line of an invocation, written at `time` (ms since the epoch): `raw` as the runtime wrote it,
 * else a raw write (no level) as it is, else the message in the Node.js runtime's format (`time\trequestId\tLEVEL\tmessage`).
 */
export function outputLine(time: number, requestId: string, level: FunctionLogLevel, message: string, raw: string | undefined): string {
  return raw ?? (level === undefined ? message : `${new Date(time).toISOString()}\t${requestId}\t${level}\t${message}\n`);
}

/** The END line of an invocation. */
export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}\n`;
}

/** The REPORT line of an invocation. */
export function reportLine(requestId: string, report: InvocationReport): string {
  const duration = report.durationMs.toFixed(2);
  const init = report.initDurationMs === undefined ? '' : `\tInit Duration: ${report.initDurationMs.toFixed(2)} ms`;
  const status = report.status === undefined ? '' : report.status === 'timeout' ? '\tStatus: timeout' : `\tStatus: error\tError Type: ${report.errorType}`;
  return `REPORT RequestId: ${requestId}\tDuration: ${duration} ms\tBilled Duration: ${Math.ceil(report.durationMs)} ms`
    + `\tMemory Size: ${report.memorySize} MB\tMax Memory Used: ${report.memoryUsedMB} MB${init}${status}\t\n`;
}
