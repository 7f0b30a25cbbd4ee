/** Parameter Store rules that need no server: names, paths, selectors, labels, and the AllowedPattern guard. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError } from '../../src/errors.js';
import { checkName, checkNewName, checkPath, isValidLabel, parseSelector } from '../../src/parameters/parameter-names.js';
import { canBacktrackWithoutBound } from '../../src/parameters/parameter-service.js';

const IDENTITY = { region: 'us-east-1', accountId: '000000000000' };
const errorOf = (call: () => unknown): string | undefined => {
  try {
    call();
  } catch (error) {
    return (error as AwsError).type;
  }
  return undefined;
};

describe('parameter names', () => {
  it('take letters, digits and .-_ in /-separated levels, at most 15, and refuse the reserved prefixes for new ones', () => {
    for (const name of ['plain', '/a/b.c-d_e', `/${'x/'.repeat(14)}y`]) assert.equal(errorOf(() => checkNewName(name, IDENTITY)), undefined, name);
    const cases: [string, string][] = [
      ['a/b', 'ValidationException'], ['/a//b', 'ValidationException'], ['/a/', 'ValidationException'], ['/a b', 'ValidationException'], ['/a:b', 'ValidationException'],
      [`/${'x/'.repeat(15)}y`, 'HierarchyLevelLimitExceededException'], ['/aws/x', 'AccessDeniedException'], ['SSM-x', 'ValidationException'], ['/ssm', 'ValidationException'],
      [`/${'n'.repeat(1000)}`, 'ValidationException'],
    ];
    for (const [name, type] of cases) assert.equal(errorOf(() => checkNewName(name, IDENTITY)), type, name);
    // Reading a reserved name is no error: it simply finds nothing.
    assert.equal(errorOf(() => checkName('/aws/service/x', IDENTITY)), undefined);
  });

  it('read paths with or without a trailing slash, and "/"', () => {
    assert.equal(checkPath('/a/b/'), '/a/b');
    assert.equal(checkPath('/'), '/');
    assert.equal(errorOf(() => checkPath('a/b')), 'ValidationException');
  });

  it('split selectors into a version or a label', () => {
    assert.deepEqual(parseSelector('/a:12'), { name: '/a', version: 12, selector: ':12' });
    assert.deepEqual(parseSelector('/a:prod'), { name: '/a', label: 'prod', selector: ':prod' });
    assert.equal(errorOf(() => parseSelector('/a:b:c')), 'ValidationException');
  });

  it('accept labels as AWS does', () => {
    assert.deepEqual(['prod', 'v1.2_x-y', '1st', 'aws-x', 'SSMy', 'a b', 'x'.repeat(101)].map(isValidLabel), [true, true, false, false, false, false, false]);
  });
});

describe('the AllowedPattern guard', () => {
  it('refuses repeated groups holding a quantifier or an alternation, and backreferences', () => {
    for (const pattern of ['^(a+)+$', '(a|aa)*', '((ab)*)+', '(\\w+\\s?)*$', '(a)\\1', '(?:x+){2,}']) assert.equal(canBacktrackWithoutBound(pattern), true, pattern);
  });

  it('accepts the usual shapes', () => {
    for (const pattern of ['^\\d+$', '^[a-z0-9-]{3,63}$', '^(\\d{1,3}\\.){3}\\d{1,3}$', '^(?:https?)://[^ ]+$', '^[(a+)+]$', '(ab)+']) assert.equal(canBacktrackWithoutBound(pattern), false, pattern);
  });
});
