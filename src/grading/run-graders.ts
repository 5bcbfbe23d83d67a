import { runCLI } from 'jest';
import type { AggregatedResult } from '@jest/test-result';
import { REPO_ROOT } from '../paths.ts';
import { CONTEXT_VARIABLE } from './context.ts';
import type { ChallengeNumber } from './types.ts';

export interface GraderRunSummary {
  /** Jest's own failures to run a suite (syntax error, crash), by challenge. */
  suiteErrors: Partial<Record<ChallengeNumber, string>>;
  /** Time from the call to Jest's first suite start (Jest start-up). */
  jestStartMs: number;
  durationMs: number;
}

export function graderFile(challenge: ChallengeNumber): string {
  return `<rootDir>/graders/challenge${challenge}.grader.ts`;
}

// Runs the grader suites of the asked challenges with Jest, in this process
// for one challenge and in parallel workers for several (when cores allow).
// The suites read the grading context from the file LOCKGRADER_CONTEXT names.
export async function runGraderSuites(
  challenges: ChallengeNumber[],
  contextFile: string,
  options: { maxWorkers?: number; verbose?: boolean } = {},
): Promise<GraderRunSummary> {
  const started = performance.now();
  const startedEpoch = Date.now();
  const previous = process.env[CONTEXT_VARIABLE];
  process.env[CONTEXT_VARIABLE] = contextFile;
  const config = {
    rootDir: REPO_ROOT,
    testMatch: challenges.map(graderFile),
    transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023' } }] },
    extensionsToTreatAsEsm: ['.ts'],
    moduleFileExtensions: ['ts', 'js', 'json'],
    testEnvironment: 'node',
    cacheDirectory: undefined,
  };
  const maxWorkers = options.maxWorkers ?? 1;
  let results: AggregatedResult;
  try {
    ({ results } = await runCLI(
      {
        _: [],
        $0: 'lockgrader',
        config: JSON.stringify(config),
        runInBand: maxWorkers <= 1 || challenges.length === 1,
        maxWorkers,
        silent: !options.verbose,
        reporters: options.verbose ? ['default'] : [],
        watchman: false,
        ci: true,
        passWithNoTests: false,
      },
      [REPO_ROOT],
    ));
  } finally {
    if (previous === undefined) delete process.env[CONTEXT_VARIABLE];
    else process.env[CONTEXT_VARIABLE] = previous;
  }
  const suiteErrors: Partial<Record<ChallengeNumber, string>> = {};
  let firstSuiteStart = Infinity;
  for (const suite of results.testResults) {
    const match = /challenge(\d)\.grader\.ts$/.exec(suite.testFilePath);
    if (suite.perfStats?.start) firstSuiteStart = Math.min(firstSuiteStart, suite.perfStats.start);
    if (match && suite.testExecError) suiteErrors[Number(match[1]) as ChallengeNumber] = suite.testExecError.message;
  }
  const jestStartMs = Number.isFinite(firstSuiteStart) ? Math.max(0, firstSuiteStart - startedEpoch) : 0;
  return { suiteErrors, jestStartMs, durationMs: performance.now() - started };
}
