// What a finished `grade` child means for its queue job — a pure function of
// how the child ended, table-tested (queue-outcome.test.ts):
//   exit 0/1 with a graded results file  -> complete the job, the results as its value
//   exit 2 (unreadable submission)        -> fail it for good (UnrecoverableError)
//   exit 3, a signal, no results, ...     -> throw: BullMQ retries with backoff
//   stopped because the worker shuts down -> hand the job back to the queue (not an attempt)
// (a graded results file wins: the grading finished before any stop reached it)
import type { GradeResult } from '../grading/types.ts';

export interface ChildEnd {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The results file, when it could be read and parsed. */
  result?: GradeResult;
  /** Why the worker stopped the child, when it did. */
  stoppedFor?: 'shutdown' | 'lock-lost' | 'time-limit';
  /** The last lines of its stderr. */
  stderrTail?: string;
}

export type QueueOutcome =
  | { kind: 'complete'; result: GradeResult }
  | { kind: 'unrecoverable'; reason: string }
  | { kind: 'retry'; reason: string }
  | { kind: 'hand-back'; reason: string };

function how(end: ChildEnd): string {
  return end.signal ? `ended by ${end.signal}` : `exit ${end.exitCode}`;
}

function tail(end: ChildEnd): string {
  return end.stderrTail ? `: ${end.stderrTail}` : '';
}

/** "CODE: message" from the error line grade prints before exiting 2 or 3 without results ("lockgrader: CODE: message"). */
export function errorLineOf(stderrTail: string | undefined): string | undefined {
  const match = /(?:^|\| )lockgrader: ([A-Z][A-Z_]+): (.*?)(?= \| |$)/.exec(stderrTail ?? '');
  return match ? `${match[1]}: ${match[2]}` : undefined;
}

export function queueOutcome(end: ChildEnd): QueueOutcome {
  // A grading that finished before the stop reached it is kept, whatever stopped after.
  if ((end.exitCode === 0 || end.exitCode === 1) && end.result?.status === 'graded') return { kind: 'complete', result: end.result };
  if (end.stoppedFor === 'shutdown') return { kind: 'hand-back', reason: 'the worker is shutting down' };
  if (end.stoppedFor === 'lock-lost') return { kind: 'retry', reason: "the worker lost the job's lock (another worker took it over)" };
  if (end.stoppedFor === 'time-limit') return { kind: 'retry', reason: `the grading passed the worker's time limit (${how(end)})` };
  if (end.exitCode === 2) return { kind: 'unrecoverable', reason: errorLineOf(end.stderrTail) ?? `SUBMISSION_UNREADABLE: grade exited 2${tail(end)}` };
  if (end.exitCode === 0 || end.exitCode === 1) {
    if (end.result?.status === 'graded') return { kind: 'complete', result: end.result };
    if (end.result) return { kind: 'retry', reason: `grade ${how(end)} with results status "${end.result.status}"` };
    return { kind: 'retry', reason: `grade ${how(end)} but wrote no readable results${tail(end)}` };
  }
  if (end.exitCode === 3 && end.result?.error) return { kind: 'retry', reason: `${end.result.error.code}: ${end.result.error.message}` };
  return { kind: 'retry', reason: (end.exitCode === 3 ? errorLineOf(end.stderrTail) : undefined) ?? `grade ${how(end)}${tail(end)}` };
}
