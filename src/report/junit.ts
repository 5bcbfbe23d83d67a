import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as junitModule from 'junit-report-builder';
import type { Builder } from 'junit-report-builder';
import type { GradeResult } from '../grading/types.ts';

// A fresh builder (the package's default export is a module-level singleton).
// The package is CommonJS with a default export; reach it under either interop.
export function newJunitBuilder(): Builder {
  const mod = junitModule as unknown as { default: Builder | { default: Builder } };
  const first = mod.default;
  return ('newBuilder' in first ? first : first.default).newBuilder();
}

// Writes a JUnit report: one testsuite per challenge, one testcase per check
// (classname = challenge, so consumers that ignore suites still group them),
// failure text = the learner's feedback, harness faults as <error>, skipped
// checks as <skipped>, points as properties, the learner script's output in
// the testcase's system-out (GitLab reads it only there).
export async function writeJunitReport(result: GradeResult, file: string): Promise<void> {
  const builder = newJunitBuilder();
  const challenges = [...new Set(result.checks.map((check) => check.challenge))];
  for (const challenge of challenges) {
    const suite = builder.testSuite().name(`challenge ${challenge}`);
    const checks = result.checks.filter((check) => check.challenge === challenge);
    suite.property('score', String(checks.reduce((sum, check) => sum + check.score, 0)));
    suite.property('max_score', String(checks.filter((check) => check.status !== 'skipped').reduce((sum, check) => sum + check.max_score, 0)));
    const output = (result.scripts ?? [])
      .filter((script) => script.challenge === challenge)
      .map((script) => `== ${script.script} (exit ${script.exit_code ?? script.signal}${script.timed_out ? ', time limit' : ''})\n${script.output}${script.output_truncated ? '\n[output cut]' : ''}`)
      .join('\n');
    for (const check of checks) {
      const testCase = suite
        .testCase()
        .className(`lockgrader.challenge${challenge}`)
        .name(check.id)
        .time(check.duration_ms / 1000)
        .property('points', String(check.score))
        .property('max_points', String(check.max_score));
      if (check.status === 'fail') testCase.failure(check.feedback, 'check-failed');
      else if (check.status === 'error') testCase.error(check.feedback, 'harness-error');
      else if (check.status === 'skipped') testCase.skipped();
      if (output && !check.id.includes('.replay.')) testCase.standardOutput(output);
    }
  }
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  builder.writeTo(file);
}
