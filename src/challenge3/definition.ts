import type { ChallengeDefinition } from '../grading/challenge-definition.ts';
import type { Learner3 } from './evidence.ts';
import {
  judgeLockFalseDocumented,
  judgeLockTimeoutUsed,
  judgeNoForceUnlock,
  judgeNoUnlockedWrites,
  judgeSerializedRuns,
  judgeWaitsThroughContention,
} from './judges.ts';
import { learnerChallenge3, replayChallenge3, type Replay3Run } from './scenario.ts';

export const challenge3: ChallengeDefinition<Replay3Run, Learner3> = {
  challenge: 3,
  typicalSeconds: 6.3,
  replay: replayChallenge3,
  replayJudges: {},
  learner: learnerChallenge3,
  judges: {
    'c3.lock-timeout-used': judgeLockTimeoutUsed,
    'c3.waits-through-contention': judgeWaitsThroughContention,
    'c3.serialized-runs': judgeSerializedRuns,
    'c3.no-unlocked-writes': judgeNoUnlockedWrites,
    'c3.no-force-unlock': judgeNoForceUnlock,
    'c3.lock-false-documented': judgeLockFalseDocumented,
  },
};
