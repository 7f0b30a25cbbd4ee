/**
 * @module auth/policy
 * IAM identity policies, the subset serverfull evaluates: `Effect`, `Action` and `Resource`
 * with `*` and `?` wildcards. Anything that would change the meaning of a statement if ignored
 * (`NotAction`, `NotResource`, `Condition`, `Principal`) is refused when the policy is loaded,
 * never silently skipped: an ignored condition on an Allow would grant more than written.
 */
import { ConfigError, check } from '../config/config-error.js';

/** One compiled statement: its effect and the patterns it matches. */
interface CompiledStatement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly RegExp[];
  readonly resources: readonly RegExp[];
}

/** A validated, compiled identity policy. */
export interface Policy {
  readonly statements: readonly CompiledStatement[];
}

/** What a policy says about one request: IAM's three outcomes. */
export type PolicyDecision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

const POLICY_KEYS = ['Version', 'Id', 'Statement'];
const STATEMENT_KEYS = ['Sid', 'Effect', 'Action', 'Resource'];
const UNSUPPORTED_KEYS = ['NotAction', 'NotResource', 'Condition', 'Principal', 'NotPrincipal'];
const VERSIONS = ['2012-10-17', '2008-10-17'];
const ACTION = /^(\*|[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+)$/;

/** Validates and compiles a policy document; `where` names it in the `ConfigError` of a mistake. */
export function parsePolicy(document: unknown, where: string): Policy {
  const policy = check.object(document, where);
  check.knownKeys(policy, where, POLICY_KEYS);
  if (policy.Version !== undefined) check.oneOf(policy.Version, `${where}.Version`, VERSIONS);
  if (policy.Statement === undefined) throw new ConfigError(`${where}.Statement is missing`);
  // IAM accepts a single statement object as well as a list.
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  return Object.freeze({ statements: Object.freeze(statements.map((s, i) => parseStatement(s, `${where}.Statement[${i}]`))) });
}

function parseStatement(value: unknown, where: string): CompiledStatement {
  const statement = check.object(value, where);
  for (const key of UNSUPPORTED_KEYS) {
    if (key in statement) {
      throw new ConfigError(`${where}: "${key}" is not supported by serverfull; write the statement with Action and Resource only`);
    }
  }
  check.knownKeys(statement, where, STATEMENT_KEYS);
  if (statement.Sid !== undefined) check.string(statement.Sid, `${where}.Sid`);
  const effect = check.oneOf(statement.Effect, `${where}.Effect`, ['Allow', 'Deny'] as const);
  const actions = stringList(statement.Action, `${where}.Action`).map((action, i) => {
    check.string(action, `${where}.Action[${i}]`, ACTION, 'an action such as "lambda:InvokeFunction", "lambda:Get*" or "*"');
    // IAM compares action names case-insensitively.
    return wildcard(action, 'i');
  });
  // Resources (ARNs) are case-sensitive.
  const resources = stringList(statement.Resource, `${where}.Resource`).map((resource) => wildcard(resource, ''));
  return Object.freeze({ effect, actions, resources });
}

function stringList(value: unknown, where: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === 'string' && item !== '')) {
    throw new ConfigError(`${where} must be a non-empty string or list of strings (got ${JSON.stringify(value)})`);
  }
  return list as string[];
}

/** An IAM pattern as an anchored regular expression: `*` any run of characters, `?` any one. */
function wildcard(pattern: string, flags: string): RegExp {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, `s${flags}`);
}

/** IAM's evaluation for one identity policy: an explicit Deny wins, then an Allow; nothing else is allowed. */
export function evaluatePolicy(policy: Policy, action: string, resource: string): PolicyDecision {
  let allowed = false;
  for (const statement of policy.statements) {
    if (!statement.actions.some((p) => p.test(action)) || !statement.resources.some((p) => p.test(resource))) continue;
    if (statement.effect === 'Deny') return 'ExplicitDeny';
    allowed = true;
  }
  return allowed ? 'Allow' : 'ImplicitDeny';
}

/** The policy `serverfull keys add --policy admin` writes: every Lambda, CloudWatch Logs, SNS and SSM Parameter Store action, on every resource. */
export const ADMIN_POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['lambda:*', 'logs:*', 'sns:*', 'ssm:*'], Resource: '*' }] } as const;

/** The policy `serverfull keys add --policy invoke` writes: invoke any function, nothing else. */
export const INVOKE_POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: '*' }] } as const;
