import { describe, expect, test } from '@jest/globals';
import { type ExpressionValue, evaluateExpression, falsy } from './workflow-expression.ts';

const CONTEXT: Record<string, ExpressionValue> = {
  'github.event_name': 'push',
  'github.ref': 'refs/heads/main',
  'env.LOCK': '90s',
  'env.EMPTY': '',
  'env.LIST': '["dev","prod"]',
};
const resolve = (path: string[]): ExpressionValue | undefined => CONTEXT[path.join('.')];

describe('GitHub expressions', () => {
  test.each<[string, ExpressionValue]>([
    ["github.ref == 'refs/heads/main'", true],
    ["github.ref == 'REFS/HEADS/MAIN'", true], // strings compare ignoring case
    ["github.event_name == 'push' && github.ref == 'refs/heads/main'", true],
    ["github.event_name == 'pull_request' || github.ref == 'refs/heads/main'", true],
    ["!(github.event_name == 'pull_request')", true],
    ["github.event_name != 'push'", false],
    ["github['event_name']", 'push'],
    ["env.LOCK || '5m'", '90s'],
    ["env.EMPTY || '5m'", '5m'],
    ["env.EMPTY && 'x'", ''],
    ['1 == true', true],
    ["'1' == 1", true],
    ["'abc' == 0", false],
    ['null == 0', true],
    ['2 > 10', false],
    ["'b' > 'A'", true],
    ['0xff == 255', true],
    ["'It''s' == 'it''S'", true],
    ["contains('Hello world', 'WORLD')", true],
    ["contains(fromJSON(env.LIST), 'prod')", true],
    ["startsWith(github.ref, 'refs/heads/')", true],
    ["endsWith(github.ref, '/dev')", false],
    ["format('{0}-{1} {{x}}', 'a', 1)", 'a-1 {x}'],
    ["join(fromJSON(env.LIST), ', ')", 'dev, prod'],
    ['success() && !failure() && !cancelled() && always()', true],
    ['fromJSON(\'{"a":[1,2]}\').a[1]', 2],
  ])('%s → %j', (expression, expected) => {
    expect(evaluateExpression(expression, resolve)).toEqual({ value: expected, unknown: [] });
  });

  test('unknown context paths are null and listed once', () => {
    expect(evaluateExpression("github.sha != '' && github.sha != 'x' || steps.plan.outputs.exitcode == 2", resolve)).toEqual({
      value: false,
      unknown: ['github.sha', 'steps.plan.outputs.exitcode'],
    });
  });

  test.each([["github.ref == 'x"], ['github.ref ==='], ['(true'], ["hashFiles('*.tf')"], ['a.'], ['"double quoted"']])('%s is an error', (expression) => {
    expect(() => evaluateExpression(expression, resolve)).toThrow();
  });

  test.each<[ExpressionValue, boolean]>([
    [false, true],
    [0, true],
    ['', true],
    [null, true],
    [Number.NaN, true],
    ['false', false],
    ['0', false],
    [[], false],
    [{}, false],
  ])('falsy(%j) is %s', (value, expected) => {
    expect(falsy(value)).toBe(expected);
  });
});
