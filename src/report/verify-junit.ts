import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FixtureOutcome } from '../grading/verify.ts';
import { newJunitBuilder } from './junit.ts';

// verify's JUnit: one testsuite per fixture, one testcase per expected cell.
export async function writeVerifyJunit(outcomes: FixtureOutcome[], file: string): Promise<void> {
  const builder = newJunitBuilder();
  for (const outcome of outcomes) {
    const suite = builder.testSuite().name(`fixture ${outcome.fixture}`);
    for (const cell of outcome.cells) {
      const testCase = suite.testCase().className(`lockgrader.verify.${outcome.fixture}`).name(cell.check);
      if (cell.expected !== cell.got) testCase.failure(`expected ${cell.expected}, got ${cell.got}: ${cell.feedback}`, 'mismatch');
    }
    for (const problem of outcome.problems) suite.testCase().className(`lockgrader.verify.${outcome.fixture}`).name('fixture').failure(problem, 'problem');
  }
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  builder.writeTo(file);
}
