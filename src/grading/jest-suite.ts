// How a grader suite is written for Jest: one Jest test per contract check,
// judged by the same challenge definition `grade` runs in process. The suite
// grades LOCKGRADER_SUBMISSION (default: the reference submission); a check
// that does not pass fails its test with the learner's feedback.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { parseBackendKind } from '../backend/index.ts';
import { parseLabVariant } from '../backend/lab-variant.ts';
import type { AnyChallengeDefinition } from './challenge-definition.ts';
import { CHECKS, defaultRubric } from './checks.ts';
import { defaultStandaloneSubmission } from './context.ts';
import { runChallenge, type ChallengeOutcome } from './run-challenge.ts';
import { openGradingSession, type GradingSession } from './session.ts';

const SUITE_TIMEOUT_MS = 30 * 60_000;

export function describeChallenge(definition: AnyChallengeDefinition): void {
  let session: GradingSession | undefined;
  let outcome: ChallengeOutcome | undefined;
  beforeAll(async () => {
    session = await openGradingSession({
      submission: defaultStandaloneSubmission(),
      // LOCKGRADER_BACKEND / LOCKGRADER_LAB_VARIANT: the suites grade the variant `grade --lab-variant` would.
      backendKind: parseBackendKind(process.env.LOCKGRADER_BACKEND ?? 'embedded'),
      labVariant: parseLabVariant(process.env.LOCKGRADER_LAB_VARIANT),
      rubric: defaultRubric(),
      noSandbox: process.env.LOCKGRADER_NO_SANDBOX === '1',
    });
    outcome = await runChallenge(definition, session.context);
  }, SUITE_TIMEOUT_MS);
  afterAll(async () => {
    await session?.close();
  }, 120_000);
  for (const check of CHECKS.filter((candidate) => candidate.challenge === definition.challenge)) {
    test(check.id, () => {
      const result = outcome?.checks.find((candidate) => candidate.id === check.id);
      expect(`${result?.status ?? 'missing'}: ${result?.feedback ?? ''}`).toMatch(/^pass: /);
    });
  }
}
