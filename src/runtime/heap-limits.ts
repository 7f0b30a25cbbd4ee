/**
 * @module runtime/heap-limits
 * The V8 heap an environment of `memorySize` MB gets, young and old generation together within `memorySize`.
 * V8 sizes the young generation from the machine, not from the old generation's limit: a process with
 * `--max-old-space-size=256` (or a worker with `maxOldGenerationSizeMb: 256`) may grow its young generation to
 * 192 MB more (a heap limit of 448 MB), and under load every worker's young generation grows to several MB of
 * resident pages that a small function never needs. Lambda caps the whole environment at `memorySize`.
 */

/** The heap sizes in MB, each as V8's options name it. */
export interface HeapLimits {
  /** One semi-space (`--max-semi-space-size`); the young generation is three of them. */
  readonly semiSpaceMb: number;
  /** The young generation (`resourceLimits.maxYoungGenerationSizeMb`). */
  readonly youngGenerationMb: number;
  /** The old generation (`--max-old-space-size`, `resourceLimits.maxOldGenerationSizeMb`): the rest of `memorySize`. */
  readonly oldGenerationMb: number;
}

/** MB of memorySize per MB of semi-space: 2 MB for a 256 MB function, 8 for 1,024 MB (V8's own ratio for small heaps). */
const MEMORY_PER_SEMI_SPACE_MB = 128;
/** V8's default largest semi-space on 64-bit machines; larger ones stop paying off. */
const MAX_SEMI_SPACE_MB = 16;

/** The heap of an environment of `memorySize` MB (Lambda's 128 to 10,240). */
export function heapLimits(memorySize: number): HeapLimits {
  const semiSpaceMb = Math.min(MAX_SEMI_SPACE_MB, Math.max(1, Math.floor(memorySize / MEMORY_PER_SEMI_SPACE_MB)));
  const youngGenerationMb = 3 * semiSpaceMb;
  return { semiSpaceMb, youngGenerationMb, oldGenerationMb: memorySize - youngGenerationMb };
}

/** The Node.js options that give a runtime process the heap of `memorySize` MB. */
export function heapLimitArguments(memorySize: number): string[] {
  const { semiSpaceMb, oldGenerationMb } = heapLimits(memorySize);
  return [`--max-old-space-size=${oldGenerationMb}`, `--max-semi-space-size=${semiSpaceMb}`];
}
