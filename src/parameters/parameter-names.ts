/**
 * @module parameters/parameter-names
 * Parameter Store's naming rules, as AWS enforces them: letters, digits and `.-_`, in `/`-separated
 * levels for a hierarchy (at most 15), never starting with `aws` or `ssm` (case-insensitive), and a
 * name whose ARN fits in 1,011 characters. Also selectors (`name:3`, `name:label`), label rules and ARNs.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html
 */
import { AwsError } from '../errors.js';
import { parameterArn, type ServiceIdentity } from '../registry/arns.js';

/** The deepest hierarchy AWS allows, the name's own level included. */
export const MAX_HIERARCHY_LEVELS = 15;
/** AWS's cap on a name "including the full length of the parameter ARN". */
const MAX_ARN_LENGTH = 1011;
const NAME_CHARACTERS = /^[a-zA-Z0-9_.\-/]+$/;
const LABEL = /^[a-zA-Z0-9_.-]{1,100}$/;
const RESERVED_PREFIX = /^(aws|ssm)/i;

/** AWS's message for a name of the wrong characters or shape. */
const NAME_RULES = 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths '
  + 'divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_';

/** Checks a name a parameter may be created with; throws AWS's error for one it may not. */
export function checkNewName(name: string, identity: ServiceIdentity): void {
  checkName(name, identity);
  const bare = name.startsWith('/') ? name.slice(1) : name;
  if (RESERVED_PREFIX.test(bare)) {
    if (/^aws\//i.test(bare)) throw new AwsError('AccessDeniedException', `No access to reserved parameter name: ${name}.`);
    throw new AwsError('ValidationException', 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).');
  }
}

/** Checks the shape of a name (characters, levels, length); reads accept reserved prefixes, which then find nothing. */
export function checkName(name: string, identity: ServiceIdentity): void {
  if (name.length === 0) throw new AwsError('ValidationException', "1 validation error detected: Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1");
  if (!NAME_CHARACTERS.test(name) || (name.includes('/') && !name.startsWith('/')) || name.includes('//') || name.endsWith('/')) {
    throw new AwsError('ValidationException', NAME_RULES);
  }
  if (levelsOf(name) > MAX_HIERARCHY_LEVELS) {
    throw new AwsError('HierarchyLevelLimitExceededException', `A hierarchy can have a maximum of ${MAX_HIERARCHY_LEVELS} levels. Parameter name: ${name}`);
  }
  if (parameterArn(identity, name).length > MAX_ARN_LENGTH) {
    throw new AwsError('ValidationException', `Parameter name: ${name.slice(0, 64)}... is too long: the name, including the full length of the parameter ARN, can have at most ${MAX_ARN_LENGTH} characters.`);
  }
}

/** Checks the `Path` of GetParametersByPath (or a Path filter): `/`, or `/`-separated levels; a trailing `/` is allowed. */
export function checkPath(path: string): string {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (!trimmed.startsWith('/') || (trimmed !== '/' && (!NAME_CHARACTERS.test(trimmed) || trimmed.includes('//')))) {
    throw new AwsError('ValidationException', 'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/". '
      + 'It can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). '
      + 'Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.');
  }
  if (levelsOf(trimmed) > MAX_HIERARCHY_LEVELS) {
    throw new AwsError('HierarchyLevelLimitExceededException', `A hierarchy can have a maximum of ${MAX_HIERARCHY_LEVELS} levels. Path: ${path}`);
  }
  return trimmed;
}

/** How many levels a name has: `/a/b` two, `a` one. */
function levelsOf(name: string): number {
  return name.split('/').filter((part) => part !== '').length;
}

/** A name as asked for: the parameter's name and, after a colon, the version or label it selects. */
export interface ParameterSelector {
  readonly name: string;
  readonly version?: number;
  readonly label?: string;
  /** `:3` or `:label` as given, for the answer's `Selector`. */
  readonly selector?: string;
}

/** Splits `name:version` or `name:label` (names cannot hold a colon). */
export function parseSelector(given: string): ParameterSelector {
  const colon = given.indexOf(':');
  if (colon === -1) return { name: given };
  const name = given.slice(0, colon);
  const rest = given.slice(colon + 1);
  if (/^\d{1,18}$/.test(rest)) return { name, version: Number(rest), selector: `:${rest}` };
  if (rest === '' || rest.includes(':')) throw new AwsError('ValidationException', NAME_RULES);
  return { name, label: rest, selector: `:${rest}` };
}

/** Whether `label` may be attached: AWS names the others in `InvalidLabels` rather than failing. */
export function isValidLabel(label: string): boolean {
  return LABEL.test(label) && !/^\d/.test(label) && !RESERVED_PREFIX.test(label);
}
