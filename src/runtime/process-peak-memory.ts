/**
 * @module runtime/process-peak-memory
 * The peak resident memory of one process (Linux's `VmHWM`), for the REPORT line of an environment without a cgroup:
 * its `/proc/<pid>/status`, opened at the spawn and read anew at each reading (`KernelTextFile`), so that a reading
 * costs no open and never names a later process that took the pid.
 */
import { KernelTextFile } from './kernel-text-file.js';

/** Bytes read: the text is about 1.5 KB, and `VmHWM` is in its first half. */
const STATUS_BYTES = 4096;
const PEAK = /VmHWM:\s+(\d+) kB/;

/** Reads one process's peak resident memory until `close()`. */
export class ProcessPeakMemory {
  private readonly status: KernelTextFile | undefined;

  /** Opens the process's status now, while `pid` is surely its own (a child not yet waited for). */
  constructor(pid: number) {
    try {
      this.status = new KernelTextFile(`/proc/${pid}/status`, STATUS_BYTES);
    } catch {
      // Not Linux, or the process is gone already: nothing to read.
    }
  }

  /** The peak resident memory in MB, rounded up; 0 once the process is gone or closed. */
  get megabytes(): number {
    const kB = PEAK.exec(this.status?.read() ?? '')?.[1];
    return kB === undefined ? 0 : Math.ceil(Number(kB) / 1024);
  }

  /** Closes the status file; later readings are 0. */
  close(): void {
    this.status?.close();
  }
}
