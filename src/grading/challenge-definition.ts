// What a challenge is, as data: the lab's scenario (replay), the learner's
// part, and one pure judge per contract check id. `grade` runs definitions in
// process (challenges in parallel); the Jest grader suites under graders/ run
// the very same definitions, one Jest test per check.
import type { Lab } from './lab.ts';
import type { ChallengeNumber } from './types.ts';
import type { Verdict } from './verdict.ts';

/** A check of the lab itself, judged on the replay's evidence alone. */
export type ReplayJudge<R> = (replay: R) => Verdict;
/** A learner check: a pure function of the evidence (no I/O, no terraform). */
export type LearnerJudge<R, L> = (replay: R, learner: L) => Verdict;

export interface ChallengeDefinition<R, L> {
  challenge: ChallengeNumber;
  /**
   * How long grading it takes on the reference, alone, in process (seconds, measured by the bench): when fewer
   * challenges run at once than are asked, the longest starts first and the others follow it in the other lanes.
   */
  typicalSeconds: number;
  /** Runs the lab's scenario and returns its evidence; throwing is a harness fault. */
  replay(lab: Lab): Promise<R>;
  /** Keyed by contract id (the `replay` checks of this challenge). */
  replayJudges: Readonly<Record<string, ReplayJudge<R>>>;
  /** Runs the learner's part against the replayed lab and returns its evidence. */
  learner(lab: Lab, replay: R): Promise<L>;
  /** Keyed by contract id (every learner check of this challenge). */
  judges: Readonly<Record<string, LearnerJudge<R, L>>>;
}

/** Any challenge definition (the registry holds different evidence types). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyChallengeDefinition = ChallengeDefinition<any, any>;
