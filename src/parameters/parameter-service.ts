/**
 * @module parameters/parameter-service
 * The Parameter Store's rules, as the SSM API states them: versions, labels, selectors, types,
 * limits, filters and pages. Each operation takes a parsed request body and returns the answer's
 * body; errors are `AwsError`s with SSM's names. https://docs.aws.amazon.com/systems-manager/latest/APIReference/
 *
 * Where serverfull differs from AWS:
 * - the Standard tier only (`Advanced` is refused; `Intelligent-Tiering` gives Standard); no parameter
 *   policies, tags are accepted on creation and not kept; `DataType` `text` only;
 * - SecureString values are sealed with the data directory's key whatever `KeyId` names (which is
 *   reported back as given, `alias/aws/ssm` by default); without `WithDecryption` the value is that
 *   sealed text, as AWS returns its ciphertext;
 * - an `AllowedPattern` is a JavaScript regular expression; a group that repeats without bound and holds
 *   a quantifier or an alternation (`(a+)+`, `(a|aa)*`), or a backreference, is refused: matched against a
 *   hostile value, it could hold the server for minutes (catastrophic backtracking).
 */
import { AwsError } from '../errors.js';
import { parameterArn, type ServiceIdentity } from '../registry/arns.js';
import { checkName, checkNewName, checkPath, isValidLabel, parseSelector } from './parameter-names.js';
import type { ParameterStore, ParameterType, StoredVersion } from './parameter-store.js';
import {
  nameToken, optionalBoolean, optionalInteger, optionalString, readNameToken, requiredString, stringList, validationError, type Body,
} from './request-fields.js';
import { isObject } from '../values.js';

/** The Standard tier's largest value, in characters. */
export const MAX_VALUE_LENGTH = 4096;
/** How many parameters the Standard tier holds per account and region. */
export const MAX_PARAMETERS = 10_000;
/** Versions kept per parameter: a new one past this drops the oldest. */
export const MAX_VERSIONS = 100;
const MAX_LABELS = 10;
const TYPES: readonly ParameterType[] = ['String', 'StringList', 'SecureString'];
const DEFAULT_KEY_ID = 'alias/aws/ssm';

/** A parameter as GetParameter and its neighbours answer it. */
export interface ParameterAnswer {
  readonly Name: string;
  readonly Type: ParameterType;
  readonly Value: string;
  readonly Version: number;
  readonly LastModifiedDate: number;
  readonly ARN: string;
  readonly DataType: string;
  readonly Selector?: string;
}

/** The Parameter Store of one server: its store, its identity, and the operations. */
export class ParameterService {
  constructor(private readonly store: ParameterStore, private readonly identity: ServiceIdentity) {}

  /** The operations, by SSM name; `caller` is the ARN of who signed the request. */
  readonly operations: Readonly<Record<string, (body: Body, caller: string) => unknown>> = {
    PutParameter: (body, caller) => this.putParameter(body, caller),
    GetParameter: (body) => ({ Parameter: this.read(requiredString(body, 'Name', 2048), optionalBoolean(body, 'WithDecryption') ?? false) }),
    GetParameters: (body) => this.getParameters(body),
    GetParametersByPath: (body) => this.getParametersByPath(body),
    GetParameterHistory: (body) => this.getParameterHistory(body),
    LabelParameterVersion: (body) => this.labelParameterVersion(body),
    UnlabelParameterVersion: (body) => this.unlabelParameterVersion(body),
    DeleteParameter: (body) => this.deleteParameter(body),
    DeleteParameters: (body) => this.deleteParameters(body),
    DescribeParameters: (body) => this.describeParameters(body),
  };

