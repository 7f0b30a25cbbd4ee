/** A thread's scheduling policy, as the tests of SCHED_BATCH read it. */
import { readFileSync } from 'node:fs';

/** `SCHED_BATCH`'s number in `/proc/<id>/stat`; the normal policy is 0. */
export const SCHED_BATCH = 3;

/** The scheduling policy of a thread or process (field 41 of its stat): 0 normal, 3 SCHED_BATCH. */
export function schedulingPolicyOf(id: number | 'thread-self'): number {
  const stat = readFileSync(`/proc/${id}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
}
