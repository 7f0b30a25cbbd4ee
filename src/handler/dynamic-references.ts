/**
 * @module handler/dynamic-references
 * CloudFormation's dynamic references to the Parameter Store in a function's environment variables:
 * `{{resolve:ssm:NAME}}`, `{{resolve:ssm:NAME:VERSION}}` (or `:LABEL`) and `{{resolve:ssm-secure:NAME[:VERSION]}}`,
 * replaced by the parameter's value when an execution environment starts (CloudFormation resolves them at
 * deployment; here a changed parameter reaches the next new environment).
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html
 */

const REFERENCE = /\{\{resolve:(ssm|ssm-secure):([a-zA-Z0-9_.\-/:]+)\}\}/g;

/** Reads a parameter (`NAME` or `NAME:VERSION`), decrypted, as the function may; throws when it may not or it does not exist. */
export type ParameterResolver = (name: string) => string;

/** Why a function's environment could not be built: the variable and the reference, never a value. */
export class DynamicReferenceError extends Error {
  constructor(readonly variable: string, readonly reference: string, cause: unknown) {
    const why = cause instanceof Error ? `${cause.name}${cause.message === '' ? '' : `: ${cause.message}`}` : String(cause);
    super(`environment variable ${variable}: cannot resolve ${reference}: ${why}`);
    this.name = 'DynamicReferenceError';
  }
}

/** Whether any value holds a dynamic reference: most environments hold none, and are returned as they are. */
export function hasDynamicReferences(environment: Readonly<Record<string, string>>): boolean {
  for (const value of Object.values(environment)) if (value.includes('{{resolve:ssm')) return true;
  return false;
}

/** `environment` with every reference replaced by its value; throws `DynamicReferenceError` for the first that fails. */
export function resolveDynamicReferences(environment: Readonly<Record<string, string>>, resolve: ParameterResolver): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [variable, value] of Object.entries(environment)) {
    resolved[variable] = value.replace(REFERENCE, (reference, _kind: string, name: string) => {
      try {
        return resolve(name);
      } catch (error) {
        throw new DynamicReferenceError(variable, reference, error);
      }
    });
  }
  return resolved;
}
