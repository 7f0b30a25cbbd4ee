/**
 * @module logs/ordered-merge
 * Merging ordered sources lazily, so that a page of a log stops reading once it is full: sources
 * that are each in order (SQL statements), and blocks whose items are in no order but whose bounds
 * are known (record blocks, read in the order of their bound and each sorted once read).
 */

/** The items of `sources`, each already in order, in the order `before` says; stop iterating and the rest is not read. */
export function* mergeSources<T>(sources: ReadonlyArray<Iterator<T>>, before: (a: T, b: T) => boolean): Generator<T> {
  const heads = sources.map((source) => source.next());
  try {
    for (;;) {
      let next = -1;
      for (let index = 0; index < heads.length; index++) {
        const head = heads[index]!;
        if (!head.done && (next < 0 || before(head.value, heads[next]!.value as T))) next = index;
      }
      if (next < 0) return;
      yield heads[next]!.value as T;
      heads[next] = sources[next]!.next();
    }
  } finally {
    // An unfinished statement would keep its read open.
    for (const source of sources) source.return?.(undefined);
  }
}

/**
 * The items of `blocks` in the order `before` says. Blocks come in the order of their bound: `mayHold(block, item)` says
 * whether a block's items may come before (or with) `item`; until a block may not, it is read before `item` is given.
 */
export function* mergeBlocks<B, T>(
  blocks: Iterator<B>, expand: (block: B) => T[], before: (a: T, b: T) => boolean, mayHold: (block: B, item: T) => boolean,
): Generator<T> {
  /** Blocks read and not yet given out, each sorted, with the position of its next item. */
  const runs: Array<{ items: T[]; at: number }> = [];
  let next = blocks.next();
  try {
    for (;;) {
      let best = -1;
      for (let index = 0; index < runs.length; index++) {
        const run = runs[index]!;
        if (best < 0 || before(run.items[run.at]!, runs[best]!.items[runs[best]!.at]!)) best = index;
      }
      if (!next.done && (best < 0 || mayHold(next.value, runs[best]!.items[runs[best]!.at]!))) {
        const items = expand(next.value).sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
        if (items.length > 0) runs.push({ items, at: 0 });
        next = blocks.next();
        continue;
      }
      if (best < 0) return;
      const run = runs[best]!;
      yield run.items[run.at++]!;
      if (run.at === run.items.length) runs.splice(best, 1);
    }
  } finally {
    blocks.return?.(undefined);
  }
}
