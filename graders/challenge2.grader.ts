// Challenge 2's grader suite: one Jest test per contract check, judged by the
// same definition `lockgrader grade` runs (src/challenge2/definition.ts).
import { challenge2 } from '../src/challenge2/definition.ts';
import { describeChallenge } from '../src/grading/jest-suite.ts';

describeChallenge(challenge2);
