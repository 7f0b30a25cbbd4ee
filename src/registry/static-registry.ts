/**
 * @module registry/static-registry
 * A fixed set of functions, from a manifest or the `serve({ functions })` map; `$LATEST` only.
 */
import type { FunctionDefinition, FunctionRegistry } from './function-definition.js';

/** Registry over a fixed list of `$LATEST` definitions. */
export class StaticRegistry implements FunctionRegistry {
  private readonly byName: ReadonlyMap<string, FunctionDefinition>;

  constructor(definitions: readonly FunctionDefinition[]) {
    this.byName = new Map(definitions.map((definition) => [definition.name, definition]));
  }

  resolve(name: string, qualifier: string | undefined): FunctionDefinition | undefined {
    if (qualifier !== undefined && qualifier !== '$LATEST') return undefined;
    return this.byName.get(name);
  }

  list(): readonly FunctionDefinition[] {
    return [...this.byName.values()];
  }
}
