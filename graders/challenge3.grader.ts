// Challenge 3's grader suite: one Jest test per contract check, judged by the
// same definition `lockgrader grade` runs (src/challenge3/definition.ts).
import { challenge3 } from '../src/challenge3/definition.ts';
import { describeChallenge } from '../src/grading/jest-suite.ts';

describeChallenge(challenge3);
