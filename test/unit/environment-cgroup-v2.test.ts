/**
 * The cgroup v2 implementation against a fake cgroup folder (plain files standing for the kernel's control files):
 * the limits each environment's group gets, how memory, freezing and killing are read and written, and how the
 * host is chosen and prepared, or refused with its reason. `test/integration/cgroup-v2.test.ts` runs the parts a
 * cgroup2 mount of a v1 machine has (groups, processes, freezing, killing) against the kernel.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cpuWeight, EnvironmentCgroupV2 } from '../../src/runtime/cgroup-v2.js';
import { openCgroupV2Host, ownCgroupPath } from '../../src/runtime/cgroup-v2-host.js';
import { probeCgroupHost } from '../../src/runtime/environment-cgroup.js';

const scratch = mkdtempSync(join(tmpdir(), 'serverfull-cgroup-v2-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;

/** A fake group folder with `files` (name → content) as the kernel would have made them. */
function fakeGroup(files: Record<string, string>, dir = join(scratch, `group-${++folders}`)): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** The control files of an environment's group on a kernel with every controller serverfull needs. */
const GROUP_FILES = {
  'cgroup.procs': '', 'cgroup.freeze': '0', 'cgroup.events': 'populated 0\nfrozen 0\n', 'cgroup.kill': '',
  'memory.max': 'max', 'memory.swap.max': 'max', 'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n',
  'memory.current': '0', 'memory.peak': '0', 'pids.max': 'max', 'cpu.weight': '100',
};

const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8');
const MB = 1024 * 1024;

/** A fake hierarchy root offering `controllers`, with serverfull's folder as mkdir would leave it (`serverfull`: false leaves it out). */
function fakeRoot(controllers: string, serverfull: Record<string, string> | false = { 'cgroup.controllers': controllers, 'cgroup.subtree_control': '', 'cgroup.freeze': '0' }): string {
  const root = fakeGroup({ 'cgroup.controllers': controllers, 'cgroup.subtree_control': '', 'cgroup.procs': '' });
  if (serverfull) fakeGroup(serverfull, join(root, 'serverfull'));
  return root;
}