  /** A parameter by name, `name:version` or `name:label`, its value decrypted when asked; `ParameterNotFound` and co. otherwise. */
  read(given: string, decrypt: boolean): ParameterAnswer {
    const selector = parseSelector(given);
    checkName(selector.name, this.identity);
    let found: StoredVersion | undefined;
    if (selector.version !== undefined) {
      if (this.store.current(selector.name) === undefined) throw notFound();
      found = this.store.version(selector.name, selector.version);
      if (found === undefined) throw versionNotFound(selector.name, String(selector.version));
    } else if (selector.label !== undefined) {
      found = this.store.history(selector.name).find((version) => version.labels.includes(selector.label!));
      if (found === undefined) throw notFound();
    } else {
      found = this.store.current(selector.name);
      if (found === undefined) throw notFound();
    }
    return { ...this.answer(found, decrypt), ...(selector.selector === undefined ? {} : { Selector: selector.selector }) };
  }

  /** The `KeyId` of `name` (a selector's parameter) when it is a SecureString. */
  keyIdOf(name: string): string | undefined {
    return this.store.current(name.split(':')[0]!)?.keyId;
  }

  private putParameter(body: Body, caller: string): unknown {
    const name = requiredString(body, 'Name', 2048);
    checkNewName(name, this.identity);
    const value = optionalString(body, 'Value');
    if (value === undefined) throw validationError(undefined, 'Value', 'Member must not be null');
    if (value === '') throw validationError('', 'Value', 'Member must have length greater than or equal to 1');
    const typeText = optionalString(body, 'Type');
    if (typeText !== undefined && !TYPES.includes(typeText as ParameterType)) {
      throw validationError(typeText, 'Type', 'Member must satisfy enum value set: [SecureString, StringList, String]');
    }
    const tier = optionalString(body, 'Tier');
    if (tier !== undefined && !['Standard', 'Advanced', 'Intelligent-Tiering'].includes(tier)) {
      throw validationError(tier, 'Tier', 'Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]');
    }
    if (tier === 'Advanced') throw new AwsError('ValidationException', 'serverfull serves the Standard tier only: values of up to 4096 characters, no parameter policies.');
    if (value.length > MAX_VALUE_LENGTH) {
      throw new AwsError('ValidationException', 'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.');
    }
    if (body.Policies !== undefined && body.Policies !== null) throw new AwsError('ValidationException', 'Parameter policies are supported only for the Advanced tier.');
    const dataType = optionalString(body, 'DataType', 128) ?? 'text';
    if (dataType !== 'text') throw new AwsError('ValidationException', `The following data type is not supported: ${dataType} (Data type names are all lowercase.)`);
    const overwrite = optionalBoolean(body, 'Overwrite') ?? false;
    if (overwrite && Array.isArray(body.Tags) && body.Tags.length > 0) {
      throw new AwsError('ValidationException', 'Invalid request: tags and overwrite can\'t be used together. To create a parameter with tags, please remove overwrite flag. '
        + 'To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.');
    }
    const description = optionalString(body, 'Description', 1024);
    const allowedPattern = optionalString(body, 'AllowedPattern', 1024);
    const keyId = optionalString(body, 'KeyId', 256);

    const existing = this.store.current(name);
    if (existing !== undefined && !overwrite) {
      throw new AwsError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
    }
    if (existing === undefined && typeText === undefined) throw new AwsError('ValidationException', 'A parameter type is required when you create a parameter.');
    const type = (typeText ?? existing!.type) as ParameterType;
    if (existing !== undefined && type !== existing.type) {
      throw new AwsError('HierarchyTypeMismatchException', 'Parameter Store does not support changing a parameter type in a hierarchy. For example, you can\'t change a parameter '
        + 'from a String type to a SecureString type. You must create a new, unique parameter.');
    }
    if (keyId !== undefined && type !== 'SecureString') throw new AwsError('ValidationException', 'KeyId is required for SecureString type parameter only.');
    const pattern = allowedPattern ?? existing?.allowedPattern ?? '';
    if (pattern !== '' && !compilePattern(pattern).test(value)) {
      throw new AwsError('ParameterPatternMismatchException', `Parameter value, cannot be validated against allowedPattern: ${pattern}`);
    }
    if (existing === undefined && this.store.count() >= MAX_PARAMETERS) {
      throw new AwsError('ParameterLimitExceeded', 'You have exceeded the number of parameters for this AWS account. Delete unnecessary parameters and try again.');
    }
    const drop: number[] = [];
    if (existing !== undefined) {
      const history = this.store.history(name);
      if (history.length >= MAX_VERSIONS) {
        const oldest = history[0]!;
        if (oldest.labels.length > 0) {
          throw new AwsError('ParameterMaxVersionLimitExceeded', `You attempted to create a new version of ${name} by calling the PutParameter API with the overwrite flag. `
            + `Version ${oldest.version}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`);
        }
        drop.push(oldest.version);
      }
    }
    const version = (existing?.version ?? 0) + 1;
    this.store.put({
      name, version, type, value,
      ...(type === 'SecureString' ? { keyId: keyId ?? existing?.keyId ?? DEFAULT_KEY_ID } : {}),
      description: description ?? existing?.description ?? '',
      allowedPattern: pattern,
      dataType,
      modifiedAt: Date.now(),
      modifiedBy: caller,
    }, drop);
    return { Version: version, Tier: 'Standard' };
  }

