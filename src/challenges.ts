// The lab's challenges, in the contract's order.
import { challenge1 } from './challenge1/definition.ts';
import { challenge2 } from './challenge2/definition.ts';
import { challenge3 } from './challenge3/definition.ts';
import type { AnyChallengeDefinition } from './grading/challenge-definition.ts';
import type { ChallengeNumber } from './grading/types.ts';

export const CHALLENGES: Readonly<Record<ChallengeNumber, AnyChallengeDefinition>> = { 1: challenge1, 2: challenge2, 3: challenge3 };
