// Runs one challenge definition in this process: open its lab, replay the
// scenario, judge the replay, run the learner's part, judge every check, and
// return the outcome as typed data (checks in the contract's order, scripts,
// timeline). Nothing is written to a file and read back.
import { errorRecord, type ErrorCode } from '../errors.ts';
import type { AnyChallengeDefinition } from './challenge-definition.ts';
import { CHECKS } from './checks.ts';
import type { GradingContext } from './context.ts';
import { Lab } from './lab.ts';
import type { ChallengeNumber, CheckResult, ScriptRun, TimelineEvent } from './types.ts';
import { fail, harnessError, type Verdict } from './verdict.ts';

export interface ChallengeOutcome {
  challenge: ChallengeNumber;
  checks: CheckResult[];
  scripts: ScriptRun[];
  timeline: TimelineEvent[];
  /** The harness fault that kept this challenge from being graded, with its code. */
  error?: { code: ErrorCode; message: string };
}

function toResult(id: string, verdict: Verdict, context: GradingContext, durationMs: number): CheckResult {
  const definition = CHECKS.find((check) => check.id === id)!;
  const max = context.rubric[id] ?? definition.points;
  const reveal = context.reveal && verdict.authorNotes ? ` [author: ${verdict.authorNotes}]` : '';
  return {
    id,
    challenge: definition.challenge,
    status: verdict.status,
    score: verdict.status === 'pass' ? max : 0,
    max_score: max,
    feedback: verdict.feedback + reveal,
    duration_ms: Math.round(durationMs),
    ...(verdict.evidence ? { evidence: verdict.evidence } : {}),
    ...(verdict.authorNotes ? { author_notes: verdict.authorNotes } : {}),
  };
}

function judgeSafely(judge: () => Verdict): { verdict: Verdict; ms: number } {
  const started = performance.now();
  let verdict: Verdict;
  try {
    verdict = judge();
  } catch (error) {
    verdict = harnessError(`the grader could not judge this check: ${errorRecord(error).message}`);
  }
  return { verdict, ms: performance.now() - started };
}

export async function runChallenge(definition: AnyChallengeDefinition, context: GradingContext, signal: AbortSignal = new AbortController().signal): Promise<ChallengeOutcome> {
  const ids = CHECKS.filter((check) => check.challenge === definition.challenge).map((check) => check.id);
  const verdicts = new Map<string, { verdict: Verdict; ms: number }>();
  let error: ChallengeOutcome['error'];
  let lab: Lab | undefined;
  try {
    lab = await Lab.open(context, definition.challenge, signal);
    lab.event('replay', "replaying the lab's scenario");
    let replay: unknown;
    try {
      replay = await definition.replay(lab);
    } catch (thrown) {
      error = { ...errorRecord(thrown), code: 'REPLAY_FAILED' };
      lab.event('replay-error', error.message);
    }
    if (!error) {
      for (const [id, judge] of Object.entries(definition.replayJudges)) {
        const judged = judgeSafely(() => judge(replay));
        verdicts.set(id, judged);
        if (judged.verdict.status !== 'pass') error ??= { code: 'REPLAY_FAILED', message: `${id}: ${judged.verdict.feedback}` };
      }
    }
    if (!error) {
      lab.event('learner', "running the learner's part");
      let learner: unknown;
      try {
        learner = await definition.learner(lab, replay);
      } catch (thrown) {
        error = errorRecord(thrown);
        lab.event('grader-error', error.message);
      }
      if (!error) for (const [id, judge] of Object.entries(definition.judges)) verdicts.set(id, judgeSafely(() => judge(replay, learner)));
    }
  } catch (thrown) {
    error = errorRecord(thrown);
  } finally {
    await lab?.[Symbol.asyncDispose]();
  }
  const checks = ids.map((id) => {
    const judged = verdicts.get(id);
    if (judged) return toResult(id, judged.verdict, context, judged.ms);
    const replayCheck = id.includes('.replay.');
    const verdict = replayCheck
      ? fail(`the lab's scenario could not be replayed: ${error?.message ?? 'no verdict'}`)
      : harnessError(
          error?.code === 'REPLAY_FAILED'
            ? `not graded: the lab's own scenario failed, which is not your fault (${error.message})`
            : `not graded: the grader could not finish this challenge (${error?.message ?? `no judge for ${id}`})`,
        );
    return toResult(id, verdict, context, 0);
  });
  return { challenge: definition.challenge, checks, scripts: lab?.scripts ?? [], timeline: lab?.timeline ?? [], ...(error ? { error } : {}) };
}
