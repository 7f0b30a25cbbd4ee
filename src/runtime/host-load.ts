/**
 * @module runtime/host-load
 * Whether the host has room for one more busy environment: idle CPU, and a server event loop that is
 * not itself the bottleneck (it carries every invocation in and out, whatever the environments do).
 * Both are measured over the last window of at least `WINDOW_MS`, from the kernel's CPU counters
 * (`os.cpus()`, `/proc/stat` on Linux) and the loop's own utilization. The scaling policy asks only when
 * an invocation finds every environment busy, so the warm path never pays for it.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

/** The shortest window measured: a shorter one mostly shows which process had the last scheduler tick. */
const WINDOW_MS = 200;
/** Room needs at least this share of the host's CPU time idle: half a core of two. */
const MIN_IDLE_SHARE = 0.25;
/** Past this share of its time busy, the server's loop is what limits throughput: more environments only wait on it. */
const MAX_LOOP_UTILIZATION = 0.8;

/** What the scaling policy needs to know of the host; a fake in tests. */
export interface HostLoad {
  /** Whether another environment running at once would get CPU time and be fed by the server; a yes is for one environment. */
  hasRoom(now: number): boolean;
}

/** The counters a window is the difference of, all in ms since some fixed point. */
export interface HostCounters {
  /** CPU time of all cores, idle and in all. */
  readonly cpuIdle: number;
  readonly cpuTotal: number;
  /** The server's event loop: time busy and time waiting for events. */
  readonly loopActive: number;
  readonly loopIdle: number;
}

/** The kernel's CPU counters and this thread's event loop utilization. */
function readHostCounters(): HostCounters {
  let cpuIdle = 0;
  let cpuTotal = 0;
  for (const { times } of cpus()) {
    cpuIdle += times.idle;
    cpuTotal += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  const { active, idle } = performance.eventLoopUtilization();
  return { cpuIdle, cpuTotal, loopActive: active, loopIdle: idle };
}

/** The host's load as the kernel and the server's event loop report it. */
export class MeasuredHostLoad implements HostLoad {
  private measuredAt = -Infinity;
  /** The first window starts at boot and at the loop's start: as good a guess as any. */
  private last: HostCounters = { cpuIdle: 0, cpuTotal: 0, loopActive: 0, loopIdle: 0 };

  /** Reads the host through `read` (a fake in tests). */
  constructor(private readonly read: () => HostCounters = readHostCounters) {}

  hasRoom(now: number): boolean {
    // Within a window the answer is no, whatever it measured: a yes starts an environment, which takes the room it saw,
    // and the next window, which starts when this one was measured, sees that environment at work (or at its init).
    // One window's idle CPU never starts two environments at once.
    if (now - this.measuredAt < WINDOW_MS) return false;
    const counters = this.read();
    const cpu = counters.cpuTotal - this.last.cpuTotal;
    const idleShare = cpu > 0 ? (counters.cpuIdle - this.last.cpuIdle) / cpu : 1;
    const loopActive = counters.loopActive - this.last.loopActive;
    const loop = loopActive + counters.loopIdle - this.last.loopIdle;
    const loopShare = loop > 0 ? loopActive / loop : 0;
    this.last = counters;
    this.measuredAt = now;
    return idleShare >= MIN_IDLE_SHARE && !(loopShare > MAX_LOOP_UTILIZATION);
  }
}
