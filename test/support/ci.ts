// Whether the tests run in CI (.ci/run sets LOCKGRADER_CI=1; hosted CI sets CI=true).
// In CI a test whose prerequisite is missing fails instead of being skipped.
import { describe, test } from '@jest/globals';

export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.LOCKGRADER_CI === '1';
}

/** One skipped test saying why (printed too), or in CI one failing test saying why. */
export function describeUnrunnable(title: string, reason: string): void {
  if (inCi()) {
    describe(title, () => {
      test(`cannot run: ${reason}`, () => {
        throw new Error(`in CI nothing may be skipped: ${reason}`);
      });
    });
    return;
  }
  process.stdout.write(`${title}: SKIPPED: ${reason}\n`);
  describe(title, () => {
    test.skip(`skipped: ${reason}`, () => undefined);
  });
}
