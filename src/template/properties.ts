/**
 * @module template/properties
 * Typed access to a resource's properties: each resolved only when read, so a property the
 * server ignores never warns about its intrinsics, and each wrong type names resource and property.
 */
import { check, ConfigError } from '../config/config-error.js';
import { isObject } from '../values.js';
import { intrinsicName, type TemplateScope } from './intrinsics.js';

/** One resource's (or one nested map's) properties, resolved and checked as they are read. */
export class PropertyReader {
  /** `prefix` is the nested map's path (`Events.Get.`), for messages. */
  constructor(
    readonly scope: TemplateScope,
    readonly label: string,
    private readonly values: Readonly<Record<string, unknown>>,
    private readonly prefix = '',
  ) {}

  /** The property names, as written. */
  keys(): string[] {
    return Object.keys(this.values);
  }

  /** Whether the property is written (even if it later resolves to nothing). */
  has(key: string): boolean {
    return this.values[key] !== undefined;
  }

  /** Warns about each property not in `known`, as ignored. */
  ignoreUnknown(known: readonly string[]): void {
    this.scope.ignoreUnknown(this.values, known, this.label, `property ${this.prefix}`);
  }

  /** The property as written, intrinsics unresolved. */
  raw(key: string): unknown {
    return this.values[key];
  }

  /** The property resolved, or undefined. */
  value(key: string): unknown {
    return this.scope.resolve(this.values[key], this.label, this.path(key));
  }

  /** `Events.Get.Path` for `Path` of the `Events.Get.` reader. */
  path(key: string): string {
    return `${this.prefix}${key}`;
  }

  /** A `ConfigError` naming the template, resource and property. */
  error(key: string, text: string): ConfigError {
    return this.scope.error(this.label, `${this.path(key)} ${text}`);
  }

  /** A string property; numbers and booleans become their text, as in CloudFormation. */
  string(key: string): string | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return check.string(value, this.where(key));
  }

  /** An integer property; numeric strings (a `Number` parameter's `Ref`) are accepted. */
  integer(key: string, min: number, max: number): number | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    return check.integer(typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value, this.where(key), min, max);
  }

  /** A boolean property; `"true"`/`"false"` are accepted. */
  boolean(key: string): boolean | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw this.error(key, `must be true or false (got ${JSON.stringify(value)})`);
  }

  /** A list of strings. */
  strings(key: string): string[] | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw this.error(key, `must be a list of strings (got ${JSON.stringify(value)})`);
    return value as string[];
  }

  /** A nested map, as a reader of its own. */
  nested(key: string): PropertyReader | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    return new PropertyReader(this.scope, this.label, check.object(value, this.where(key)), `${this.path(key)}.`);
  }

  private where(key: string): string {
    return `${this.scope.source}: ${this.label}: ${this.path(key)}`;
  }
}

/**
 * SAM's `Globals` rule: maps merge key by key, lists concatenate, anything else (including an
 * intrinsic) is replaced by the resource's own value.
 */
export function mergeGlobals(global: unknown, local: unknown): unknown {
  if (local === undefined) return global;
  if (isObject(global) && isObject(local) && !intrinsicName(global) && !intrinsicName(local)) {
    const merged: Record<string, unknown> = { ...global };
    for (const [key, value] of Object.entries(local)) merged[key] = mergeGlobals(global[key], value);
    return merged;
  }
  if (Array.isArray(global) && Array.isArray(local)) return [...global, ...local];
  return local;
}

/** `value` without its undefined keys, so optional fields are absent rather than undefined. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}
