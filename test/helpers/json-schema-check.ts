/**
 * @module test/helpers/json-schema-check
 * A small JSON Schema (2020-12) checker for the keywords serverfull's manifest schema uses, so that tests can
 * validate manifests without a validator dependency. A keyword it does not know is an error, not ignored:
 * the schema cannot grow a rule this checker would silently skip.
 */

type Schema = Record<string, unknown>;

/** Keywords that only annotate. */
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', '$defs']);
/** Keywords this checker applies. */
const ASSERTIONS = new Set([
  'type', 'properties', 'required', 'additionalProperties', 'propertyNames', 'items', 'enum', 'const',
  'minimum', 'maximum', 'exclusiveMinimum', 'minLength', 'maxLength', 'pattern', 'anyOf', '$ref',
]);

/** Where `value` breaks `root`'s rules, as `path: what`; empty when it is valid. */
export function schemaErrors(root: Schema, value: unknown): string[] {
  const errors: string[] = [];
  check(root, root, value, '$', errors);
  return errors;
}

function check(root: Schema, schema: Schema, value: unknown, at: string, errors: string[]): void {
  for (const keyword of Object.keys(schema)) {
    if (!ANNOTATIONS.has(keyword) && !ASSERTIONS.has(keyword)) throw new Error(`${at}: the schema uses "${keyword}", which this checker does not know`);
  }
  if (typeof schema.$ref === 'string') {
    const match = /^#\/\$defs\/([\w-]+)$/.exec(schema.$ref);
    const target = match ? (root.$defs as Record<string, Schema> | undefined)?.[match[1]!] : undefined;
    if (target === undefined) throw new Error(`${at}: unresolved $ref ${schema.$ref}`);
    check(root, target, value, at, errors);
  }
  if (schema.type !== undefined && !hasType(value, schema.type as string)) {
    errors.push(`${at}: must be ${String(schema.type)}`);
    return;
  }
  if (schema.enum !== undefined && !(schema.enum as unknown[]).some((option) => option === value)) errors.push(`${at}: must be one of ${JSON.stringify(schema.enum)}`);
  if ('const' in schema && schema.const !== value) errors.push(`${at}: must be ${JSON.stringify(schema.const)}`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${at}: must be >= ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${at}: must be <= ${schema.maximum}`);
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) errors.push(`${at}: must be > ${schema.exclusiveMinimum}`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (typeof schema.minLength === 'number' && length < schema.minLength) errors.push(`${at}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) errors.push(`${at}: longer than ${schema.maxLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${at}: must match ${schema.pattern}`);
  }
  if (Array.isArray(value) && schema.items !== undefined) value.forEach((item, i) => check(root, schema.items as Schema, item, `${at}[${i}]`, errors));
  if (isObject(value)) checkObject(root, schema, value, at, errors);
  if (Array.isArray(schema.anyOf)) {
    const passes = (schema.anyOf as Schema[]).some((option) => {
      const found: string[] = [];
      check(root, option, value, at, found);
      return found.length === 0;
    });
    if (!passes) errors.push(`${at}: matches none of its alternatives`);
  }
}

function checkObject(root: Schema, schema: Schema, value: Record<string, unknown>, at: string, errors: string[]): void {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  for (const name of (schema.required ?? []) as string[]) if (!(name in value)) errors.push(`${at}: "${name}" is required`);
  for (const [name, item] of Object.entries(value)) {
    const where = `${at}.${name}`;
    if (schema.propertyNames !== undefined) check(root, schema.propertyNames as Schema, name, `${where} (name)`, errors);
    if (Object.hasOwn(properties, name)) check(root, properties[name]!, item, where, errors);
    else if (schema.additionalProperties === false) errors.push(`${where}: unknown field`);
    else if (isObject(schema.additionalProperties)) check(root, schema.additionalProperties, item, where, errors);
  }
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object': return isObject(value);
    case 'array': return Array.isArray(value);
    case 'integer': return Number.isInteger(value);
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'null': return value === null;
    default: return typeof value === type;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
