import { describe, expect, test } from '@jest/globals';
import { DEFAULT_CHALLENGES_AT_ONCE, startOrder } from './grade.ts';

describe('which challenges start first when fewer run at once than are asked', () => {
  test.each([
    [[1, 2, 3], [3, 1, 2]],
    [[1, 2], [1, 2]],
    [[2, 3], [3, 2]],
    [[3], [3]],
  ] as const)('%j starts as %j', (asked, order) => {
    expect(startOrder([...asked])).toEqual(order);
  });

  test('two at once by default: challenge 3 beside 1 then 2', () => {
    expect(DEFAULT_CHALLENGES_AT_ONCE).toBe(2);
  });
});
