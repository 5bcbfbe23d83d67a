import type { ChallengeDefinition } from '../grading/challenge-definition.ts';
import type { Learner2 } from './evidence.ts';
import {
  judgeForceUnlockUsed,
  judgeLockReleased,
  judgeNoUnlockedWrites,
  judgeReplayOrphanedLock,
  judgeScriptSucceeds,
  judgeStateIntact,
  judgeZeroDrift,
} from './judges.ts';
import { learnerChallenge2, replayChallenge2, type Replay2Run } from './scenario.ts';

export const challenge2: ChallengeDefinition<Replay2Run, Learner2> = {
  challenge: 2,
  typicalSeconds: 2.7,
  replay: replayChallenge2,
  replayJudges: { 'c2.replay.orphaned-lock': judgeReplayOrphanedLock },
  learner: learnerChallenge2,
  judges: {
    'c2.script-succeeds': judgeScriptSucceeds,
    'c2.lock-released': judgeLockReleased,
    'c2.force-unlock-used': judgeForceUnlockUsed,
    'c2.no-unlocked-writes': judgeNoUnlockedWrites,
    'c2.state-intact': judgeStateIntact,
    'c2.zero-drift': judgeZeroDrift,
  },
};