describe('cgroup v2: an environment group', () => {
  it('gives cpu.weight in proportion to memory: the default 100 for 1,769 MB (one vCPU), within 1 to 10,000', () => {
    for (const [memoryMB, weight] of [[1769, 100], [128, 7], [3538, 200], [10240, 579], [8, 1], [1, 1], [1_000_000, 10_000]] as const) {
      assert.equal(cpuWeight(memoryMB), weight, `${memoryMB} MB`);
    }
  });

  it('removes a group it could not give its limits (a control file the kernel lacks), made for nothing', () => {
    const dir = join(scratch, `new-group-${++folders}`);
    assert.throws(() => new EnvironmentCgroupV2(dir, 128), { code: 'ENOENT' });
    assert.equal(existsSync(dir), false);
  });

  it('writes memory.max, memory.swap.max 0, pids.max and cpu.weight, and joins through its one cgroup.procs', () => {
    const dir = fakeGroup(GROUP_FILES);
    const group = new EnvironmentCgroupV2(dir, 128);
    assert.equal(read(dir, 'memory.max'), String(128 * MB));
    assert.equal(read(dir, 'memory.swap.max'), '0');
    assert.equal(read(dir, 'pids.max'), '1024');
    assert.equal(read(dir, 'cpu.weight'), '7');
    assert.deepEqual(group.procsFiles, [join(dir, 'cgroup.procs')]);
  });

  it('leaves swap alone where the kernel has no swap controller file', () => {
    const { 'memory.swap.max': _swap, ...files } = GROUP_FILES;
    const dir = fakeGroup(files);
    new EnvironmentCgroupV2(dir, 256);
    assert.equal(existsSync(join(dir, 'memory.swap.max')), false);
    assert.equal(read(dir, 'memory.max'), String(256 * MB));
  });

  it('fails rather than run without a limit when a control file is missing (never creates it as a plain file)', () => {
    const { 'memory.max': _max, ...files } = GROUP_FILES;
    const dir = fakeGroup(files);
    assert.throws(() => new EnvironmentCgroupV2(dir, 128), { code: 'ENOENT' });
    assert.equal(existsSync(join(dir, 'memory.max')), false);
  });

  it('writes only the limits of the controllers given: a test mount without them', () => {
    const dir = fakeGroup({ 'cgroup.procs': '', 'cgroup.freeze': '0' });
    new EnvironmentCgroupV2(dir, 128, new Set());
    assert.equal(existsSync(join(dir, 'memory.max')), false);
  });

  it('reads an OOM kill from memory.events oom_kill (not oom_group_kill, not oom alone)', () => {
    const dir = fakeGroup(GROUP_FILES);
    const group = new EnvironmentCgroupV2(dir, 128);
    assert.equal(group.outOfMemory, false);
    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\noom_group_kill 1\n');
    assert.equal(group.outOfMemory, false);
    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\noom_group_kill 0\n');
    assert.equal(group.outOfMemory, true);
  });

  it('reports peak memory from memory.peak, rounded up to MB', () => {
    const dir = fakeGroup(GROUP_FILES);
    const group = new EnvironmentCgroupV2(dir, 128);
    writeFileSync(join(dir, 'memory.peak'), String(40 * MB + 1));
    assert.equal(group.peakMemoryMB, 41);
  });

  it('without memory.peak (before 5.19), reports the most memory.current sampled at reads and freezes', () => {
    const { 'memory.peak': _peak, ...files } = GROUP_FILES;
    const dir = fakeGroup(files);
    const group = new EnvironmentCgroupV2(dir, 128);
    writeFileSync(join(dir, 'memory.current'), String(50 * MB));
    group.freeze();
    writeFileSync(join(dir, 'memory.current'), String(10 * MB));
    assert.equal(group.peakMemoryMB, 50);
    writeFileSync(join(dir, 'memory.current'), String(60 * MB));
    assert.equal(group.peakMemoryMB, 60);
  });

  it('freezes with cgroup.freeze 1, thaws with 0, and reads frozen from cgroup.events', () => {
    const dir = fakeGroup(GROUP_FILES);
    const group = new EnvironmentCgroupV2(dir, 128);
    group.freeze();
    assert.equal(read(dir, 'cgroup.freeze'), '1');
    assert.equal(group.frozen, false, 'the kernel has not said frozen yet');
    writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n');
    assert.equal(group.frozen, true);
    group.thaw();
    assert.equal(read(dir, 'cgroup.freeze'), '0');
  });

  it('throws when freezing fails (the environment then stays unfrozen), and thaws a removed group quietly', () => {
    const dir = join(scratch, 'gone');
    const group = new EnvironmentCgroupV2(fakeGroup(GROUP_FILES, dir), 128);
    rmSync(dir, { recursive: true });
    assert.throws(() => group.freeze());
    group.thaw();
    group.killAll();
  });

  it('kills all through cgroup.kill, and leaves the group thawed', () => {
    const dir = fakeGroup(GROUP_FILES);
    const group = new EnvironmentCgroupV2(dir, 128);
    group.freeze();
    group.killAll();
    assert.equal(read(dir, 'cgroup.kill'), '1');
    assert.equal(read(dir, 'cgroup.freeze'), '0');
  });

  it('without cgroup.kill (before 5.14), freezes, kills every listed process, then thaws', async () => {
    const { 'cgroup.kill': _kill, ...files } = GROUP_FILES;
    const dir = fakeGroup(files);
    const group = new EnvironmentCgroupV2(dir, 128);
    const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => sleeper.once('exit', (_code, signal) => resolve(signal)));
    writeFileSync(join(dir, 'cgroup.procs'), `${sleeper.pid}\n`);
    assert.deepEqual(group.processes(), [sleeper.pid]);
    group.killAll();
    assert.equal(await exited, 'SIGKILL');
    assert.equal(read(dir, 'cgroup.freeze'), '0');
    assert.equal(existsSync(join(dir, 'cgroup.kill')), false);
  });
});

