/**
 * Sandboxed process environments are frozen between invocations, as Lambda freezes them: a timer a
 * handler leaves running does not tick while no invocation runs, and ticks again in the next one.
 * Stopping the server thaws and kills a frozen environment. Skipped only where the host cannot sandbox.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { SANDBOX_UNUSABLE } from '../helpers/sandbox-host.js';
import { waitUntil } from '../helpers/wait-until.js';

const ROOT = join(FIXTURES, 'sandbox-freeze');
const FREEZER = '/sys/fs/cgroup/freezer/serverfull';
/** The fixture's timer period, and the test's own witness of time passing. */
const TICK_MS = 10;

/** This process's environment groups in the freezer hierarchy (`<pid>-<n>`; not the group that holds the freezer on). */
function ownFreezerGroups(): string[] {
  const own = new RegExp(`^${process.pid}-\\d+$`);
  return existsSync(FREEZER) ? readdirSync(FREEZER).filter((name) => own.test(name)) : [];
}

function freezerState(group: string): string {
  try {
    return readFileSync(join(FREEZER, group, 'freezer.state'), 'utf8').trim();
  } catch {
    return '';
  }
}

function groupProcesses(group: string): number[] {
  try {
    return readFileSync(join(FREEZER, group, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The fixture's tick count, read in the sandbox's own /tmp through one of its processes' root. */
function ticksIn(group: string): number | undefined {
  for (const pid of groupProcesses(group)) {
    try {
      return Number(readFileSync(`/proc/${pid}/root/tmp/ticks`, 'utf8'));
    } catch {
      // Not a process of the sandbox's mount namespace (the shell or bwrap outside it), or no tick yet.
    }
  }
  return undefined;
}

/** Whether `pid` still runs (a zombie does not). */
function running(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'latin1'));
  } catch {
    return false;
  }
}

/** Resolves after `count` periods of a timer of the test's own: time in which an unfrozen fixture timer ticks too. */
async function ownTicks(count: number): Promise<void> {
  let seen = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (++seen < count) return;
      clearInterval(timer);
      resolve();
    }, TICK_MS);
  });
}

/** Invokes, and returns the group the invocation created (the environment's), frozen once its runtime waits. */
async function frozenAfter(fx: FixtureServer, before: ReadonlySet<string>, event: unknown): Promise<{ group: string; json: any }> {
  const out = await fx.invoke('ticker', event);
  assert.equal(out.FunctionError, undefined, out.text);
  const made = ownFreezerGroups().filter((name) => !before.has(name));
  assert.equal(made.length, 1, `one environment group: ${made.join(', ')}`);
  const group = made[0]!;
  await waitUntil(() => freezerState(group) === 'FROZEN', 'the environment is frozen', { detail: () => freezerState(group) });
  return { group, json: out.json };
}

describe('freezing sandboxed environments between invocations', { skip: SANDBOX_UNUSABLE ?? false }, () => {
  let fx: FixtureServer;

  before(async () => {
    fx = await startFixtureServer({
      config: undefined, root: ROOT, isolation: 'process', sandbox: 'on',
      functions: { ticker: { handler: 'ticker.handler', timeout: 60 } },
    });
  });

  after(async () => {
    await fx.close();
  });

  it('a timer left running does not tick between invocations, and ticks again in the next one', async () => {
    const { group } = await frozenAfter(fx, new Set(ownFreezerGroups()), { start: true, everyMs: TICK_MS, waitForTicks: 2 });
    const frozenAt = ticksIn(group);
    assert.ok(frozenAt !== undefined && frozenAt >= 2, `the ticks are readable: ${frozenAt}`);
    // Fifty periods of the same timer in this process: a timer that runs ticks in them (a loaded machine delays
    // it, which can only make this pass wrongly, never fail wrongly).
    await ownTicks(50);
    assert.equal(freezerState(group), 'FROZEN');
    assert.equal(ticksIn(group), frozenAt, 'no tick while frozen');

    const next = await fx.invoke('ticker', { waitForTicks: 3 });
    assert.equal(next.FunctionError, undefined, next.text);
    assert.ok(next.json.from >= frozenAt, JSON.stringify(next.json));
    assert.ok(next.json.ticks >= next.json.from + 3, JSON.stringify(next.json));
    // And frozen again once the runtime waits for the next event.
    await waitUntil(() => freezerState(group) === 'FROZEN', 'the environment is frozen again', { detail: () => freezerState(group) });
  });

  it('stopping the server thaws and kills a frozen environment, and removes its groups', async () => {
    const server = await startFixtureServer({
      config: undefined, root: ROOT, isolation: 'process', sandbox: 'on',
      functions: { ticker: { handler: 'ticker.handler', timeout: 60 } },
    });
    const { group } = await frozenAfter(server, new Set(ownFreezerGroups()), { start: true });
    const pids = groupProcesses(group);
    assert.ok(pids.length > 0, 'the environment has processes');
    await server.close();
    await waitUntil(() => pids.every((pid) => !running(pid)), 'every process of the environment is gone', {
      detail: () => pids.filter(running).join(', '),
    });
    await waitUntil(() => !ownFreezerGroups().includes(group), 'the environment\'s group is removed');
  });
});
