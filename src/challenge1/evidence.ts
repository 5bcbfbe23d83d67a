// Challenge 1's evidence, as typed data: what the replay did (the holder's
// lock, the refused plan) and what the learner reported.
import type { LabVariant } from '../backend/lab-variant.ts';
import type { LockInfo } from '../backend/lock-info.ts';
import type { LockAnswer } from './answers.ts';

export interface Replay1 {
  /** The lab variant (default dynamodb): where the lock is to be read. */
  variant?: LabVariant;
  /** The holder's lock, as the harness read it from the store. */
  holder: LockInfo;
  /** The LockID of the lock item, also the Path of the Lock Info (bucket/key): a wrong answer learners often give. */
  itemLockId: string;
  plan: { exitCode: number | null; output: string };
  /** The lock's Info (the item's, or the .tflock object's body) while the plan ran (undefined: none, or not Lock Info). */
  lockDuringPlan: LockInfo | undefined;
}

export type Expected1 = Pick<LockInfo, 'ID' | 'Who' | 'Operation'>;

export type Learner1 =
  | { ok: false; problem: string; selfReported: boolean }
  | {
      ok: true;
      answer: LockAnswer;
      /** live: the holder's lock (read by the harness); transcript: the learner's own contention.log. */
      source: 'live' | 'transcript';
      expected: Expected1;
      /**
       * live: the writes over the holder's lock the backend saw from the learner's run (put-item, or a put of the
       * .tflock), e.g. "DynamoDB PutItem from the AWS CLI": after one, the lock the script read back was its own.
       */
      lockWrites?: string[];
      /** live: how identify.sh ended when not with exit 0 after printing an answer (the answer is still judged). */
      exitNote?: string;
    };