  private getParameters(body: Body): unknown {
    const names = stringList(body, 'Names', 1, 10)!;
    const decrypt = optionalBoolean(body, 'WithDecryption') ?? false;
    const parameters: ParameterAnswer[] = [];
    const invalid: string[] = [];
    for (const name of new Set(names)) {
      try {
        parameters.push(this.read(name, decrypt));
      } catch (error) {
        if (!(error instanceof AwsError) || !['ParameterNotFound', 'ParameterVersionNotFound', 'ValidationException', 'HierarchyLevelLimitExceededException'].includes(error.type)) throw error;
        invalid.push(name);
      }
    }
    return { Parameters: parameters, InvalidParameters: invalid };
  }

  private getParametersByPath(body: Body): unknown {
    const path = checkPath(requiredString(body, 'Path', 2048));
    const recursive = optionalBoolean(body, 'Recursive') ?? false;
    const decrypt = optionalBoolean(body, 'WithDecryption') ?? false;
    const limit = optionalInteger(body, 'MaxResults', 1, 10) ?? 10;
    const filters = readFilters(body, 'ParameterFilters', BY_PATH_FILTERS);
    const after = readNameToken(body);
    const prefix = path === '/' ? '/' : `${path}/`;
    const page: ParameterAnswer[] = [];
    let last: string | undefined;
    for (const current of this.store.list(prefix, after)) {
      if (!recursive && current.name.indexOf('/', prefix.length) !== -1) continue;
      const version = this.matchByPath(current, filters);
      if (version === undefined) continue;
      if (page.length === limit) return { Parameters: page, NextToken: nameToken(last!) };
      page.push(this.answer(version, decrypt));
      last = current.name;
    }
    return { Parameters: page };
  }

  /** The version of a parameter a by-path listing shows under `filters` (the labelled one for a Label filter), or undefined. */
  private matchByPath(current: StoredVersion, filters: readonly Filter[]): StoredVersion | undefined {
    let shown = current;
    for (const filter of filters) {
      if (filter.key === 'Label') {
        const labelled = this.store.history(current.name).find((version) => version.labels.some((label) => filter.values.includes(label)));
        if (labelled === undefined) return undefined;
        shown = labelled;
      } else if (!matchesFilter(current, filter)) {
        return undefined;
      }
    }
    return shown;
  }

