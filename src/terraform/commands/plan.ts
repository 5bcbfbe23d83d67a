// `plan -detailed-exitcode`, with its exit code read as what it means.
import type { Workspace } from '../../workspace/workspace.ts';
import { planArgs } from '../args.ts';
import type { CommandResult } from '../command-result.ts';
import { planOutcome, type PlanOutcome } from '../../analysis/plan-outcome.ts';

export { planOutcome, type PlanOutcome };

export async function planDetailed(ws: Workspace, options: { signal?: AbortSignal } = {}): Promise<{ outcome: PlanOutcome; result: CommandResult }> {
  const result = await ws.run(planArgs({ detailedExitCode: true }), { signal: options.signal });
  return { outcome: planOutcome(result.exitCode), result };
}
