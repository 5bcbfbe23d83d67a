import { CHECKS, type Rubric } from './checks.ts';
import type { ChallengeOutcome } from './run-challenge.ts';
import type { ChallengeNumber, CheckResult, GradeEnvironment, GradeResult } from './types.ts';

// Builds the results from the challenges' typed outcomes: every check of the
// contract in the table's order; checks of challenges not asked are
// "skipped"; a check no outcome reports is "error". The run is "error" when
// any check is (the grading could not complete), and max_score counts only
// the asked challenges. Error codes come from the outcomes, unchanged.
export function assembleResult(options: {
  outcomes: ChallengeOutcome[];
  challenges: ChallengeNumber[];
  rubric: Rubric;
  environment: GradeEnvironment;
  durationMs: number;
}): GradeResult {
  const byChallenge = new Map(options.outcomes.map((outcome) => [outcome.challenge, outcome]));
  const checks: CheckResult[] = CHECKS.map((definition) => {
    const max = options.rubric[definition.id] ?? definition.points;
    if (!options.challenges.includes(definition.challenge)) {
      return { id: definition.id, challenge: definition.challenge, status: 'skipped', score: 0, max_score: max, feedback: `challenge ${definition.challenge} was not asked for`, duration_ms: 0 };
    }
    const reported = byChallenge.get(definition.challenge)?.checks.find((check) => check.id === definition.id);
    return reported ?? { id: definition.id, challenge: definition.challenge, status: 'error', score: 0, max_score: max, feedback: 'not graded: the grader ended without judging it', duration_ms: 0 };
  });
  const counted = checks.filter((check) => check.status !== 'skipped');
  const errored = counted.find((check) => check.status === 'error' || (check.status !== 'pass' && check.id.includes('.replay.')));
  const faulted = options.outcomes.find((outcome) => outcome.error);
  const error = faulted?.error ?? (errored ? { code: 'CHECK_ERROR', message: `${errored.id}: ${errored.feedback}` } : undefined);
  return {
    lab: 'distributed-state-locking',
    status: errored || faulted ? 'error' : 'graded',
    score: counted.reduce((sum, check) => sum + check.score, 0),
    max_score: counted.reduce((sum, check) => sum + check.max_score, 0),
    duration_ms: Math.round(options.durationMs),
    environment: options.environment,
    checks,
    ...(error ? { error } : {}),
    scripts: options.outcomes.flatMap((outcome) => outcome.scripts),
    timeline: options.outcomes.flatMap((outcome) => outcome.timeline).sort((a, b) => a.at_ms - b.at_ms),
  };
}