  private getParameterHistory(body: Body): unknown {
    const name = requiredString(body, 'Name', 2048);
    checkName(name, this.identity);
    const decrypt = optionalBoolean(body, 'WithDecryption') ?? false;
    const limit = optionalInteger(body, 'MaxResults', 1, 50) ?? 50;
    const token = optionalString(body, 'NextToken', 1024);
    let offset = 0;
    if (token !== undefined) {
      const match = /^v:(\d{1,4})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
      if (!match) throw new AwsError('InvalidNextToken', 'The specified token is not valid.');
      offset = Number(match[1]);
    }
    const history = this.store.history(name);
    if (history.length === 0) throw new AwsError('ParameterNotFound', `Parameter ${name} not found.`);
    const page = history.slice(offset, offset + limit);
    return {
      Parameters: page.map((version) => ({
        Name: version.name,
        Type: version.type,
        ...(version.keyId === undefined ? {} : { KeyId: version.keyId }),
        LastModifiedDate: version.modifiedAt / 1000,
        LastModifiedUser: version.modifiedBy,
        ...(version.description === '' ? {} : { Description: version.description }),
        Value: decrypt ? this.store.plainValue(version) : version.value,
        ...(version.allowedPattern === '' ? {} : { AllowedPattern: version.allowedPattern }),
        Version: version.version,
        Labels: version.labels,
        Tier: 'Standard',
        Policies: [],
        DataType: version.dataType,
      })),
      ...(offset + limit < history.length ? { NextToken: Buffer.from(`v:${offset + limit}`).toString('base64url') } : {}),
    };
  }

  private labelParameterVersion(body: Body): unknown {
    const name = requiredString(body, 'Name', 2048);
    checkName(name, this.identity);
    const labels = stringList(body, 'Labels', 1, MAX_LABELS)!;
    const history = this.store.history(name);
    if (history.length === 0) throw new AwsError('ParameterNotFound', `Parameter ${name} not found.`);
    const requested = optionalInteger(body, 'ParameterVersion', 1, Number.MAX_SAFE_INTEGER);
    const target = requested === undefined ? history[history.length - 1]! : history.find((version) => version.version === requested);
    if (target === undefined) throw versionNotFound(name, String(requested));
    const valid = [...new Set(labels.filter(isValidLabel))];
    const invalid = labels.filter((label) => !isValidLabel(label));
    const updated = new Map<number, readonly string[]>();
    const merged = [...new Set([...target.labels, ...valid])];
    if (merged.length > MAX_LABELS) {
      throw new AwsError('ParameterVersionLabelLimitExceeded', 'A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.');
    }
    // A label names one version: attaching it here moves it from wherever it was.
    for (const version of history) {
      if (version.version === target.version) continue;
      const kept = version.labels.filter((label) => !valid.includes(label));
      if (kept.length !== version.labels.length) updated.set(version.version, kept);
    }
    updated.set(target.version, merged);
    if (valid.length > 0) this.store.setLabels(name, updated);
    return { InvalidLabels: invalid, ParameterVersion: target.version };
  }

  private unlabelParameterVersion(body: Body): unknown {
    const name = requiredString(body, 'Name', 2048);
    checkName(name, this.identity);
    const labels = stringList(body, 'Labels', 1, MAX_LABELS)!;
    const requested = optionalInteger(body, 'ParameterVersion', 1, Number.MAX_SAFE_INTEGER);
    if (requested === undefined) throw validationError(undefined, 'ParameterVersion', 'Member must not be null');
    if (this.store.current(name) === undefined) throw new AwsError('ParameterNotFound', `Parameter ${name} not found.`);
    const target = this.store.version(name, requested);
    if (target === undefined) throw versionNotFound(name, String(requested));
    const removed = labels.filter((label) => target.labels.includes(label));
    if (removed.length > 0) this.store.setLabels(name, new Map([[target.version, target.labels.filter((label) => !labels.includes(label))]]));
    return { RemovedLabels: removed, InvalidLabels: labels.filter((label) => !target.labels.includes(label)) };
  }

  private deleteParameter(body: Body): unknown {
    const name = requiredString(body, 'Name', 2048);
    checkName(name, this.identity);
    if (!this.store.delete(name)) throw notFound();
    return {};
  }

  private deleteParameters(body: Body): unknown {
    const names = stringList(body, 'Names', 1, 10)!;
    const deleted: string[] = [];
    const invalid: string[] = [];
    for (const name of new Set(names)) {
      let valid = true;
      try {
        checkName(name, this.identity);
      } catch {
        valid = false;
      }
      (valid && this.store.delete(name) ? deleted : invalid).push(name);
    }
    return { DeletedParameters: deleted, InvalidParameters: invalid };
  }

