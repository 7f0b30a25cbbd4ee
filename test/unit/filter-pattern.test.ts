/** CloudWatch filter patterns over unstructured messages: terms, phrases, exclusions, alternatives. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError } from '../../src/errors.js';
import { compileFilterPattern } from '../../src/logs/filter-pattern.js';

const MESSAGE = '2024-01-01T00:00:00.000Z\tid-1\tERROR\tTask timed out after 3.00 seconds\n';

describe('compileFilterPattern', () => {
  const cases: ReadonlyArray<readonly [pattern: string | undefined, matches: boolean]> = [
    [undefined, true],
    ['', true],
    ['   ', true],
    ['ERROR', true],
    ['error', false],
    ['ERROR Task', true],
    ['ERROR WARN', false],
    ['"timed out after"', true],
    ['"out timed"', false],
    ['ERROR "Task timed out"', true],
    ['-DEBUG', true],
    ['ERROR -Task', false],
    ['?WARN ?ERROR', true],
    ['?WARN ?INFO', false],
    ['Task ?WARN ?ERROR', true],
    ['"say \\"hi\\""', false],
  ];
  for (const [pattern, matches] of cases) {
    it(`${JSON.stringify(pattern)} ${matches ? 'matches' : 'does not match'}`, () => {
      assert.equal(compileFilterPattern(pattern)(MESSAGE), matches);
    });
  }

  it('reads an escaped quote inside a phrase', () => {
    assert.equal(compileFilterPattern('"say \\"hi\\""')('they say "hi" here'), true);
  });

  it('refuses the patterns it does not match, rather than matching them wrongly', () => {
    for (const pattern of ['{ $.level = "ERROR" }', '[ip, user]', '%ERR.*%', '"unclosed', 'x'.repeat(1025)]) {
      assert.throws(() => compileFilterPattern(pattern), (error: unknown) => error instanceof AwsError && error.type === 'InvalidParameterException', pattern);
    }
  });
});
