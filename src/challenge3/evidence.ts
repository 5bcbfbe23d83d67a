// Challenge 3's evidence, as typed data: the pipeline's three runs (one under
// contention, two started together), every backend request of the challenge
// attributed to its run, the recorded commands (hints), and LOCKING.md.
import type { StateObject } from '../backend/lock-info.ts';
import type { ParsedRecord } from '../analysis/invocation-facts.ts';
import type { BackendRequest } from '../evidence/backend-log.ts';
import type { LockLeft, ScriptFacts, StoreNames } from '../challenge2/evidence.ts';

export interface Replay3 {
  names: StoreNames;
  baseline: StateObject | undefined;
}

/** One run of the learner's pipeline. */
export interface PipelineRun {
  /** The backend log label of this run. */
  run: string;
  /** The change it carried (TF_VAR_release). */
  release: string;
  script: ScriptFacts;
  /** Hints: the recording wrapper's records (written inside the sandbox). */
  records: ParsedRecord[];
  /** The real terraform processes the grader saw, with the arguments and TF_CLI_ARGS* the kernel had (a subset of what ran). */
  observed: Array<{ args: string[]; tf_cli_args: Record<string, string> }>;
}

export interface PipelineSource {
  /** challenge3/pipeline.sh or challenge3/workflow.yml */
  label: string;
  /** The text scanned for what is written (not only what ran). */
  text: string;
  /** What the harness did differently from GitHub (secrets, unsupported keys). */
  notes: string[];
}

export interface Learner3Doc {
  doc: string | undefined;
  docProblem?: string;
}

export type Learner3 =
  | ({ ok: false; problem: string } & Learner3Doc)
  | ({
      ok: true;
      pipeline: PipelineSource;
      contention: PipelineRun & {
        /** The run label of the harness's holder. */
        holderRun: string;
        /** Epoch ms the harness released its lock. */
        releasedAt: number;
        heldMs: number;
        holderExit: number | null;
        stateAfter: StateObject | undefined;
      };
      pair: PipelineRun[];
      /** Every request of the challenge, harness and learner runs. */
      requests: BackendRequest[];
      /** The first lock of the variant still held after the pair (object first), if any. */
      lockAfterPair: LockLeft | undefined;
      stateAfterPair: StateObject | undefined;
      digestAfterPair: string | undefined;
    } & Learner3Doc);