  private describeParameters(body: Body): unknown {
    const legacy = readFilters(body, 'Filters', LEGACY_FILTERS);
    const filters = readFilters(body, 'ParameterFilters', DESCRIBE_FILTERS);
    if (legacy.length > 0 && filters.length > 0) throw new AwsError('ValidationException', 'You can use either Filters or ParameterFilters in a single request.');
    const limit = optionalInteger(body, 'MaxResults', 1, 50) ?? 50;
    const after = readNameToken(body);
    const page: unknown[] = [];
    let last: string | undefined;
    for (const current of this.store.list('', after)) {
      if (![...legacy, ...filters].every((filter) => matchesFilter(current, filter))) continue;
      if (page.length === limit) return { Parameters: page, NextToken: nameToken(last!) };
      page.push({
        Name: current.name,
        ARN: parameterArn(this.identity, current.name),
        Type: current.type,
        ...(current.keyId === undefined ? {} : { KeyId: current.keyId }),
        LastModifiedDate: current.modifiedAt / 1000,
        LastModifiedUser: current.modifiedBy,
        ...(current.description === '' ? {} : { Description: current.description }),
        ...(current.allowedPattern === '' ? {} : { AllowedPattern: current.allowedPattern }),
        Version: current.version,
        Tier: 'Standard',
        Policies: [],
        DataType: current.dataType,
      });
      last = current.name;
    }
    return { Parameters: page };
  }

  private answer(version: StoredVersion, decrypt: boolean): ParameterAnswer {
    return {
      Name: version.name,
      Type: version.type,
      Value: decrypt ? this.store.plainValue(version) : version.value,
      Version: version.version,
      LastModifiedDate: version.modifiedAt / 1000,
      ARN: parameterArn(this.identity, version.name),
      DataType: version.dataType,
    };
  }
}

/** GetParameter's and DeleteParameter's `ParameterNotFound`: AWS sends it with no message. */
function notFound(): AwsError {
  return new AwsError('ParameterNotFound', '');
}

function versionNotFound(name: string, version: string): AwsError {
  return new AwsError('ParameterVersionNotFound', `Systems Manager could not find version ${version} of ${name}. Verify the version and try again.`);
}

/** `AllowedPattern` as a regular expression; `InvalidAllowedPatternException` for one that is not, or that could backtrack without end. */
function compilePattern(pattern: string): RegExp {
  if (canBacktrackWithoutBound(pattern)) {
    throw new AwsError('InvalidAllowedPatternException', `The allowed pattern ${pattern} repeats a group that holds a quantifier or an alternation, or has a backreference, which serverfull refuses: it could take unbounded time to match.`);
  }
  try {
    return new RegExp(pattern, 'u');
  } catch {
    throw new AwsError('InvalidAllowedPatternException', `The allowed pattern ${pattern} is not a valid regular expression.`);
  }
}

/**
 * Whether `pattern` has a group repeated without bound (`*`, `+`, `{n,}`, `{n,m}`) whose body holds a quantifier or an
 * alternation, or a backreference: the shapes whose matching can take exponential time. Conservative: it may refuse a
 * safe pattern, never accepts one of those shapes.
 */
export function canBacktrackWithoutBound(pattern: string): boolean {
  if (/\\[1-9k]/.test(pattern)) return true;
  const opens: number[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (char === ']') inClass = false;
      continue;
    }
    if (char === '[') inClass = true;
    else if (char === '(') opens.push(i);
    else if (char === ')') {
      const start = opens.pop() ?? 0;
      const after = pattern.slice(i + 1);
      const repeats = /^(?:[*+]|\{\d*,\d*\})/.test(after);
      // The body without escapes, classes and the group's own `?:`, `?=`, `?<name>` prefix.
      const body = pattern.slice(start + 1, i).replace(/\\./g, 'x').replace(/\[[^\]]*\]/g, 'x').replace(/^\?(?::|=|!|<=|<!|<[a-zA-Z]\w*>)/, '');
      if (repeats && /[*+?{|]/.test(body)) return true;
    }
  }
  return false;
}

