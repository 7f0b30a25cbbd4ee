/**
 * @module cli/declaration-flags
 * The flags that say where functions are declared (`--config`, `--template`,
 * `--parameter-overrides`, `--mock`), shared by the commands that run or package one
 * declared function (`lambda`, `bundle`) and by `start`.
 */
import { existsSync } from 'node:fs';
import { ConfigError } from '../config/config-error.js';
import type { TypedDeclarationOptions } from '../declared-functions.js';

const DEFAULT_MANIFEST = 'serverfull.json';

/** parseArgs options and help lines of the declaration flags. */
export const DECLARATION_FLAGS = {
  options: {
    config: { type: 'string' },
    template: { type: 'string' },
    'parameter-overrides': { type: 'string' },
    mock: { type: 'boolean' },
  },
  help: `  --config PATH           manifest (SERVERFULL_CONFIG; default ./serverfull.json when it exists and no template is given)
  --template PATH         AWS SAM template (SERVERFULL_TEMPLATE)
  --parameter-overrides "K=V K2=V2"  values of the template's Parameters (SERVERFULL_PARAMETER_OVERRIDES)
  --mock                  answer with the function's declared mock (null when none) instead of running it
                          (SERVERFULL_MOCK=true|false|1|0)`,
} as const;

/** Parsed values of the declaration flags. */
export interface DeclarationFlagValues {
  readonly config?: string;
  readonly template?: string;
  readonly 'parameter-overrides'?: string;
  readonly mock?: boolean;
}

/**
 * Where functions are declared, from the flags, then the environment, then `./serverfull.json`;
 * with `required` false (a server, which also serves deployed functions) there may be none.
 */
export function declarationSources(values: DeclarationFlagValues, required = true): TypedDeclarationOptions {
  const named = values.config ?? process.env.SERVERFULL_CONFIG;
  if (named !== undefined && !existsSync(named)) throw new ConfigError(`no manifest at ${named}`);
  const template = values.template ?? process.env.SERVERFULL_TEMPLATE;
  const config = named ?? (template === undefined && existsSync(DEFAULT_MANIFEST) ? DEFAULT_MANIFEST : undefined);
  if (required && config === undefined && template === undefined) throw new ConfigError(`no ${DEFAULT_MANIFEST} here: give --config PATH or --template PATH`);
  return {
    config,
    template,
    parameterOverrides: values['parameter-overrides'] ?? process.env.SERVERFULL_PARAMETER_OVERRIDES,
    ...(values.mock === undefined ? {} : { mock: values.mock }),
  };
}
