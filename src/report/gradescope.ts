import type { GradeResult } from '../grading/types.ts';

/** Gradescope's autograder results.json (the fields lockgrader fills). */
export interface GradescopeResults {
  score: number;
  output: string;
  visibility: 'visible' | 'hidden' | 'after_due_date' | 'after_published';
  stdout_visibility: 'visible' | 'hidden';
  tests: Array<{ name: string; number: string; score: number; max_score: number; status: 'passed' | 'failed'; output: string; visibility: string; tags: string[] }>;
}

// Maps a grading to Gradescope's results.json. Author notes (hidden values
// such as the right Lock ID) are never included; checks not asked for are left out.
export function toGradescope(result: GradeResult): GradescopeResults {
  const graded = result.checks.filter((check) => check.status !== 'skipped');
  return {
    score: result.score,
    output: result.status === 'error' ? `The grading could not complete: ${result.error?.message ?? 'unknown error'}. No points were lost for it; please resubmit or contact staff.` : `Score ${result.score}/${result.max_score}.`,
    visibility: 'visible',
    stdout_visibility: 'hidden',
    tests: graded.map((check, index) => ({
      name: check.id,
      number: `${check.challenge}.${index + 1}`,
      score: check.score,
      max_score: check.max_score,
      status: check.status === 'pass' ? 'passed' : 'failed',
      output: check.status === 'error' ? `[not graded: harness error] ${check.feedback}` : check.feedback,
      visibility: 'visible',
      tags: [`challenge${check.challenge}`, check.status],
    })),
  };
}
