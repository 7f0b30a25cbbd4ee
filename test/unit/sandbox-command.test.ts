/** The command that starts a runtime in its sandbox: the runtime's paths seen from inside, its options left as they are. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sandboxedCommand, SANDBOX_TASK_ROOT } from '../../src/runtime/sandbox-command.js';

/** What bubblewrap runs once inside: the arguments after its own `--`. */
function runtimeArguments(args: readonly string[]): string[] {
  return args.slice(args.lastIndexOf('--') + 1);
}

describe('sandboxedCommand', () => {
  it('shows the task root\'s files at /var/task, and passes options through even when the server runs in the task root', () => {
    // The server's working directory as the task root: `serverfull start` in a folder whose handlers sit at its top.
    const taskRoot = process.cwd();
    const command = sandboxedCommand({
      file: '/usr/bin/node',
      args: ['--max-old-space-size=250', join(taskRoot, 'bootstrap.js'), '/opt/runtime/client.js', 'relative/arg'],
      cwd: taskRoot,
      env: {},
    }, { bwrap: '/usr/bin/bwrap', runtimeFolders: [], cgroupProcs: [], nodeModules: false });
    assert.deepEqual(runtimeArguments(command.args), [
      '/usr/bin/node', '--max-old-space-size=250', `${SANDBOX_TASK_ROOT}/bootstrap.js`, '/opt/runtime/client.js', 'relative/arg',
    ]);
    assert.equal(command.env.LAMBDA_TASK_ROOT, SANDBOX_TASK_ROOT);
  });
});
