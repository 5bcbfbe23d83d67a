import { expect, test } from '@jest/globals';
import type { GradeResult } from '../grading/types.ts';
import { queueOutcome, type ChildEnd, type QueueOutcome } from './queue-outcome.ts';

const graded = { status: 'graded', score: 40, max_score: 100 } as GradeResult;
const errored = { status: 'error', score: 0, max_score: 100, error: { code: 'REPLAY_FAILED', message: 'the replay of c2 failed' } } as GradeResult;

const table: Array<[string, ChildEnd, QueueOutcome['kind'], RegExp?]> = [
  ['exit 0, graded results', { exitCode: 0, signal: null, result: graded }, 'complete'],
  ['exit 1 (below --fail-under), graded results', { exitCode: 1, signal: null, result: graded }, 'complete'],
  ['exit 0 but no results file', { exitCode: 0, signal: null, stderrTail: 'disk full' }, 'retry', /exit 0 but wrote no readable results: disk full/],
  ['exit 0 with results status error', { exitCode: 0, signal: null, result: errored }, 'retry', /results status "error"/],
  ['exit 2: unreadable submission', { exitCode: 2, signal: null, stderrTail: 'submission x does not exist' }, 'unrecoverable', /^SUBMISSION_UNREADABLE: grade exited 2: submission x does not exist$/],
  ['exit 2 even with a results file', { exitCode: 2, signal: null, result: graded }, 'unrecoverable'],
  ['exit 3 with an error results file', { exitCode: 3, signal: null, result: errored }, 'retry', /^REPLAY_FAILED: the replay of c2 failed$/],
  ['exit 3 without results (terraform missing)', { exitCode: 3, signal: null, stderrTail: 'no terraform' }, 'retry', /^grade exit 3: no terraform$/],
  ['exit 2 with grade\'s error line', { exitCode: 2, signal: null, stderrTail: 'lockgrader: SUBMISSION_UNREADABLE: submission /x is not a folder' }, 'unrecoverable', /^SUBMISSION_UNREADABLE: submission \/x is not a folder$/],
  ['exit 3 with grade\'s error line (no sandbox)', { exitCode: 3, signal: null, stderrTail: 'warming up | lockgrader: SANDBOX_UNAVAILABLE: no bwrap | ' }, 'retry', /^SANDBOX_UNAVAILABLE: no bwrap$/],
  ['killed by a signal (OOM killer)', { exitCode: null, signal: 'SIGKILL' }, 'retry', /ended by SIGKILL/],
  ['an unexpected exit status', { exitCode: 137, signal: null }, 'retry', /exit 137/],
  ['stopped: the worker shuts down', { exitCode: 143, signal: null, stoppedFor: 'shutdown' }, 'hand-back'],
  ['stopped after the grading had finished: the results are kept', { exitCode: 0, signal: null, result: graded, stoppedFor: 'shutdown' }, 'complete'],
  ['stopped by shutdown with an error results file', { exitCode: 143, signal: null, result: errored, stoppedFor: 'shutdown' }, 'hand-back'],
  ['stopped: the lock was lost', { exitCode: 143, signal: null, stoppedFor: 'lock-lost' }, 'retry', /lost the job's lock/],
  ['stopped: the time limit', { exitCode: null, signal: 'SIGKILL', stoppedFor: 'time-limit' }, 'retry', /time limit \(ended by SIGKILL\)/],
];

test.each(table.map(([name, end, kind, reason]) => ({ name, end, kind, reason })))('$name -> $kind', ({ end, kind, reason }) => {
  const outcome = queueOutcome(end);
  expect(outcome.kind).toBe(kind);
  if (outcome.kind === 'complete') expect(outcome.result).toBe(end.result);
  else if (reason) expect(outcome.reason).toMatch(reason);
});
