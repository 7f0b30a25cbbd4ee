/**
 * @module config/sandbox-setting
 * What the `sandbox` setting makes of this host: `auto` sandboxes process environments when it
 * can (and warns once why not when it cannot: deployed code then runs unsandboxed), `on` refuses to start when it cannot, `off` never sandboxes.
 */
import type { Logger } from '../log.js';
import { holdFreezerOn, removeLeftoverCgroups } from '../runtime/environment-cgroup.js';
import { probeSandboxHost, type SandboxHost, type SandboxMode } from '../runtime/sandbox-support.js';
import { ConfigError } from './config-error.js';

/**
 * What `mode` means on this host: the sandbox host to use, or undefined for unsandboxed process environments.
 * `on` without a usable sandbox throws `ConfigError`; `auto` logs once why it runs unsandboxed.
 */
export function resolveSandbox(mode: SandboxMode, logger: Logger): SandboxHost | undefined {
  if (mode === 'off') return undefined;
  const host = probeSandboxHost();
  if (typeof host === 'string') {
    if (mode === 'on') throw new ConfigError(`--sandbox on (SERVERFULL_SANDBOX): cannot sandbox process environments: ${host}; install bubblewrap and run where cgroups (v1, or v2 with memory, pids and cpu) are writable, or use --sandbox auto or off`);
    // Deployed code is anyone's with API access: running it with the server's user's rights deserves more than a note.
    logger.log('warn', 'sandbox unavailable: process environments run unsandboxed, code deployed through the Lambda API included, with the server\'s user\'s rights', { reason: host });
    return undefined;
  }
  // Groups a crashed server left behind; another running server's are its own.
  void removeLeftoverCgroups();
  // Environments freeze between invocations: cheap only while the kernel's freezer stays on.
  holdFreezerOn();
  return host;
}
