/**
 * Whether this host sandboxes process environments under the default `sandbox: auto`, and why not when it does not:
 * tests of sandboxed behaviour skip with that reason, tests of process environments expect the sandboxed truth.
 */
import { probeSandboxHost } from '../../src/runtime/sandbox-support.js';

const host = probeSandboxHost();

/** Why process environments run unsandboxed here; undefined when they are sandboxed. */
export const SANDBOX_UNUSABLE: string | undefined = typeof host === 'string' ? host : undefined;

/** Process environments run sandboxed under `sandbox: auto` (the default). */
export const SANDBOXED = SANDBOX_UNUSABLE === undefined;
