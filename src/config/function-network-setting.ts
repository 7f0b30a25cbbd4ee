/**
 * @module config/function-network-setting
 * Whether functions without a network (`network: "none"`, their own or the server's `functionNetwork`) can
 * run so here: only a sandboxed process environment has a network namespace of its own. Checked at start,
 * so that no such function ever runs with the host's network instead.
 */
import type { FunctionDefinition } from '../registry/function-definition.js';
import { environmentKind } from '../runtime/environment-factory.js';
import { probeSandboxHost, type SandboxHost } from '../runtime/sandbox-support.js';
import { ConfigError } from './config-error.js';
import type { Settings } from './settings.js';

/** Throws `ConfigError` when a function that must run without a network would not: unsandboxed, or not in a process. */
export function checkFunctionNetwork(settings: Settings, definitions: readonly FunctionDefinition[], sandbox: SandboxHost | undefined): void {
  const serverWide = settings.functionNetwork === 'none';
  if (serverWide && settings.deployedIsolation !== 'process') {
    throw new ConfigError(`--function-network none (SERVERFULL_FUNCTION_NETWORK): functions run without a network only in sandboxed process environments, and --deployed-isolation is ${settings.deployedIsolation} (functions deployed through the API get it); use --deployed-isolation process`);
  }
  const isolated = definitions.filter((definition) => (definition.network ?? settings.functionNetwork) === 'none' && environmentKind(definition) !== 'mock');
  for (const definition of isolated) {
    const kind = environmentKind(definition);
    if (kind !== 'process') {
      throw new ConfigError(`function "${definition.name}": network "none" (from --function-network) runs in sandboxed process environments only, and it runs ${kind}: give it "isolation": "process", or "network": "all"`);
    }
  }
  if (sandbox !== undefined || (!serverWide && isolated.length === 0)) return;
  const reason = settings.sandbox === 'off' ? '--sandbox is off' : probeSandboxHost();
  const what = serverWide ? '--function-network none (SERVERFULL_FUNCTION_NETWORK)' : `function "${isolated[0]!.name}": network "none"`;
  throw new ConfigError(`${what} needs sandboxed process environments, and they are not available: ${String(reason)}; without the sandbox a function would have the host's network`);
}
