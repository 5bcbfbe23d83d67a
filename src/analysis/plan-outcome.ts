// What `plan -detailed-exitcode`'s exit code means (pure; used by the
// harness's plan command and by the evidence that carries its result).

/** 0: no changes; 2: changes pending; anything else (1, a signal): the plan itself failed. */
export type PlanOutcome = 'no-changes' | 'changes' | 'error';

export function planOutcome(exitCode: number | undefined | null): PlanOutcome {
  if (exitCode === 0) return 'no-changes';
  if (exitCode === 2) return 'changes';
  return 'error';
}
