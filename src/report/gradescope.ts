import type { GradeResult } from '../grading/types.ts';

/** Gradescope's autograder results.json (the fields lockgrader fills). */
export interface GradescopeResults {
  score: number;
  output: string;
  visibility: 'visible' | 'hidden' | 'after_due_date' | 'after_published';
  stdout_visibility: 'visible' | 'hidden';
  tests: Array<{ name: string; number: string; score: number; max_score: number; status: 'passed' | 'failed'; output: string; visibility: string; tags: string[] }>;
}

// Maps a grading to Gradescope's results.json: one test per asked check,
// visible at once. Hidden values (author notes such as the holder's right Lock
// ID, kept out of the feedback) go into an extra 0-point test per check that
// did not pass, visible only after the due date.
export function toGradescope(result: GradeResult): GradescopeResults {
  const graded = result.checks.filter((check) => check.status !== 'skipped');
  const tests: GradescopeResults['tests'] = [];
  graded.forEach((check, index) => {
    const number = `${check.challenge}.${index + 1}`;
    tests.push({
      name: check.id,
      number,
      score: check.score,
      max_score: check.max_score,
      status: check.status === 'pass' ? 'passed' : 'failed',
      output: check.status === 'error' ? `[not graded: harness error] ${check.feedback}` : check.feedback,
      visibility: 'visible',
      tags: [`challenge${check.challenge}`, check.status],
    });
    if (check.author_notes && check.status !== 'pass') {
      tests.push({
        name: `${check.id} (answer)`,
        number: `${number}.1`,
        score: 0,
        max_score: 0,
        status: 'failed',
        output: `What the check expected: ${check.author_notes}`,
        visibility: 'after_due_date',
        tags: [`challenge${check.challenge}`, 'answer'],
      });
    }
  });
  return {
    score: result.score,
    output:
      result.status === 'error'
        ? `The grading could not complete: ${result.error?.message ?? 'unknown error'}. No points were lost for it; please resubmit or contact staff.`
        : `Score ${result.score}/${result.max_score}.`,
    visibility: 'visible',
    stdout_visibility: 'hidden',
    tests,
  };
}
