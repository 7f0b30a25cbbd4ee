/**
 * @module logs/filter-pattern
 * CloudWatch Logs filter patterns for unstructured log events, the subset serverfull matches:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
 * - `ERROR Timeout`: every term must appear (AND), case-sensitive, anywhere in the message;
 * - `"Task timed out"`: a quoted phrase is one term, spaces included (`\"` is a quote inside it);
 * - `-DEBUG`: the message must not contain the term;
 * - `?ERROR ?WARN`: terms marked `?` are alternatives: at least one must appear.
 * JSON (`{ $.level = ... }`), space-delimited (`[ip, user, ...]`) and regular expression (`%...%`)
 * patterns are refused with `InvalidParameterException` rather than matched wrongly.
 */
import { AwsError } from '../errors.js';

/** A compiled filter pattern: whether a message matches. */
export type MessageFilter = (message: string) => boolean;

/** Longest pattern accepted: AWS's limit. */
const MAX_PATTERN_CHARS = 1024;

interface Terms {
  readonly required: string[];
  readonly excluded: string[];
  readonly optional: string[];
}

/** Compiles `pattern`; an empty or absent pattern matches every message. */
export function compileFilterPattern(pattern: string | undefined): MessageFilter {
  if (pattern === undefined || pattern.trim() === '') return () => true;
  if (pattern.length > MAX_PATTERN_CHARS) throw invalidPattern(`filterPattern must be at most ${MAX_PATTERN_CHARS} characters`);
  const first = pattern.trimStart()[0];
  if (first === '{' || first === '[' || first === '%') {
    throw invalidPattern('JSON, space-delimited and regular expression filter patterns are not supported by serverfull: use terms, "quoted phrases", -exclusions and ?alternatives');
  }
  const { required, excluded, optional } = readTerms(pattern);
  return (message) => {
    for (const term of required) if (!message.includes(term)) return false;
    for (const term of excluded) if (message.includes(term)) return false;
    if (optional.length === 0) return true;
    for (const term of optional) if (message.includes(term)) return true;
    return false;
  };
}

/** Splits a pattern into its terms, each with its mark (`-`, `?` or none). */
function readTerms(pattern: string): Terms {
  const terms: Terms = { required: [], excluded: [], optional: [] };
  let i = 0;
  while (i < pattern.length) {
    while (i < pattern.length && /\s/.test(pattern[i]!)) i++;
    if (i >= pattern.length) break;
    let list = terms.required;
    if (pattern[i] === '-' || pattern[i] === '?') {
      list = pattern[i] === '-' ? terms.excluded : terms.optional;
      i++;
    }
    let term = '';
    if (pattern[i] === '"') {
      i++;
      let closed = false;
      while (i < pattern.length) {
        const char = pattern[i]!;
        if (char === '\\' && i + 1 < pattern.length) {
          term += pattern[i + 1];
          i += 2;
          continue;
        }
        i++;
        if (char === '"') {
          closed = true;
          break;
        }
        term += char;
      }
      if (!closed) throw invalidPattern('a quoted phrase in filterPattern is not closed');
    } else {
      while (i < pattern.length && !/\s/.test(pattern[i]!)) term += pattern[i++];
    }
    if (term !== '') list.push(term);
  }
  return terms;
}

function invalidPattern(detail: string): AwsError {
  return new AwsError('InvalidParameterException', `Invalid filter pattern: ${detail}`);
}
