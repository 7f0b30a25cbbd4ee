/**
 * The cgroup v2 implementation against the kernel: a cgroup2 hierarchy mounted in a temporary folder (this
 * project's machines run v1, where such a mount offers no memory, pids or cpu controller, but real groups,
 * `cgroup.procs`, `cgroup.freeze`, `cgroup.events` and `cgroup.kill`). A real process tree joins a group, is frozen
 * (and seen stopped), thawed, killed while frozen, detached children included; groups a dead server left are removed;
 * a busy group hands controllers down after its processes move to a leaf; and the host is refused, with its reason,
 * for lacking memory, pids and cpu. Needs root to mount: skipped otherwise, saying why.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { EnvironmentCgroupV2 } from '../../src/runtime/cgroup-v2.js';
import { openCgroupV2Host, prepareSubtree } from '../../src/runtime/cgroup-v2-host.js';
import { removeLeftoverGroupsV2 } from '../../src/runtime/cgroup-v2.js';
import { probeCgroupHost } from '../../src/runtime/environment-cgroup.js';
import { waitUntil } from '../helpers/wait-until.js';

/** Why this file cannot mount a cgroup2 hierarchy here; undefined when it has. */
let skipReason: string | undefined;
let mount = '';
/** The test's own folder in the hierarchy (the hierarchy is the machine's one v2 hierarchy, shared). */
let base = '';
const started: ChildProcess[] = [];

