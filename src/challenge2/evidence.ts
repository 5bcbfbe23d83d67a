import type { LimitHit } from '../grading/types.ts';
// Challenge 2's evidence, as typed data. Lock-related checks are decided
// from `requests` (what the backend saw, attributed by relay); the recorded
// terraform commands only add detail to the feedback.
import type { LockInfo, StateObject } from '../backend/lock-info.ts';
import type { ParsedRecord } from '../analysis/invocation-facts.ts';
import type { BackendRequest } from '../evidence/backend-log.ts';
import type { StoreNames } from '../evidence/store-names.ts';
import type { PlanOutcome } from '../analysis/plan-outcome.ts';

export type { StoreNames };

/** A lock still in the store: where, its raw Lock Info text, and the info when it parses. */
export interface LockLeft {
  place: 'item' | 'object';
  raw: string;
  info?: LockInfo;
}

export interface Replay2 {
  names: StoreNames;
  /** The release the killed apply was carrying (the change to complete). */
  changedRelease: string;
  /** The killed apply's lock ID, as the holder read it while it held the lock. */
  heldId: string;
  /** The (primary) lock left behind after the kill (undefined: none, or not Lock Info). */
  orphan: LockInfo | undefined;
  killed: { signal: string | null; exitCode: number | null };
  stateBefore: StateObject | undefined;
  stateAfterKill: StateObject | undefined;
}

export interface ScriptFacts {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  output: string;
  timeoutMs: number;
  /** Resource limits the run reached (memory, disk, processes, CPU). */
  limitsReached?: LimitHit[];
}

export type Learner2 =
  | { ran: false; problem: string }
  | {
      ran: true;
      script: ScriptFacts;
      /** The backend log label of the learner's run. */
      run: string;
      /** Every request of the challenge (harness and learner), in arrival order. */
      requests: BackendRequest[];
      /** Hints: the recording wrapper's records. */
      records: ParsedRecord[];
      /**
       * Real plan -out / apply commands of the run (seen from outside the sandbox) whose configuration was not the
       * lab's when they started (main.tf changed or gone, an override file added), e.g.
       * "terraform apply -auto-approve ran in /w with zz_override.tf": their deploy step may not be the lab's.
       */
      configChanges: string[];
      /** The first lock of the variant still held after the script (object first), if any. */
      lockAfter: LockLeft | undefined;
      /** What the script destroyed (the table, the bucket). */
      damage: string[];
      stateAfter: StateObject | undefined;
      digestAfter: string | undefined;
      /** The harness's own plan -detailed-exitcode afterwards. */
      plan: { outcome: PlanOutcome; exitCode: number | null; output: string };
    };
