/**
 * The cgroup v1 implementation against the kernel (the hierarchies this machine mounts): a group that cannot be made
 * leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CGROUP_CONTROLLERS, cgroupsUnusableReason, EnvironmentCgroupV1 } from '../../src/runtime/cgroup-v1.js';
import { SERVERFULL_GROUP } from '../../src/runtime/cgroup-names.js';

const unusable = cgroupsUnusableReason();

describe('cgroup v1 against the kernel', () => {
  it('removes the groups of an environment whose limits the kernel refuses, and keeps no descriptor', { skip: unusable }, () => {
    const id = `refused-${process.pid}`;
    const descriptors = readdirSync('/proc/self/fd').length;
    // A negative memory limit: the kernel answers EINVAL, after every hierarchy's group was made.
    assert.throws(() => new EnvironmentCgroupV1(id, -1), { code: 'EINVAL' });
    for (const controller of CGROUP_CONTROLLERS) {
      const dir = join('/sys/fs/cgroup', controller, SERVERFULL_GROUP, id);
      assert.equal(existsSync(dir), false, dir);
    }
    assert.equal(readdirSync('/proc/self/fd').length, descriptors);
  });

  it('makes and removes an environment\'s groups', { skip: unusable }, async () => {
    const id = `made-${process.pid}`;
    const group = new EnvironmentCgroupV1(id, 128);
    for (const file of group.procsFiles) assert.ok(existsSync(file), file);
    await group.remove();
    for (const file of group.procsFiles) assert.equal(existsSync(file), false, file);
  });
});
