import { describe, expect, test } from '@jest/globals';
import { gradingTempRoots } from './temp-roots.ts';

describe('the temp folders of gradings, hidden from learner scripts', () => {
  test.each([
    ['a run folder in /tmp: the private /tmp hides it', '/tmp/lockgrader-run-a', {}, []],
    ['a run folder under /tmp', '/tmp/x/lockgrader-run-a', {}, []],
    ['TMPDIR elsewhere: its folder, with every other grading in it', '/work/tmp/lockgrader-run-a', {}, ['/work/tmp']],
    [
      "a queue worker's job: the job folder and the worker's TMPDIR it names",
      '/data/lgw-7-abc/3/lockgrader-run-a',
      { LOCKGRADER_SANDBOX_HIDE: '/data' },
      ['/data/lgw-7-abc/3', '/data'],
    ],
    ['never / nor a relative or repeated name', '/lockgrader-run-a', { LOCKGRADER_SANDBOX_HIDE: 'rel:/:/srv/t:/srv/t/' }, ['/srv/t']],
  ] as const)('%s', (_what, runDir, env, roots) => {
    expect(gradingTempRoots(runDir, env)).toEqual(roots);
  });
});
