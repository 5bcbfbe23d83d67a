import { expect, test } from '@jest/globals';
import { planOutcome } from './plan-outcome.ts';

test.each([
  [0, 'no-changes'],
  [2, 'changes'],
  [1, 'error'],
  [undefined, 'error'],
  [null, 'error'],
])('plan -detailed-exitcode exit %p means %s', (exit, outcome) => {
  expect(planOutcome(exit)).toBe(outcome);
});
