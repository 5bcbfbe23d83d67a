import { describe, expect, test } from '@jest/globals';
import type { Learner1, Replay1 } from './evidence.ts';
import { judgeHolder, judgeLockId, judgeOperation, judgeReplayContention } from './judges.ts';

const holder = { ID: 'a1b2c3d4-0000-4000-8000-000000000001', Operation: 'OperationTypeApply', Info: '', Who: 'root@build-agent-7f3a9c', Version: '1.11.4', Created: '2026-11-27T10:00:00Z', Path: 'b/k' };
const replay: Replay1 = { holder, itemLockId: 'b/lab/terraform.tfstate', plan: { exitCode: 1, output: 'Error: Error acquiring the state lock\n' }, lockDuringPlan: holder };
const expected = { ID: holder.ID, Who: holder.Who, Operation: holder.Operation };
const live = (answer: Record<string, string>): Learner1 => ({ ok: true, answer, source: 'live', expected });
const transcript = (answer: Record<string, string>): Learner1 => ({ ok: true, answer, source: 'transcript', expected });
const right = { lock_id: holder.ID, who: holder.Who, operation: holder.Operation };

describe('c1.replay.contention', () => {
  test.each([
    ['the scenario happened', replay, 'pass', /failed with "Error acquiring the state lock" \(exit 1\)/],
    ['the plan did not fail', { ...replay, plan: { exitCode: 0, output: 'No changes' } }, 'fail', /exited 0, expected 1; its output has no "Error acquiring the state lock"/],
    ['no lock item during the plan', { ...replay, lockDuringPlan: undefined }, 'fail', /did not hold the apply's lock \(no item\)/],
  ])('%s', (_name, r, status, feedback) => {
    const verdict = judgeReplayContention(r);
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
  });
});

describe('c1 learner checks', () => {
  test.each([
    ['lock id right (live)', judgeLockId, live(right), 'pass', /lock_id is right/, undefined],
    ['lock id: the item LockID', judgeLockId, live({ ...right, lock_id: replay.itemLockId }), 'fail', /the item's LockID \(bucket\/key\).*force-unlock needs the lock's own ID/, undefined],
    ['lock id: the digest item', judgeLockId, live({ ...right, lock_id: 'abc-md5' }), 'fail', /the digest item, not the lock/, undefined],
    ['lock id: wrong', judgeLockId, live({ ...right, lock_id: 'nope' }), 'fail', /you reported lock_id "nope", which is not the lock holder's Lock ID \(the ID field\)\. Read it from the Lock Info block of the failed plan/, undefined],
    [
      'lock id: the script wrote over the holder\'s lock first, and reported its own',
      judgeLockId,
      { ...live({ ...right, lock_id: 'mine' }), lockWrites: ['DynamoDB PutItem from the AWS CLI'] },
      'fail',
      /which is not the lock holder's Lock ID \(the ID field\)\. Your script wrote over the holder's lock before it answered \(the backend saw DynamoDB PutItem from the AWS CLI\), so what it read back was its own lock/,
      undefined,
    ],
    ['lock id: absent', judgeLockId, live({ who: holder.Who }), 'fail', /your answer has no "lock_id"/, undefined],
    ['holder right', judgeHolder, live(right), 'pass', /who is right: root@build-agent-7f3a9c/, undefined],
    ['holder guessed from the script\'s own user@host', judgeHolder, live({ ...right, who: 'root@learner' }), 'fail', /your own script's user@host; the lock was taken by another machine/, undefined],
    ['holder wrong', judgeHolder, live({ ...right, who: 'me' }), 'fail', /you reported who "me"/, undefined],
    ['operation right', judgeOperation, live(right), 'pass', /operation is right/, undefined],
    ['operation of the refused plan', judgeOperation, live({ ...right, operation: 'OperationTypePlan' }), 'fail', /belongs to the process holding the lock, not to the plan that was refused/, undefined],
    ['operation guessed, nothing else right', judgeOperation, live({ lock_id: 'x', who: 'root@learner', operation: holder.Operation }), 'fail', /credited only together with the right Lock ID or Who/, undefined],
    ['operation right with the right Who only', judgeOperation, live({ lock_id: 'x', who: holder.Who, operation: holder.Operation }), 'pass', /operation is right/, undefined],
    ['operation wrong', judgeOperation, live({ ...right, operation: 'apply' }), 'fail', /you reported operation "apply"/, undefined],
    ['transcript mode marks the evidence self-reported', judgeLockId, transcript(right), 'pass', /self-reported evidence/, 'self-reported'],
    ['transcript mode failure is self-reported too', judgeHolder, transcript({ ...right, who: 'x' }), 'fail', /Read it from the Lock Info block of your challenge1\/contention\.log/, 'self-reported'],
    ['an implausible transcript', judgeOperation, { ok: false, selfReported: true, problem: 'contention.log does not look like ...' } as Learner1, 'fail', /does not look like/, 'self-reported'],
    ['identify.sh failed', judgeOperation, { ok: false, selfReported: false, problem: 'identify.sh exited 1' } as Learner1, 'fail', /identify\.sh exited 1/, undefined],
    [
      'identify.sh printed the right answer, then ended non-zero: judged, and said',
      judgeHolder,
      { ...live(right), exitNote: 'challenge1/identify.sh exited 1 after printing its answer; the answer is judged, but a script should end with exit 0' },
      'pass',
      /^who is right: root@build-agent-7f3a9c \(challenge1\/identify\.sh exited 1 after printing its answer; the answer is judged, but a script should end with exit 0\)$/,
      undefined,
    ],
    [
      'a wrong answer and a non-zero end: both said',
      judgeLockId,
      { ...live({ ...right, lock_id: 'nope' }), exitNote: 'challenge1/identify.sh exited 2 after printing its answer; the answer is judged, but a script should end with exit 0' },
      'fail',
      /you reported lock_id "nope".*Read it from .*\. \(challenge1\/identify\.sh exited 2 after printing its answer/,
      undefined,
    ],
  ])('%s', (_name, judge, learner, status, feedback, evidence) => {
    const verdict = judge(replay, learner);
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
    expect(verdict.evidence).toBe(evidence);
    if (status === 'fail' && learner.ok && /you reported/.test(verdict.feedback)) expect(verdict.authorNotes).toContain('expected');
  });
});
