/**
 * @module config/config-error
 * A configuration mistake, reported at start with where it is and what was expected.
 */
import { isObject } from '../values.js';

/** Thrown for any invalid setting or manifest entry; the message names the field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Checks shared by the manifest and the settings: each returns the value or throws `ConfigError`. */
export const check = {
  integer(value: unknown, where: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(`${where} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
    }
    return value;
  },
  string(value: unknown, where: string, pattern?: RegExp, hint?: string): string {
    if (typeof value !== 'string' || (pattern && !pattern.test(value))) {
      throw new ConfigError(`${where} must be ${hint ?? 'a string'} (got ${JSON.stringify(value)})`);
    }
    return value;
  },
  oneOf<T extends string>(value: unknown, where: string, allowed: readonly T[]): T {
    if (!allowed.includes(value as T)) {
      throw new ConfigError(`${where} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')} (got ${JSON.stringify(value)})`);
    }
    return value as T;
  },
  object(value: unknown, where: string): Record<string, unknown> {
    if (!isObject(value)) {
      throw new ConfigError(`${where} must be an object (got ${JSON.stringify(value)})`);
    }
    return value;
  },
  /** Unknown keys are typos: refuse them. */
  knownKeys(value: Record<string, unknown>, where: string, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) throw new ConfigError(`${where}: unknown field "${key}" (known: ${known.join(', ')})`);
    }
  },
};
