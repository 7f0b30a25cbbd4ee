/**
 * @module test/helpers/gate
 * A gate that fixture functions stop at: each invocation given `{ gate: gate.dir }` marks its
 * arrival with a file and waits until the test opens the gate. The test knows for sure that
 * invocations are in flight, and decides when they finish, instead of sleeping and hoping.
 * (The function side: `test/fixtures/functions/gate.mjs`, and a copy in `zip-fixture.ts`.)
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from './wait-until.js';

/** A gate in a fresh temporary folder. */
export interface Gate {
  /** The folder: give it to a function as `{ gate: dir }`. */
  readonly dir: string;
  /** Invocations that have arrived at the gate so far. */
  arrivals(): number;
  /** Resolves once `count` invocations have arrived (and wait). */
  arrived(count?: number): Promise<void>;
  /** Lets every waiting invocation, and every later one, through. */
  open(): void;
  /** Removes the folder, once no invocation waits at the gate any more. */
  remove(): void;
}

/** A closed gate. */
export function gate(): Gate {
  const dir = mkdtempSync(join(tmpdir(), 'serverfull-gate-'));
  const arrivals = () => {
    try {
      return readdirSync(dir).filter((name) => name.startsWith('arrived-')).length;
    } catch {
      return 0;
    }
  };
  const open = () => writeFileSync(join(dir, 'open'), '');
  return {
    dir,
    arrivals,
    arrived: (count = 1) => waitUntil(() => arrivals() >= count, `${count} invocation(s) arrive at the gate ${dir}`, { detail: () => `${arrivals()} arrived` }),
    open,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
