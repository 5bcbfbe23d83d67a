import { runCLI } from 'jest';
import { REPO_ROOT } from '../paths.ts';
import type { ChallengeNumber } from './types.ts';

export function graderFile(challenge: ChallengeNumber): string {
  return `<rootDir>/graders/challenge${challenge}.grader.ts`;
}

/**
 * Runs the Jest grader suites of the asked challenges on one submission (the
 * way lab authors run them) and returns, per check id, whether its Jest test
 * passed. `grade` runs the same definitions in process; a test compares the two.
 */
export async function runGraderSuites(challenges: ChallengeNumber[], submission: string, options: { verbose?: boolean } = {}): Promise<Map<string, 'pass' | 'not-pass'>> {
  const previous = process.env.LOCKGRADER_SUBMISSION;
  process.env.LOCKGRADER_SUBMISSION = submission;
  const config = {
    rootDir: REPO_ROOT,
    testMatch: challenges.map(graderFile),
    transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023' } }] },
    extensionsToTreatAsEsm: ['.ts'],
    moduleFileExtensions: ['ts', 'js', 'json'],
    testEnvironment: 'node',
  };
  try {
    const { results } = await runCLI(
      { _: [], $0: 'lockgrader', config: JSON.stringify(config), runInBand: true, silent: !options.verbose, reporters: options.verbose ? ['default'] : [], watchman: false, ci: true },
      [REPO_ROOT],
    );
    const verdicts = new Map<string, 'pass' | 'not-pass'>();
    for (const suite of results.testResults) for (const test of suite.testResults) verdicts.set(test.title, test.status === 'passed' ? 'pass' : 'not-pass');
    return verdicts;
  } finally {
    if (previous === undefined) delete process.env.LOCKGRADER_SUBMISSION;
    else process.env.LOCKGRADER_SUBMISSION = previous;
  }
}
