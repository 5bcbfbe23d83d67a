import { readFile } from 'node:fs/promises';
import { CHECKS, type Rubric } from './checks.ts';
import { outcomeFile, type ChallengeOutcome } from './outcome.ts';
import type { ChallengeNumber, CheckResult, GradeEnvironment, GradeResult, ScriptRun, TimelineEvent } from './types.ts';

async function readOutcome(runDir: string, challenge: ChallengeNumber): Promise<ChallengeOutcome | undefined> {
  try {
    return JSON.parse(await readFile(outcomeFile(runDir, challenge), 'utf8')) as ChallengeOutcome;
  } catch {
    return undefined;
  }
}

// Builds the results file from the suites' outcome files: every check of the
// contract in the table's order; checks of challenges not asked are
// "skipped"; a check a suite did not report is "error". The run is "error"
// when any check is (the grading could not complete), and max_score counts
// only the asked challenges.
export async function assembleResult(options: {
  runDir: string;
  challenges: ChallengeNumber[];
  rubric: Rubric;
  environment: GradeEnvironment;
  durationMs: number;
  suiteErrors: Partial<Record<ChallengeNumber, string>>;
}): Promise<GradeResult> {
  const outcomes = new Map<ChallengeNumber, ChallengeOutcome | undefined>();
  for (const challenge of options.challenges) outcomes.set(challenge, await readOutcome(options.runDir, challenge));
  const checks: CheckResult[] = [];
  const scripts: ScriptRun[] = [];
  const timeline: TimelineEvent[] = [];
  for (const outcome of outcomes.values()) {
    scripts.push(...(outcome?.scripts ?? []));
    timeline.push(...(outcome?.timeline ?? []));
  }
  for (const definition of CHECKS) {
    const max = options.rubric[definition.id] ?? definition.points;
    if (!options.challenges.includes(definition.challenge)) {
      checks.push({ id: definition.id, challenge: definition.challenge, status: 'skipped', score: 0, max_score: max, feedback: `challenge ${definition.challenge} was not asked for`, duration_ms: 0 });
      continue;
    }
    const reported = outcomes.get(definition.challenge)?.checks.find((check) => check.id === definition.id);
    if (reported) {
      checks.push(reported);
      continue;
    }
    const why = options.suiteErrors[definition.challenge] ?? 'the grader suite ended without reporting it';
    checks.push({ id: definition.id, challenge: definition.challenge, status: 'error', score: 0, max_score: max, feedback: `not graded: ${why}`, duration_ms: 0 });
  }
  const counted = checks.filter((check) => check.status !== 'skipped');
  const errored = counted.find((check) => check.status === 'error' || (check.status !== 'pass' && check.id.includes('.replay.')));
  const replayError = [...outcomes.values()].find((outcome) => outcome?.replayError)?.replayError;
  return {
    lab: 'distributed-state-locking',
    status: errored ? 'error' : 'graded',
    score: counted.reduce((sum, check) => sum + check.score, 0),
    max_score: counted.reduce((sum, check) => sum + check.max_score, 0),
    duration_ms: Math.round(options.durationMs),
    environment: options.environment,
    checks,
    ...(errored ? { error: { code: replayError ? 'REPLAY_FAILED' : 'CHECK_ERROR', message: replayError ?? `${errored.id}: ${errored.feedback}` } } : {}),
    scripts,
    timeline: timeline.sort((a, b) => a.at_ms - b.at_ms),
  };
}
