/**
 * @module runtime/host-load
 * Whether the host has room for one more busy environment: idle CPU, and a server event loop that is
 * not itself the bottleneck (it carries every invocation in and out, whatever the environments do).
 * Both are measured over the last window of at least `WINDOW_MS`, from the kernel's CPU counters
 * (`os.cpus()`, `/proc/stat` on Linux) and the loop's own utilization. The scaling policy asks only when
 * an invocation finds every environment busy, so the warm path never pays for it.
 */
import { cpus } from 'node:os';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** The shortest window measured: a shorter one mostly shows which process had the last scheduler tick. */
const WINDOW_MS = 200;
/** Room needs at least this share of the host's CPU time idle: half a core of two. */
const MIN_IDLE_SHARE = 0.25;
/** Past this share of its time busy, the server's loop is what limits throughput: more environments only wait on it. */
const MAX_LOOP_UTILIZATION = 0.8;

/** What the scaling policy needs to know of the host; a fake in tests. */
export interface HostLoad {
  /** Whether another environment running at once would get CPU time and be fed by the server. */
  hasRoom(now: number): boolean;
}

/** The host's load as the kernel and the server's event loop report it. */
export class MeasuredHostLoad implements HostLoad {
  private measuredAt = -Infinity;
  private idle = 0;
  private total = 0;
  private loop: EventLoopUtilization | undefined;
  private room = true;

  hasRoom(now: number): boolean {
    if (now - this.measuredAt < WINDOW_MS) return this.room;
    let idle = 0;
    let total = 0;
    for (const { times } of cpus()) {
      idle += times.idle;
      total += times.user + times.nice + times.sys + times.idle + times.irq;
    }
    const loop = performance.eventLoopUtilization();
    // The first window starts at boot and at the loop's start: as good a guess as any.
    const idleShare = total > this.total ? (idle - this.idle) / (total - this.total) : 1;
    const loopShare = performance.eventLoopUtilization(loop, this.loop).utilization;
    this.room = idleShare >= MIN_IDLE_SHARE && !(loopShare > MAX_LOOP_UTILIZATION);
    this.idle = idle;
    this.total = total;
    this.loop = loop;
    this.measuredAt = now;
    return this.room;
  }
}
