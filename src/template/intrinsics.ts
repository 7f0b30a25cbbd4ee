/**
 * @module template/intrinsics
 * CloudFormation's intrinsic functions, resolved as far as a server without a stack can:
 * parameters, pseudo parameters, the template's own resources, mappings and plain conditions.
 * Whatever cannot be resolved is named in a warning and its property dropped, so a template
 * never half-works silently.
 */
import { Pair, Scalar, YAMLMap, type CollectionTag, type ScalarTag, type YAMLSeq } from 'yaml';
import { ConfigError } from '../config/config-error.js';
import { functionArn, stackArn } from '../registry/arns.js';
import { isObject } from '../values.js';

/** What `AWS::NoValue` (and a property dropped with a warning) resolves to: the property is removed. */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

const SHORT_FORMS = [
  'Ref', 'Condition', 'Sub', 'GetAtt', 'Join', 'If', 'Select', 'Split', 'FindInMap', 'ImportValue', 'Equals', 'Not', 'And', 'Or',
  'Base64', 'GetAZs', 'Cidr', 'Length', 'ToJsonString', 'Transform',
];

/** YAML tags turning CloudFormation's short forms (`!Sub x`) into long forms (`{ "Fn::Sub": x }`), for scalars, sequences and maps. */
export const CLOUDFORMATION_TAGS: ReadonlyArray<ScalarTag | CollectionTag> = SHORT_FORMS.flatMap((name): Array<ScalarTag | CollectionTag> => {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  const scalar = name === 'GetAtt' ? splitAttribute : (value: string) => value;
  return [
    { tag: `!${name}`, resolve: (value: string) => ({ [key]: scalar(value) }) },
    { tag: `!${name}`, collection: 'seq', resolve: (node) => longForm(key, node) },
    { tag: `!${name}`, collection: 'map', resolve: (node) => longForm(key, node) },
  ];
});

/** `{ key: node }` as a node, so that aliases inside `node` still resolve when the document becomes JSON. */
function longForm(key: string, node: YAMLMap.Parsed | YAMLSeq.Parsed): YAMLMap {
  const map = new YAMLMap();
  map.items.push(new Pair(new Scalar(key), node));
  return map;
}

/** `Resource.Attribute.Part` as `Fn::GetAtt`'s long form has it: split at the first dot. */
function splitAttribute(value: string): string[] {
  const dot = value.indexOf('.');
  return dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)];
}

/** The intrinsic a value calls (`Ref`, `Fn::Sub`, ...), or undefined for a plain value. */
export function intrinsicName(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::')) ? keys[0] : undefined;
}

/** A parameter's value: lists for `CommaDelimitedList` and `List<...>` parameters. */
export type ParameterValue = string | readonly string[];

/** What resolution knows of the template and its environment. */
export interface ScopeOptions {
  /** The template's absolute path, for error messages. */
  readonly source: string;
  readonly region: string;
  readonly accountId: string;
  readonly parameters: ReadonlyMap<string, ParameterValue>;
  /** Logical id to resource type, for `Ref` and `Fn::GetAtt`. */
  readonly resources: ReadonlyMap<string, string>;
  readonly conditions: Readonly<Record<string, unknown>>;
  readonly mappings: Readonly<Record<string, unknown>>;
}

/** The stack name `AWS::StackName` stands for. */
const STACK_NAME = 'serverfull';
const FUNCTION_TYPE = 'AWS::Serverless::Function';

/** Raised inside an intrinsic's arguments; caught at the nearest property, which is dropped. */
class Unresolved extends Error {}

/** Resolves intrinsics and collects the template's warnings. */
export class TemplateScope {
  readonly source: string;
  readonly warnings: string[] = [];
  /** Logical id to function name, filled in as names are resolved (until then a function's `Ref` is its logical id). */
  readonly functionNames = new Map<string, string>();
  /** `AWS::SNS::Topic` logical ids and their topic names: a `Ref` to one is its ARN, as in CloudFormation. */
  readonly topicNames = new Map<string, string>();
  private readonly pseudo: ReadonlyMap<string, string>;
  private readonly conditionValues = new Map<string, boolean>();
  private readonly conditionsInProgress = new Set<string>();

  constructor(private readonly options: ScopeOptions) {
    this.source = options.source;
    this.pseudo = new Map([
      ['AWS::Region', options.region],
      ['AWS::AccountId', options.accountId],
      ['AWS::StackName', STACK_NAME],
      ['AWS::StackId', stackArn(options, STACK_NAME, '00000000-0000-0000-0000-000000000000')],
      ['AWS::Partition', 'aws'],
      ['AWS::URLSuffix', 'amazonaws.com'],
    ]);
  }

