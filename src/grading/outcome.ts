import path from 'node:path';
import type { ChallengeNumber, CheckResult, ScriptRun, TimelineEvent } from './types.ts';

/** What one grader suite reports to `grade` (written as c<N>.json in the run folder). */
export interface ChallengeOutcome {
  challenge: ChallengeNumber;
  checks: CheckResult[];
  scripts: ScriptRun[];
  timeline: TimelineEvent[];
  replayError?: string;
}

export function outcomeFile(runDir: string, challenge: ChallengeNumber): string {
  return path.join(runDir, `c${challenge}.json`);
}
