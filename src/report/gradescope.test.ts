import { expect, test } from '@jest/globals';
import type { GradeResult } from '../grading/types.ts';
import { toGradescope } from './gradescope.ts';
import { validateGradescope } from './schema-validation.ts';

const result: GradeResult = {
  lab: 'distributed-state-locking',
  status: 'graded',
  score: 10,
  max_score: 20,
  duration_ms: 1000,
  environment: { terraform: { binary: 'tofu', version: '1.11.5' }, backend: 'embedded' },
  checks: [
    { id: 'c1.lock-id', challenge: 1, status: 'fail', score: 0, max_score: 10, feedback: 'you reported "x"', duration_ms: 1, author_notes: 'expected "abc"' },
    { id: 'c1.holder', challenge: 1, status: 'pass', score: 10, max_score: 10, feedback: 'who is right', duration_ms: 1 },
    { id: 'c2.lock-released', challenge: 2, status: 'skipped', score: 0, max_score: 10, feedback: 'not asked', duration_ms: 0 },
  ],
};

test('hidden values appear only in an after-due-date test; skipped checks are left out', () => {
  const gs = toGradescope(result);
  expect(validateGradescope(gs)).toEqual([]);
  expect(gs.tests.map((t) => [t.name, t.visibility])).toEqual([
    ['c1.lock-id', 'visible'],
    ['c1.lock-id (answer)', 'after_due_date'],
    ['c1.holder', 'visible'],
  ]);
  const visibleText = gs.tests.filter((t) => t.visibility === 'visible').map((t) => t.output).join('\n');
  expect(visibleText).not.toContain('abc');
  expect(gs.score).toBe(10);
});
