/**
 * @module declared-functions
 * The functions a manifest, a SAM template and code (`functions`) declare, with the
 * settings they run under: what `serve()` and lambda mode both start from.
 */
import { ConfigError } from './config/config-error.js';
import { applyMockSetting, buildDefinitions, manifestRoot, readManifest, type FunctionConfig, type Manifest } from './config/manifest.js';
import { resolveSettings, type Settings, type SettingsInput, type SettingsOptions } from './config/settings.js';
import { createRequire } from 'node:module';
import type { SamTemplate } from './template/sam-template.js';
import type { FunctionDefinition, LambdaHandler } from './registry/function-definition.js';

/**
 * The SAM template reader, loaded on first use: it brings a YAML parser (70-odd modules) that a server without a
 * template, and every CLI command but `start --template`, would load for nothing. Synchronous (`require` of an ES
 * module, which Node.js 22.12+ allows) because declarations are read synchronously.
 */
const templates = (() => {
  let module: typeof import('./template/sam-template.js') | undefined;
  return () => (module ??= createRequire(import.meta.url)('./template/sam-template.js') as typeof import('./template/sam-template.js'));
})();

/** Where functions are declared (the settings aside). */
export interface DeclarationSources {
  /** Path of a `serverfull.json` manifest. */
  readonly config?: string;
  /** Path of an AWS SAM `template.yaml`: its functions and their `HttpApi`/`Api` routes. */
  readonly template?: string;
  /** Values for the template's `Parameters`: a map, or SAM's `Key=Value Key2=Value2` text. */
  readonly parameterOverrides?: Readonly<Record<string, string>> | string;
  /** Functions by name: a handler, or a declaration as in the manifest. */
  readonly functions?: Readonly<Record<string, LambdaHandler | FunctionConfig>>;
  /** Folder that `functions` handler paths are relative to; default: the current directory. */
  readonly root?: string;
  /** Where `SERVERFULL_*` settings are read from; default: `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Where functions are declared, and settings as loose values (CLI flags' text), checked at run time. */
export interface DeclarationOptions extends DeclarationSources, SettingsInput {}

/** The declarations with settings of their proper types: what the public API takes, so a wrong setting fails to compile. */
export interface TypedDeclarationOptions extends DeclarationSources, SettingsOptions {}

/** Settings, sources and the `$LATEST` definitions they declare (the `mock` setting applied). */
export interface DeclaredFunctions {
  readonly settings: Readonly<Settings>;
  readonly manifest: Manifest | undefined;
  readonly template: SamTemplate | undefined;
  readonly definitions: FunctionDefinition[];
}

/** Reads and validates every declaration; throws `ConfigError` naming the file and field at fault. */
export function loadDefinitions(options: DeclarationOptions): DeclaredFunctions {
  const { config, template: templatePath, parameterOverrides, functions, root, env, ...flags } = options;
  const manifest = config === undefined ? undefined : readManifest(config);
  const settings = resolveSettings({ manifest: manifest?.settings, env: env ?? process.env, flags });
  const template = templatePath === undefined ? undefined : templates().readSamTemplate(templatePath, {
    parameterOverrides: typeof parameterOverrides === 'string' ? templates().parseParameterOverrides(parameterOverrides) : parameterOverrides,
    region: settings.region,
    accountId: settings.accountId,
  });
  // Mock mode (`mock` setting) applies to the declared functions; deployed ones run their code.
  const definitions = applyMockSetting([
    ...(manifest ? buildDefinitions(manifest.functions, manifestRoot(manifest), settings.isolation, manifest.path) : []),
    ...(template?.functions ?? []).flatMap((fn) => buildDefinitions({ [fn.name]: fn.config }, fn.root, settings.isolation, template!.path)),
    ...(functions ? buildDefinitions(functions, root ?? process.cwd(), settings.isolation, 'serve()') : []),
  ], settings.mock);
  const seen = new Set<string>();
  for (const { name } of definitions) {
    if (seen.has(name)) throw new ConfigError(`function "${name}" is declared twice`);
    seen.add(name);
  }
  return { settings, manifest, template, definitions };
}

/** The one declared function named `functionName` (lambda mode, bundles); throws `ConfigError` naming the declared ones. */
export function loadDefinition(options: DeclarationOptions, functionName: string): FunctionDefinition {
  const { definitions } = loadDefinitions(options);
  const definition = definitions.find((candidate) => candidate.name === functionName);
  if (definition) return definition;
  throw new ConfigError(`no function "${functionName}" is declared (declared: ${definitions.map((candidate) => candidate.name).join(', ') || 'none'})`);
}
