/**
 * @module runtime/mock-output
 * What a mocked function answers: its example, a value generated from its JSON Schema
 * (json-schema-faker, seeded so the same declaration gives the same value on every run),
 * or `null`. Kept apart from the Invoke API so that every way of invoking (the server, the
 * in-process test client, lambda mode) answers a mock the same way.
 */
import { randomInt } from 'node:crypto';
import { generateSync, type JsonSchema } from 'json-schema-faker';
import type { FunctionErrorPayload } from '../handler/function-errors.js';
import type { MockDeclaration } from '../registry/function-definition.js';

/** The seed used when a declaration names none, so that an unseeded schema is still deterministic. */
export const DEFAULT_MOCK_SEED = 1;

/** Largest seed: the generator keeps 32 bits of it, so larger ones would silently repeat smaller ones. */
export const MAX_MOCK_SEED = 0xffff_ffff;

/** A mock with nothing declared: it answers the empty value and declares no error. */
export const EMPTY_MOCK: MockDeclaration = Object.freeze({ errors: Object.freeze([]) });

/**
 * The empty value: what a Lambda handler that returns nothing answers (`undefined` is sent
 * as `null`); `{}` would claim an object shape the function never declared.
 */
const EMPTY_PAYLOAD = 'null';

/** Deterministic answers are computed once per declaration: later invocations are a lookup. */
const payloads = new WeakMap<MockDeclaration, string>();

/** The payload (JSON text) a mocked function answers; throws when its schema cannot be generated. */
export function mockOutput(declaration: MockDeclaration): string {
  const known = payloads.get(declaration);
  if (known !== undefined) return known;
  const { example, schema, seed = DEFAULT_MOCK_SEED } = declaration;
  if (example === undefined && schema === undefined) return EMPTY_PAYLOAD;
  const fresh = example === undefined && seed === 'random';
  const value = example !== undefined ? example : generateSync(schema as JsonSchema, { seed: fresh ? randomInt(MAX_MOCK_SEED + 1) : seed as number });
  // JSON.stringify gives undefined for a schema that generates nothing at all; Lambda sends that as null.
  const payload = JSON.stringify(value) ?? EMPTY_PAYLOAD;
  if (!fresh) payloads.set(declaration, payload);
  return payload;
}

/** The function error a declared error type answers, as a thrown error reaches the caller; undefined if not declared. */
export function mockError(declaration: MockDeclaration, errorType: string): FunctionErrorPayload | undefined {
  if (!declaration.errors.includes(errorType)) return undefined;
  return { errorType, errorMessage: `${errorType} (a mock error)` };
}