/** One filter of a request: `ParameterFilters` (Key, Option, Values) or the legacy `Filters` (Key, Values). */
interface Filter {
  readonly key: string;
  readonly option: string;
  readonly values: readonly string[];
}

/** Which keys an operation's filters take, and each key's options (the first is the default). */
type FilterRules = Readonly<Record<string, readonly string[]>>;

const BY_PATH_FILTERS: FilterRules = { Type: ['Equals', 'BeginsWith'], KeyId: ['Equals', 'BeginsWith'], Label: ['Equals'] };
const DESCRIBE_FILTERS: FilterRules = {
  Name: ['Equals', 'BeginsWith', 'Contains'], Path: ['OneLevel', 'Recursive'], Type: ['Equals', 'BeginsWith'], KeyId: ['Equals', 'BeginsWith'], Tier: ['Equals'], DataType: ['Equals'],
};
const LEGACY_FILTERS: FilterRules = { Name: ['Equals'], Type: ['Equals'], KeyId: ['Equals'] };

function readFilters(body: Body, member: string, rules: FilterRules): Filter[] {
  const list = body[member];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || !list.every(isObject)) throw new AwsError('SerializationException', `${member} must be a list of objects`);
  const seen = new Set<string>();
  const valid = Object.keys(rules);
  return (list as Record<string, unknown>[]).map((entry) => {
    const key = typeof entry.Key === 'string' ? entry.Key : '';
    if (!Object.hasOwn(rules, key)) {
      throw new AwsError('InvalidFilterKey', `The following filter key is not valid: ${key}. Valid filter keys include: [${valid.join(', ')}].`);
    }
    if (seen.has(key)) {
      throw new AwsError('InvalidFilterKey', `The following filter is duplicated in the request: ${key}. A request can contain only one occurrence of a specific filter.`);
    }
    seen.add(key);
    const values = entry.Values;
    if (!Array.isArray(values) || values.length === 0 || !values.every((value) => typeof value === 'string' && value.length >= 1 && value.length <= 1024) || values.length > 50) {
      throw new AwsError('InvalidFilterValue', `The following filter values are missing : null for filter key ${key}.`);
    }
    const options = rules[key]!;
    const option = entry.Option === undefined || entry.Option === null ? options[0]! : entry.Option;
    if (typeof option !== 'string' || !options.includes(option)) {
      throw new AwsError('InvalidFilterOption', `The following filter option is not valid: ${String(option)}. Valid options include: [${options.join(', ')}].`);
    }
    if (key === 'Type') {
      for (const value of values as string[]) {
        if (option === 'Equals' && !TYPES.includes(value as ParameterType)) {
          throw new AwsError('InvalidFilterValue', `The following filter value is not valid: ${value}. Valid values include: [String, StringList, SecureString].`);
        }
      }
    }
    const checked = key === 'Path' ? (values as string[]).map(checkPath) : values as string[];
    return { key, option, values: checked };
  });
}

/** Whether the current version of a parameter passes `filter` (Label is decided by the caller). */
function matchesFilter(version: StoredVersion, filter: Filter): boolean {
  const field = filter.key === 'Name' ? version.name
    : filter.key === 'Type' ? version.type
      : filter.key === 'KeyId' ? version.keyId
        : filter.key === 'Tier' ? 'Standard'
          : filter.key === 'DataType' ? version.dataType
            : undefined;
  if (filter.key === 'Path') {
    return filter.values.some((path) => {
      const prefix = path === '/' ? '/' : `${path}/`;
      if (!version.name.startsWith(prefix)) return false;
      return filter.option === 'Recursive' || version.name.indexOf('/', prefix.length) === -1;
    });
  }
  if (field === undefined) return false;
  switch (filter.option) {
    case 'BeginsWith': return filter.values.some((value) => field.startsWith(value));
    case 'Contains': return filter.values.some((value) => field.includes(value));
    default: return filter.values.includes(field);
  }
}
