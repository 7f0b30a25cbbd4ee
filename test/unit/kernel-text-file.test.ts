/** A kernel-made text file kept open and read from its start at each read. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KernelTextFile } from '../../src/runtime/kernel-text-file.js';

describe('kernel text file', () => {
  it('reads the text from its start at every read, up to the size given', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kernel-text-')), 'counter');
    writeFileSync(path, '12345\n');
    const file = new KernelTextFile(path, 4);
    try {
      assert.equal(file.read(), '1234');
      assert.equal(file.read(), '1234', 'from the start again, not from where the last read ended');
      writeFileSync(path, '98\n');
      assert.equal(file.read(), '98\n', 'the text as it is now');
    } finally {
      file.close();
    }
  });

  it('reads a process\'s status as the kernel makes it now', () => {
    const file = new KernelTextFile('/proc/self/status', 4096);
    try {
      assert.match(file.read(), new RegExp(`^Pid:\\s+${process.pid}$`, 'm'));
    } finally {
      file.close();
    }
  });

  it('throws at open for a missing file, and reads \'\' once closed', () => {
    assert.throws(() => new KernelTextFile('/proc/5000000/status', 64), { code: 'ENOENT' });
    const file = new KernelTextFile('/proc/self/status', 64);
    file.close();
    file.close();
    assert.equal(file.read(), '');
  });
});