function mountCgroup2(): string | undefined {
  if (process.platform !== 'linux') return `cgroups need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting a cgroup2 hierarchy needs root';
  mount = mkdtempSync(join(tmpdir(), 'serverfull-cgroup2-'));
  const mounted = spawnSync('mount', ['-t', 'cgroup2', 'none', mount], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmdirSync(mount);
    return `cannot mount cgroup2 (${(mounted.stderr || mounted.error?.message || `exit ${mounted.status}`).trim()})`;
  }
  base = join(mount, `serverfull-test-${process.pid}`);
  mkdirSync(base);
  return undefined;
}

/** Removes every group under `dir`, deepest first, then `dir` (their processes are dead by then). */
function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeTree(join(dir, entry.name));
  try {
    rmdirSync(dir);
  } catch {
    // Still busy: left to the kernel's view; the unmount below is lazy.
  }
}

before(() => {
  skipReason = mountCgroup2();
});

after(() => {
  for (const child of started) child.kill('SIGKILL');
  if (skipReason !== undefined) return;
  removeTree(base);
  if (spawnSync('umount', [mount]).status !== 0) spawnSync('umount', ['-l', mount]);
  try {
    rmdirSync(mount);
  } catch {
    // Unmounted lazily: the folder frees once the kernel lets go.
  }
});

function skipped(t: { skip: (message: string) => void }): boolean {
  if (skipReason === undefined) return false;
  t.skip(skipReason);
  return true;
}

/** The state letter of `pid` (R running, S sleeping, Z zombie...), or undefined once gone. */
function stateOf(pid: number): string | undefined {
  try {
    return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
  } catch {
    return undefined;
  }
}

/** Whether `pid` is gone or dead (a zombie waits for its parent only). */
function dead(pid: number): boolean {
  const state = stateOf(pid);
  return state === undefined || state === 'Z' || state === 'X';
}

/**
 * A shell that, once told to (a line on stdin), starts a sleeping child, a detached one (its own session), and spins:
 * started outside any group, so that it joins first and forks after, as the sandbox's wrapper does.
 */
function processTree(): { child: ChildProcess; go: () => void } {
  const child = spawn('/bin/sh', ['-c', 'read go; sleep 1000 & setsid sleep 1000 & while :; do :; done'], { stdio: ['pipe', 'ignore', 'ignore'] });
  started.push(child);
  return { child, go: () => child.stdin!.write('go\n') };
}

describe('cgroup v2 against the kernel (a cgroup2 mount)', () => {
  // The cgroup code waits on unreferenced timers (it must not hold a server open): while a test awaits them, keep
  // this process's event loop alive, or Node.js ends the test as "still pending" once nothing else is left.
  let hold: NodeJS.Timeout | undefined;
  beforeEach(() => void (hold = setInterval(() => {}, 1000)));
  afterEach(() => clearInterval(hold));

  it('refuses the host, naming the controllers it lacks: never a sandbox without memory and process limits', (t) => {
    if (skipped(t)) return;
    const available = readFileSync(join(mount, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    if (['memory', 'pids', 'cpu'].every((name) => available.includes(name))) return t.skip('this kernel offers memory, pids and cpu on cgroup v2: nothing lacks');
    const host = probeCgroupHost({ SERVERFULL_CGROUP2_ROOT: mount });
    assert.equal(typeof host, 'string');
    assert.match(host as string, /^cgroup v2 at .* lacks the (memory|pids|cpu)/);
    assert.equal(existsSync(join(mount, 'serverfull')) && readdirSync(join(mount, 'serverfull')).length > 0, false);
    // The sandbox probe of a fresh server process says the same, so `--sandbox on` refuses and `auto` warns with it.
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e',
      `const { probeSandboxHost } = await import(${JSON.stringify(new URL('../../src/runtime/sandbox-support.js', import.meta.url).href)}); console.log(JSON.stringify(probeSandboxHost()));`,
    ], { encoding: 'utf8', env: { ...process.env, SERVERFULL_CGROUP2_ROOT: mount } });
    assert.equal(probe.status, 0, probe.stderr);
    const said = JSON.parse(probe.stdout) as unknown;
    // Without bubblewrap the probe stops before cgroups: then it names that instead.
    if (typeof said === 'string' && !/bubblewrap/.test(said)) assert.match(said, /lacks the (memory|pids|cpu)/);
    else assert.equal(typeof said, 'string', 'never a sandbox host without the controllers');
  });

  it('joins a process tree to a group, freezes it (stopped, frozen 1), thaws it, kills it frozen with cgroup.kill, removes the group', async (t) => {
    if (skipped(t)) return;
    const prepared = prepareSubtree(base, []);
    assert.ok(typeof prepared !== 'string', String(prepared));
    const group = new EnvironmentCgroupV2(join(prepared.groups, `${process.pid}-1`), 128, new Set());
    const { child, go } = processTree();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    writeFileSync(group.procsFiles[0]!, String(child.pid));
    go();
    await waitUntil(() => group.processes().length === 3, 'the shell and its two sleeps are in the group', { detail: () => String(group.processes()) });
    const pids = group.processes();
    assert.ok(pids.includes(child.pid!));
    await waitUntil(() => stateOf(child.pid!) === 'R', 'the shell spins');

    group.freeze();
    await waitUntil(() => group.frozen, 'cgroup.events says frozen 1', { detail: () => readFileSync(join(group.dir, 'cgroup.events'), 'utf8') });
    assert.match(readFileSync(join(group.dir, 'cgroup.events'), 'utf8'), /^frozen 1$/m);
    // A frozen task waits in the kernel's freezer trap: the spinning shell is no longer running.
    for (const pid of pids) assert.equal(stateOf(pid), 'S', `process ${pid} is stopped`);

    group.thaw();
    await waitUntil(() => !group.frozen, 'cgroup.events says frozen 0');
    await waitUntil(() => stateOf(child.pid!) === 'R', 'the shell spins again');

    group.freeze();
    await waitUntil(() => group.frozen, 'frozen again');
    group.killAll();
    await exited;
    await waitUntil(() => pids.every(dead), 'every process of the tree is dead, the detached sleep included', { detail: () => pids.map((pid) => `${pid}:${stateOf(pid)}`).join(' ') });
    await waitUntil(() => group.processes().length === 0, 'the group is empty');
    assert.equal(group.frozen, false, 'left thawed');
    await group.remove();
    assert.equal(existsSync(group.dir), false);
  });

  it('removes the groups a dead server left, killing their processes, and keeps a live server\'s', async (t) => {
    if (skipped(t)) return;
    const prepared = prepareSubtree(join(base, 'leftovers'), []);
    assert.ok(typeof prepared !== 'string', String(prepared));
    const deadServer = spawnSync('true').pid;
    const leftover = new EnvironmentCgroupV2(join(prepared.groups, `${deadServer}-1`), 128, new Set());
    const live = new EnvironmentCgroupV2(join(prepared.groups, `${process.pid}-2`), 128, new Set());
    const { child, go } = processTree();
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    writeFileSync(leftover.procsFiles[0]!, String(child.pid));
    go();
    await waitUntil(() => leftover.processes().length === 3, 'the tree is in the leftover group');
    const pids = leftover.processes();
    leftover.freeze();
    await waitUntil(() => leftover.frozen, 'the leftover group is frozen, as a crash between invocations leaves it');

    await removeLeftoverGroupsV2(prepared.groups);
    assert.equal(await exited, 'SIGKILL');
    await waitUntil(() => pids.every(dead), 'every process of the leftover group is dead');
    assert.equal(existsSync(leftover.dir), false, 'the dead server\'s group is removed');
    assert.equal(existsSync(live.dir), true, 'a live server\'s group stays');
    await live.remove();
  });

  it('moves a busy group\'s processes into a leaf before enabling a controller for its children (no internal processes)', async (t) => {
    if (skipped(t)) return;
    const available = readFileSync(join(mount, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
    const controller = available[0];
    if (controller === undefined) return t.skip('this cgroup2 mount offers no controller to enable');
    // The hierarchy's root must hand it down for the test's group to have it; the root is shared, so the test
    // takes it back after only if it enabled it.
    const rootControl = join(mount, 'cgroup.subtree_control');
    const enabledHere = !readFileSync(rootControl, 'utf8').split(/\s+/).includes(controller);
    if (enabledHere) writeFileSync(rootControl, `+${controller}`);
    const baseControl = join(base, 'cgroup.subtree_control');
    const busy = join(base, 'busy');
    mkdirSync(busy);
    try {
      writeFileSync(baseControl, `+${controller}`);
      const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
      started.push(sleeper);
      writeFileSync(join(busy, 'cgroup.procs'), String(sleeper.pid));
      assert.throws(() => writeFileSync(join(busy, 'cgroup.subtree_control'), `+${controller}`), { code: 'EBUSY' }, 'the kernel enforces the rule');

      const prepared = prepareSubtree(busy, [controller]);
      assert.ok(typeof prepared !== 'string', String(prepared));
      assert.equal(readFileSync(join(busy, 'server', 'cgroup.procs'), 'utf8').trim(), String(sleeper.pid), 'the process moved to the leaf');
      assert.equal(readFileSync(join(busy, 'cgroup.procs'), 'utf8').trim(), '');
      assert.ok(readFileSync(join(busy, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes(controller));
      assert.ok(readFileSync(join(prepared.groups, 'cgroup.controllers'), 'utf8').split(/\s+/).includes(controller), 'serverfull\'s groups get it');
      assert.ok(readFileSync(join(prepared.groups, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes(controller), 'and hand it to environments');

      const gone = new Promise((resolve) => sleeper.once('exit', resolve));
      sleeper.kill('SIGKILL');
      await gone;
      // Controllers are handed back before the groups go, so that the root's can be taken back.
      writeFileSync(join(prepared.groups, 'cgroup.subtree_control'), `-${controller}`);
      writeFileSync(join(busy, 'cgroup.subtree_control'), `-${controller}`);
    } finally {
      removeTree(busy);
      try {
        writeFileSync(baseControl, `-${controller}`);
      } catch {
        // Never enabled.
      }
      if (enabledHere) {
        try {
          writeFileSync(rootControl, `-${controller}`);
        } catch {
          // Another user of the hierarchy enabled it below meanwhile: theirs now.
        }
      }
    }
  });

  it('opens a host at a writable root for real (given only the controllers this mount has)', (t) => {
    if (skipped(t)) return;
    const host = openCgroupV2Host(base, { controllers: [] });
    assert.ok(typeof host !== 'string', String(host));
    assert.equal(host.groups, join(base, 'serverfull'));
    const group = host.create(`${process.pid}-9`, 128);
    assert.deepEqual(group.processes(), []);
    return group.remove().then(() => assert.equal(existsSync(join(host.groups, `${process.pid}-9`)), false));
  });
});
