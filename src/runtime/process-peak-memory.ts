/**
 * @module runtime/process-peak-memory
 * The peak resident memory of one process (Linux's `VmHWM`), for the REPORT line of an environment
 * without a cgroup. Its `/proc/<pid>/status` is opened once, at the spawn, and read from its start
 * each time (the kernel makes the text anew for a read at offset 0): opening it by path for each
 * reading cost three times as much (about 25 against 7 µs), and a path names whichever process has
 * the pid now, while the descriptor stays with the one opened: once that process is gone, its reads
 * fail instead of reading a later process's memory.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** Bytes read: the text is about 1.5 KB, and `VmHWM` is in its first half. */
const STATUS_BYTES = 4096;
/** One buffer for every reader: reads are synchronous, on one thread. */
const statusText = Buffer.alloc(STATUS_BYTES);
const PEAK = /VmHWM:\s+(\d+) kB/;

/** Reads one process's peak resident memory until `close()`. */
export class ProcessPeakMemory {
  private fd: number | undefined;

  /** Opens the process's status now, while `pid` is surely its own (a child not yet waited for). */
  constructor(pid: number) {
    try {
      this.fd = openSync(`/proc/${pid}/status`, 'r');
    } catch {
      // Not Linux, or the process is gone already: nothing to read.
    }
  }

  /** The peak resident memory in MB, rounded up; 0 once the process is gone or closed. */
  get megabytes(): number {
    if (this.fd === undefined) return 0;
    try {
      const kB = PEAK.exec(statusText.toString('latin1', 0, readSync(this.fd, statusText, 0, STATUS_BYTES, 0)))?.[1];
      return kB === undefined ? 0 : Math.ceil(Number(kB) / 1024);
    } catch {
      return 0;
    }
  }

  /** Closes the descriptor; later readings are 0. */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
