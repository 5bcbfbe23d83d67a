import type { ChallengeDefinition } from '../grading/challenge-definition.ts';
import type { Learner1 } from './evidence.ts';
import { judgeHolder, judgeLockId, judgeOperation, judgeReplayContention } from './judges.ts';
import { learnerChallenge1, replayChallenge1, type Replay1Run } from './scenario.ts';

export const challenge1: ChallengeDefinition<Replay1Run, Learner1> = {
  challenge: 1,
  typicalSeconds: 2.7,
  replay: replayChallenge1,
  replayJudges: { 'c1.replay.contention': judgeReplayContention },
  learner: learnerChallenge1,
  judges: { 'c1.lock-id': judgeLockId, 'c1.holder': judgeHolder, 'c1.operation': judgeOperation },
};
