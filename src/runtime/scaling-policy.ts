/**
 * @module runtime/scaling-policy
 * When an invocation that finds every environment of its function busy starts a new one, or waits for
 * one of them. Lambda starts a new environment for every such invocation, on hardware of its own. Here
 * every environment shares the host's few cores: on a saturated host, 32 environments of a function
 * that runs for a millisecond do no more work than 4, each runs 1/32 of the calls (so its JIT never
 * warms up), and together they cost more CPU per call than the calls themselves. `measured` scaling
 * (the default) starts a new environment while the host has room for it (idle CPU, and a server loop
 * that is not the bottleneck), as Lambda would; without room an invocation waits for a busy
 * environment instead, but never longer than a cold start of that function takes, after which it
 * starts one anyway: a wait is bounded by what Lambda's scaling would have cost the same invocation.
 * `eager` is Lambda's rule as is.
 */
import { availableParallelism } from 'node:os';
import { MeasuredHostLoad, type HostLoad } from './host-load.js';

/** The scaling modes, as the `scaling` setting names them. */
export const SCALING_MODES = ['measured', 'eager'] as const;
/** `measured`: scale out while the host has idle CPU, else wait at most a cold start; `eager`: always scale out, as Lambda. */
export type ScalingMode = (typeof SCALING_MODES)[number];

/** What a pool knows when it decides. */
export interface ScalingState {
  /** Environments of the pool, idle, busy or starting. */
  readonly live: number;
  /** Environments of the pool still in their init. */
  readonly starting: number;
  /** How long the oldest waiting invocation has waited, in ms (0: none is waiting yet). */
  readonly waitedMs: number;
  /** How long a cold start of this function takes, in ms, as measured. */
  readonly coldStartMs: number;
}

/** Decides, for a pool whose environments are all busy, whether a new one starts now. */
export class ScalingPolicy {
  constructor(
    readonly mode: ScalingMode,
    private readonly host: HostLoad = new MeasuredHostLoad(),
    /** Environments of one function starting at once, at most: more only share the same cores, each starting slower. */
    readonly maxStarting = Math.max(2, availableParallelism()),
  ) {}

  /** Whether to start a new environment now rather than wait for a busy one. */
  mayStart(state: ScalingState, now: number): boolean {
    if (this.mode === 'eager' || state.live === 0) return true;
    if (state.starting >= this.maxStarting) return false;
    return state.waitedMs >= state.coldStartMs || this.host.hasRoom(now);
  }
}
