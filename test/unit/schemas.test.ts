import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { CHECKS } from '../../src/grading/checks.ts';
import type { GradeResult } from '../../src/grading/types.ts';
import { toGradescope } from '../../src/report/gradescope.ts';
import { RESULTS_SCHEMA_FILE, validateGradescope, validateResults } from '../../src/report/schema-validation.ts';

// A complete, valid results file: every contract check, scripts and a timeline.
function validResult(): GradeResult {
  return {
    lab: 'distributed-state-locking',
    status: 'graded',
    score: 90,
    max_score: 100,
    duration_ms: 5123,
    environment: {
      terraform: { binary: 'tofu', version: '1.11.5', path: '/usr/local/bin/tofu' },
      backend: 'embedded',
      backend_description: 'dynalite + s3rver',
      sandbox: 'none',
    },
    checks: CHECKS.map((definition, index) => ({
      id: definition.id,
      challenge: definition.challenge,
      status: index === 1 ? 'fail' : 'pass',
      score: index === 1 ? 0 : definition.points,
      max_score: definition.points,
      feedback: index === 1 ? 'lock_id is not the holder\'s Lock ID' : 'ok',
      duration_ms: 12,
      ...(index === 1 ? { author_notes: 'holder Lock ID 1234' } : {}),
    })),
    scripts: [
      { challenge: 2, script: 'challenge2/recover.sh', exit_code: 0, signal: null, timed_out: false, duration_ms: 600, output: 'unlocked\n', output_truncated: false },
      { challenge: 3, script: 'challenge3/pipeline.sh', exit_code: null, signal: 'SIGKILL', timed_out: true, duration_ms: 120000, output: '', output_truncated: true },
    ],
    timeline: [
      { at_ms: 10, challenge: 2, kind: 'lock-held', detail: 'apply holds lock 1234' },
      { at_ms: 20, challenge: 2, kind: 'apply-killed', detail: 'SIGKILL to terraform pid 99' },
    ],
  };
}

describe('results.schema.json', () => {
  test('a full results file is valid', () => {
    expect(validateResults(validResult())).toEqual([]);
  });

  test('the minimal contract fields are enough', () => {
    const { lab, status, score, max_score, duration_ms, environment, checks } = validResult();
    expect(validateResults({ lab, status, score, max_score, duration_ms, environment, checks })).toEqual([]);
  });

  test('an error result carries its error', () => {
    const result = { ...validResult(), status: 'error', error: { code: 'REPLAY_FAILED', message: 'the apply never took the lock' } };
    expect(validateResults(result)).toEqual([]);
    const { error: _error, ...withoutError } = result;
    expect(validateResults(withoutError)).toEqual(["(root): must have required property 'error'"]);
  });

  test('the check id enum is exactly the contract ids of CHECKS, in order', () => {
    const schema = JSON.parse(readFileSync(RESULTS_SCHEMA_FILE, 'utf8')) as { $defs: { checkId: { enum: string[] } } };
    expect(schema.$defs.checkId.enum).toEqual(CHECKS.map((check) => check.id));
    expect(schema.$defs.checkId.enum).toHaveLength(17);
  });

  test('a missing score fails', () => {
    const { score: _score, ...broken } = validResult();
    expect(validateResults(broken)).toEqual(["(root): must have required property 'score'"]);
  });

  test('an unknown check id fails', () => {
    const result = validResult();
    result.checks[3] = { ...result.checks[3]!, id: 'c1.lock-idd' };
    const problems = validateResults(result);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^\/checks\/3\/id: must be equal to one of the allowed values/);
  });

  test('a bad check status fails', () => {
    const result = validResult() as unknown as { checks: Array<Record<string, unknown>> };
    result.checks[0]!.status = 'passed';
    expect(validateResults(result)).toEqual(['/checks/0/status: must be equal to one of the allowed values (pass, fail, error, skipped)']);
  });

  test('a bad run status fails', () => {
    expect(validateResults({ ...validResult(), status: 'done' })).toEqual(['/status: must be equal to one of the allowed values (graded, error)']);
  });

  test('wrong types and unknown fields fail', () => {
    const result = validResult() as unknown as Record<string, unknown>;
    result.score = '90';
    result.extra = true;
    (result.timeline as Array<Record<string, unknown>>)[0]!.challenge = 4;
    (result.environment as { terraform: Record<string, unknown> }).terraform.binary = 'opentofu';
    const problems = validateResults(result);
    expect(problems).toEqual(
      expect.arrayContaining([
        '/score: must be number',
        '(root): must NOT have additional properties: "extra"',
        '/timeline/0/challenge: must be equal to one of the allowed values (1, 2, 3)',
        '/environment/terraform/binary: must be equal to one of the allowed values (terraform, tofu)',
      ]),
    );
  });

  test('not an object at all', () => {
    expect(validateResults(null)).toEqual(['(root): must be object']);
    expect(validateResults([])).toEqual(['(root): must be object']);
  });
});

describe('gradescope.schema.json', () => {
  test('what toGradescope writes is valid', () => {
    const gradescope = toGradescope(validResult());
    // 17 checks, plus one after-due-date "answer" test for the failed check with author notes.
    expect(gradescope.tests).toHaveLength(18);
    expect(validateGradescope(gradescope)).toEqual([]);
    const errored = toGradescope({ ...validResult(), status: 'error', error: { code: 'CHECK_ERROR', message: 'boom' } });
    expect(validateGradescope(errored)).toEqual([]);
  });

  test("Gradescope's optional fields are allowed", () => {
    const gradescope = { ...toGradescope(validResult()), execution_time: 5, output_format: 'md', leaderboard: [{ name: 'score', value: 90 }] };
    expect(validateGradescope(gradescope)).toEqual([]);
  });

  test('a missing score fails', () => {
    const { score: _score, ...broken } = toGradescope(validResult());
    expect(validateGradescope(broken)).toEqual(["(root): must have required property 'score'"]);
  });

  test('a bad test status fails', () => {
    const gradescope = toGradescope(validResult()) as unknown as { tests: Array<Record<string, unknown>> };
    gradescope.tests[0]!.status = 'pass';
    expect(validateGradescope(gradescope)).toEqual(['/tests/0/status: must be equal to one of the allowed values (passed, failed)']);
  });

  test('a bad visibility and a test without max_score fail', () => {
    const gradescope = toGradescope(validResult()) as unknown as Record<string, unknown> & { tests: Array<Record<string, unknown>> };
    gradescope.visibility = 'public';
    delete gradescope.tests[2]!.max_score;
    expect(validateGradescope(gradescope)).toEqual([
      '/visibility: must be equal to one of the allowed values (hidden, after_due_date, after_published, visible)',
      "/tests/2: must have required property 'max_score'",
    ]);
  });

  test('author notes reach Gradescope only in after-due-date tests (and there is no such field)', () => {
    const gradescope = toGradescope(validResult()) as unknown as { tests: Array<Record<string, unknown>> };
    const visible = gradescope.tests.filter((t) => t.visibility !== 'after_due_date');
    expect(JSON.stringify(visible)).not.toContain('holder Lock ID 1234');
    expect(gradescope.tests.filter((t) => JSON.stringify(t).includes('holder Lock ID 1234')).map((t) => t.visibility)).toEqual(['after_due_date']);
    gradescope.tests[1]!.author_notes = 'x';
    expect(validateGradescope(gradescope)).toEqual(['/tests/1: must NOT have additional properties: "author_notes"']);
  });
});