  /** Records a warning about `label` (`AWS::Serverless::Function Items`, `Globals`, ...). */
  warn(label: string, text: string): void {
    this.warnings.push(`${label}: ${text}`);
  }

  /** A `ConfigError` naming the template, `label` and what is wrong. */
  error(label: string, text: string): ConfigError {
    return new ConfigError(`${this.source}: ${label}: ${text}`);
  }

  /** Warns once for each key of `value` not in `known`, as ignored; `prefix` names what a key is (`property Events.Get.`). */
  ignoreUnknown(value: Readonly<Record<string, unknown>>, known: readonly string[], label: string, prefix = 'property '): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) this.warn(label, `${prefix}${key} not supported, ignored`);
    }
  }

  /** `value` with its intrinsics resolved; undefined when it resolves to `AWS::NoValue` or is dropped with a warning. */
  resolve(value: unknown, label: string, path: string): unknown {
    const resolved = this.property(value, label, path);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  /** Whether condition `name` holds; one that cannot be evaluated is taken as true, with a warning. */
  condition(name: string, label: string, path: string): boolean {
    try {
      return this.evaluateCondition(name);
    } catch (error) {
      if (!(error instanceof Unresolved)) throw error;
      this.warn(label, `${path}: ${error.message}, taken as true`);
      return true;
    }
  }

  private property(value: unknown, label: string, path: string): unknown {
    try {
      return this.value(value, label, path, false);
    } catch (error) {
      if (!(error instanceof Unresolved)) throw error;
      this.warn(label, `${path}: ${error.message}, property dropped`);
      return NO_VALUE;
    }
  }

  /** Inside an intrinsic's arguments (`strict`) a failure fails the intrinsic; elsewhere only its own property. */
  private value(value: unknown, label: string, path: string, strict: boolean): unknown {
    const member = (item: unknown, at: string) => strict ? this.value(item, label, at, true) : this.property(item, label, at);
    if (Array.isArray(value)) return value.map((item, index) => member(item, `${path}[${index}]`)).filter((item) => item !== NO_VALUE);
    if (!isObject(value)) return value;
    const intrinsic = intrinsicName(value);
    if (intrinsic) return this.intrinsic(intrinsic, value[intrinsic], label, path);
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const resolved = member(item, `${path}.${key}`);
      if (resolved !== NO_VALUE) result[key] = resolved;
    }
    return result;
  }

  private intrinsic(name: string, raw: unknown, label: string, path: string): unknown {
    const args = () => this.value(raw, label, path, true);
    switch (name) {
      case 'Ref': return this.ref(text(raw, name));
      case 'Fn::Sub': return this.sub(raw, label, path);
      case 'Fn::GetAtt': {
        const target = typeof raw === 'string' ? splitAttribute(raw) : list(args(), name, 2).map((part) => text(part, name));
        if (target.length !== 2) throw new Unresolved(`Fn::GetAtt needs Resource.Attribute (got ${JSON.stringify(raw)})`);
        return this.getAtt(target[0]!, target[1]!, label, path);
      }
      case 'Fn::Join': {
        const [delimiter, items] = list(args(), name, 2);
        return list(items, name).map((item) => text(item, name)).join(text(delimiter, name));
      }
      case 'Fn::Select': {
        const [index, items] = list(args(), name, 2);
        const chosen = list(items, name)[Number(text(index, name))];
        if (chosen === undefined) throw new Unresolved(`Fn::Select index ${JSON.stringify(index)} is out of range`);
        return chosen;
      }
      case 'Fn::Split': {
        const [delimiter, source] = list(args(), name, 2);
        return text(source, name).split(text(delimiter, name));
      }
      case 'Fn::If': {
        const branches = list(raw, name, 3);
        const chosen = this.evaluateCondition(text(branches[0], name)) ? branches[1] : branches[2];
        return this.value(chosen, label, path, true);
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = list(args(), name, 3).map((part) => text(part, name));
        const found = [map!, top!, second!].reduce<unknown>((level, key) => isObject(level) && Object.hasOwn(level, key) ? level[key] : undefined, this.options.mappings);
        if (found === undefined) throw new Unresolved(`Fn::FindInMap: no ${map}.${top}.${second} in Mappings`);
        return found;
      }
      case 'Fn::Base64': return Buffer.from(text(args(), name)).toString('base64');
      default: throw new Unresolved(`${name} not supported`);
    }
  }

  /** The ARN of a topic of the template's account and region. */
  topicArn(name: string): string {
    return `arn:aws:sns:${this.options.region}:${this.options.accountId}:${name}`;
  }

  private ref(name: string): unknown {
    if (name === 'AWS::NoValue') return NO_VALUE;
    const value = this.pseudo.get(name) ?? this.options.parameters.get(name);
    if (value !== undefined) return value;
    const topic = this.topicNames.get(name);
    if (topic !== undefined) return this.topicArn(topic);
    if (this.options.resources.has(name)) return this.functionNames.get(name) ?? name;
    throw new Unresolved(`Ref to unknown "${name}"`);
  }

  private getAtt(resource: string, attribute: string, label: string, path: string): string {
    const type = this.options.resources.get(resource);
    if (type === undefined) throw new Unresolved(`Fn::GetAtt of unknown resource "${resource}"`);
    if (type === FUNCTION_TYPE && attribute === 'Arn') return functionArn(this.options, this.functionNames.get(resource) ?? resource);
    const placeholder = `${resource}.${attribute}`;
    this.warn(label, `${path}: Fn::GetAtt ${placeholder} (${type}) not supported, "${placeholder}" used instead`);
    return placeholder;
  }

  private sub(raw: unknown, label: string, path: string): string {
    const [template, variables] = typeof raw === 'string' ? [raw, {}] : list(raw, 'Fn::Sub', 2);
    if (!isObject(variables)) throw new Unresolved('Fn::Sub variables must be a map');
    const values = this.value(variables, label, path, true) as Record<string, unknown>;
    return text(template, 'Fn::Sub').replace(/\$\{([^}]*)\}/g, (_, inner: string) => {
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
      const name = inner.trim();
      if (Object.hasOwn(values, name)) return text(values[name], 'Fn::Sub');
      const dot = name.indexOf('.');
      if (dot > 0 && !this.pseudo.has(name)) return this.getAtt(name.slice(0, dot), name.slice(dot + 1), label, path);
      return text(this.ref(name), `Fn::Sub \${${name}}`);
    });
  }

  private evaluateCondition(name: string): boolean {
    const known = this.conditionValues.get(name);
    if (known !== undefined) return known;
    if (!Object.hasOwn(this.options.conditions, name)) throw new Unresolved(`unknown condition "${name}"`);
    if (this.conditionsInProgress.has(name)) throw new Unresolved(`condition "${name}" refers to itself`);
    this.conditionsInProgress.add(name);
    try {
      const value = this.conditionExpression(this.options.conditions[name], name);
      this.conditionValues.set(name, value);
      return value;
    } catch (error) {
      throw error instanceof Unresolved && !error.message.startsWith('condition') ? new Unresolved(`condition "${name}": ${error.message}`) : error;
    } finally {
      this.conditionsInProgress.delete(name);
    }
  }

  private conditionExpression(expression: unknown, condition: string): boolean {
    if (isObject(expression) && typeof expression.Condition === 'string' && Object.keys(expression).length === 1) {
      return this.evaluateCondition(expression.Condition);
    }
    const name = intrinsicName(expression);
    const raw = name && (expression as Record<string, unknown>)[name];
    switch (name) {
      case 'Fn::Equals': {
        const [left, right] = list(this.value(raw, 'Conditions', condition, true), name, 2);
        return JSON.stringify(scalarText(left)) === JSON.stringify(scalarText(right));
      }
      case 'Fn::Not': return !this.conditionExpression(list(raw, name, 1)[0], condition);
      case 'Fn::And': return list(raw, name).every((item) => this.conditionExpression(item, condition));
      case 'Fn::Or': return list(raw, name).some((item) => this.conditionExpression(item, condition));
      default: throw new Unresolved(`condition ${name ?? JSON.stringify(expression)} not supported`);
    }
  }
}

/** CloudFormation compares and joins numbers and booleans as their text. */
function scalarText(value: unknown): unknown {
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

function text(value: unknown, intrinsic: string): string {
  const scalar = scalarText(value);
  if (typeof scalar !== 'string') throw new Unresolved(`${intrinsic} needs a string here (got ${value === NO_VALUE ? 'AWS::NoValue' : JSON.stringify(value)})`);
  return scalar;
}

function list(value: unknown, intrinsic: string, length?: number): unknown[] {
  if (!Array.isArray(value) || (length !== undefined && value.length !== length)) {
    throw new Unresolved(`${intrinsic} needs a list${length === undefined ? '' : ` of ${length}`} (got ${JSON.stringify(value)})`);
  }
  return value;
}