describe('cgroup v2: the host', () => {
  it('prepares <root>/serverfull with memory, pids and cpu enabled for its children, where the root is writable', () => {
    const root = fakeRoot('cpuset cpu io memory hugetlb pids rdma misc');
    const host = openCgroupV2Host(root, { selfCgroup: '0::/\n' });
    assert.ok(typeof host !== 'string', String(host));
    assert.equal(host.version, 2);
    assert.equal(host.groups, join(root, 'serverfull'));
    assert.equal(read(root, 'cgroup.subtree_control'), '+memory +pids +cpu');
    assert.equal(read(host.groups, 'cgroup.subtree_control'), '+memory +pids +cpu');
    const dir = fakeGroup(GROUP_FILES, join(host.groups, '1-1'));
    const group = host.create('1-1', 1769);
    assert.deepEqual(group.procsFiles, [join(dir, 'cgroup.procs')]);
    assert.equal(read(dir, 'cpu.weight'), '100');
  });

  it('enables only the controllers not enabled yet', () => {
    const root = fakeRoot('cpu memory pids');
    writeFileSync(join(root, 'cgroup.subtree_control'), 'cpu memory');
    assert.ok(typeof openCgroupV2Host(root) !== 'string');
    assert.equal(read(root, 'cgroup.subtree_control'), '+pids');
  });

  it('refuses, naming them, when memory, pids or cpu are not available (bound to v1, or disabled)', () => {
    const host = openCgroupV2Host(fakeRoot('cpuset io hugetlb', false));
    assert.equal(typeof host, 'string');
    assert.match(host as string, /lacks the memory, pids, cpu controllers \(cgroup\.controllers: "cpuset io hugetlb"\)/);
    assert.match(host as string, /never runs without its memory and process limits/);
    const noPids = openCgroupV2Host(fakeRoot('cpu memory', false));
    assert.match(noPids as string, /lacks the pids controller \(/);
  });

  it('falls back to its own cgroup (0:: in /proc/self/cgroup) where it cannot create <root>/serverfull', () => {
    const root = fakeRoot('cpu memory pids', false);
    // A plain file where the folder would go: the mkdir fails, as it does for a user without rights at the root.
    writeFileSync(join(root, 'serverfull'), '');
    const own = fakeGroup({ 'cgroup.controllers': 'cpu memory pids', 'cgroup.subtree_control': '', 'cgroup.procs': '' }, join(root, 'system.slice', 'serverfull.service'));
    fakeGroup({ 'cgroup.controllers': 'cpu memory pids', 'cgroup.subtree_control': '', 'cgroup.freeze': '0' }, join(own, 'serverfull'));
    const host = openCgroupV2Host(root, { selfCgroup: '1:name=systemd:/x\n0::/system.slice/serverfull.service\n' });
    assert.ok(typeof host !== 'string', String(host));
    assert.equal(host.groups, join(own, 'serverfull'));
    assert.equal(read(own, 'cgroup.subtree_control'), '+memory +pids +cpu');
    assert.equal(read(root, 'cgroup.subtree_control'), '', 'the root is left alone');
  });

  it('refuses, saying how to delegate, where its own cgroup lacks the controllers or it is in none', () => {
    const root = fakeRoot('cpu memory pids', false);
    writeFileSync(join(root, 'serverfull'), '');
    fakeGroup({ 'cgroup.controllers': 'cpu', 'cgroup.subtree_control': '', 'cgroup.procs': '' }, join(root, 'user.slice', 'session-2.scope'));
    const notDelegated = openCgroupV2Host(root, { selfCgroup: '0::/user.slice/session-2.scope\n' });
    assert.match(notDelegated as string, /own cgroup .*session-2\.scope lacks the memory, pids controllers: run as root, or in a cgroup delegated .*Delegate=yes/);
    assert.match(openCgroupV2Host(root, { selfCgroup: '4:memory:/\n' }) as string, /in no cgroup v2 group/);
  });

  it('refuses where no cgroup2 is mounted', () => {
    assert.match(openCgroupV2Host(join(scratch, 'nothing-here')) as string, /no cgroup v2 hierarchy is mounted at/);
  });

  it('refuses without the v2 freezer (before Linux 5.2)', () => {
    const root = fakeRoot('cpu memory pids', { 'cgroup.controllers': 'cpu memory pids', 'cgroup.subtree_control': '' });
    assert.match(openCgroupV2Host(root) as string, /no cgroup v2 freezer/);
  });

  it('reads its own group from the 0:: line of /proc/self/cgroup', () => {
    assert.equal(ownCgroupPath('0::/system.slice/serverfull.service\n'), '/system.slice/serverfull.service');
    assert.equal(ownCgroupPath('12:pids:/\n1:name=systemd:/user.slice\n0::/user.slice/user-1000.slice/session-2.scope\n'), '/user.slice/user-1000.slice/session-2.scope');
    assert.equal(ownCgroupPath('0::/\n'), '/');
    assert.equal(ownCgroupPath('4:memory:/x\n'), undefined);
    assert.equal(ownCgroupPath('0::/../outside\n'), undefined);
    assert.equal(ownCgroupPath('0::/gone (deleted)\n'), undefined);
  });

  it('is chosen where cgroup.controllers is at the system root and no v1 hierarchy is, or where the test override points', () => {
    const unified = fakeRoot('cpu memory pids');
    const chosen = probeCgroupHost({}, unified);
    assert.ok(typeof chosen !== 'string' && chosen.version === 2, String(chosen));
    const overridden = probeCgroupHost({ SERVERFULL_CGROUP2_ROOT: fakeRoot('memory') }, unified);
    assert.match(overridden as string, /lacks the pids, cpu controllers/);
    // A hybrid host (v1 hierarchies, cgroup2 at unified/) stays on v1, whatever v1's state here.
    const hybrid = fakeRoot('cpu memory pids');
    fakeGroup({ 'cgroup.procs': '' }, join(hybrid, 'memory'));
    const v1 = probeCgroupHost({}, hybrid);
    assert.ok(typeof v1 === 'string' || v1.version === 1, `not v2: ${typeof v1 === 'string' ? v1 : v1.version}`);
  });
});
