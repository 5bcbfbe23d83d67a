// Challenge 1's judges: pure functions of the evidence.
import type { LabVariant } from '../backend/lab-variant.ts';
import { fail, pass, withEvidence, type Verdict } from '../grading/verdict.ts';
import type { LockAnswer } from './answers.ts';
import type { Learner1, Replay1 } from './evidence.ts';

const PLAN_LOG = 'the Lock Info block of the failed plan ($LAB_CONTENTION_LOG)';
const ITEM = 'the Info attribute of the lock item (LockID = $LAB_STATE_BUCKET/$LAB_STATE_KEY)';
const OBJECT = 'the body of the lock object ($LAB_LOCK_OBJECT, s3://$LAB_STATE_BUCKET/$LAB_STATE_KEY.tflock)';

/** Where the learner can read the holder's lock, per lab variant. */
function where(source: 'live' | 'transcript', variant: LabVariant = 'dynamodb'): string {
  if (source === 'transcript') return 'the Lock Info block of your challenge1/contention.log';
  return { dynamodb: `${PLAN_LOG} or ${ITEM}`, lockfile: `${PLAN_LOG} or ${OBJECT}`, both: `${PLAN_LOG}, ${OBJECT} or ${ITEM}` }[variant];
}

function lockNoun(variant: LabVariant = 'dynamodb'): string {
  return variant === 'dynamodb' ? 'the lock item' : 'the lock object';
}

const EXPECTED_FIELD = { lock_id: 'ID', who: 'Who', operation: 'Operation' } as const;

export function judgeReplayContention(replay: Replay1): Verdict {
  const problems: string[] = [];
  if (replay.plan.exitCode !== 1) problems.push(`the concurrent plan exited ${replay.plan.exitCode}, expected 1`);
  if (!/Error acquiring the state lock/i.test(replay.plan.output)) problems.push('its output has no "Error acquiring the state lock"');
  if (replay.lockDuringPlan?.ID !== replay.holder.ID) problems.push(`${lockNoun(replay.variant)} did not hold the apply's lock (${replay.lockDuringPlan?.ID ?? ((replay.variant ?? 'dynamodb') === 'dynamodb' ? 'no item' : 'no object')})`);
  return problems.length === 0
    ? pass(`a plan run while apply ${replay.holder.ID} held the lock failed with "Error acquiring the state lock" (exit 1)`)
    : fail(problems.join('; '));
}

function judgeField(replay: Replay1, learner: Learner1, field: keyof LockAnswer, label: string, hint: (given: string) => string | undefined): Verdict {
  if (!learner.ok) {
    const verdict = fail(learner.problem);
    return learner.selfReported ? withEvidence(verdict, 'self-reported') : verdict;
  }
  const given = learner.answer[field];
  const expected = learner.expected[EXPECTED_FIELD[field]];
  const source = learner.source;
  const mark = (verdict: Verdict) => (source === 'transcript' ? withEvidence(verdict, 'self-reported') : verdict);
  if (given === undefined || given === '') return mark(fail(`your answer has no "${field}"; report the ${label} from ${where(source, replay.variant)}`));
  const ended = learner.exitNote === undefined ? '' : ` (${learner.exitNote})`;
  if (given === expected) return mark(pass(`${field} is right: ${given}${source === 'transcript' ? ' (checked against your own contention.log: self-reported evidence)' : ''}${ended}`));
  const extra = hint(given);
  const overwrote = learner.lockWrites?.length
    ? ` Your script wrote over the holder's lock before it answered (the backend saw ${learner.lockWrites.join(', ')}), so what it read back was its own lock, not the holder's.`
    : '';
  return mark(fail(`you reported ${field} ${JSON.stringify(given)}, which is not the ${label}${extra ? `: ${extra}` : ''}.${overwrote} Read it from ${where(source, replay.variant)}.${ended}`, `expected ${JSON.stringify(expected)}`));
}

export function judgeLockId(replay: Replay1, learner: Learner1): Verdict {
  return judgeField(replay, learner, 'lock_id', "lock holder's Lock ID (the ID field)", (given) => {
    const ownId = 'force-unlock needs the lock\'s own ID, the "ID:" line inside Lock Info';
    if (given.endsWith('-md5')) return 'that is the digest item, not the lock';
    if (given.endsWith('.tflock') || given.startsWith('s3://')) return `that names the lock object (the state's key plus .tflock), not the lock; ${ownId}`;
    if (given === replay.itemLockId || given.includes('/')) {
      return replay.variant === 'lockfile'
        ? `that is the lock's Path (bucket/key), which names the state; ${ownId}`
        : `that is the item's LockID (bucket/key), which names the state; ${ownId}`;
    }
    return undefined;
  });
}

export function judgeHolder(replay: Replay1, learner: Learner1): Verdict {
  return judgeField(replay, learner, 'who', "holder's Who (user@host of the process holding the lock)", (given) =>
    learner.ok && learner.source === 'live' && /@learner$/.test(given)
      ? "that is your own script's user@host; the lock was taken by another machine, whose Who is in the Lock Info"
      : undefined,
  );
}

/**
 * The holder's Operation is the same in every grading of this lab (an apply
 * holds the lock), so a constant would earn it without reading anything: it
 * is credited only when the same answer shows the Lock Info was read (the
 * right Lock ID or the right Who, neither of which can be guessed).
 */
export function judgeOperation(replay: Replay1, learner: Learner1): Verdict {
  const verdict = judgeOperationField(replay, learner);
  if (verdict.status !== 'pass' || !learner.ok) return verdict;
  const readIt = learner.answer.lock_id === learner.expected.ID || learner.answer.who === learner.expected.Who;
  if (readIt) return verdict;
  return { ...verdict, status: 'fail', feedback: `operation matches, but it is credited only together with the right Lock ID or Who from the same Lock Info block (every holder in this lab runs ${learner.expected.Operation}, so the operation alone shows nothing was read)` };
}

function judgeOperationField(replay: Replay1, learner: Learner1): Verdict {
  return judgeField(replay, learner, 'operation', "holder's Operation", (given) =>
    learner.ok && given === 'OperationTypePlan' && learner.expected.Operation !== 'OperationTypePlan'
      ? `you reported OperationTypePlan; the holder was running ${learner.expected.Operation} — the Operation in the Lock Info block belongs to the process holding the lock, not to the plan that was refused`
      : undefined,
  );
}
