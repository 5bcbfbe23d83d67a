// One Jest test per fixture, named after it: verify graded it with no problem
// and every listed check as its expected.json says.
import { expect, test } from '@jest/globals';
import type { FixtureOutcome } from '../../src/grading/verify.ts';

export function testEveryFixture(fixtures: string[], outcomes: () => FixtureOutcome[]): void {
  test.each(fixtures)('%s', (fixture) => {
    const outcome = outcomes().find((o) => o.fixture === fixture);
    expect(outcome).toBeDefined();
    expect(outcome?.problems).toEqual([]);
    expect(outcome?.mismatches).toEqual([]);
  });
}
