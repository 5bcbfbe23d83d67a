// Challenge 1's grader suite: one Jest test per contract check, judged by the
// same definition `lockgrader grade` runs (src/challenge1/definition.ts).
import { challenge1 } from '../src/challenge1/definition.ts';
import { describeChallenge } from '../src/grading/jest-suite.ts';

describeChallenge(challenge1);
