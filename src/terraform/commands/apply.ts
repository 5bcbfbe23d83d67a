// `apply -auto-approve`: the baseline every scenario starts from.
import { LockgraderError } from '../../errors.ts';
import type { Workspace } from '../../workspace/workspace.ts';
import { applyArgs } from '../args.ts';
import type { CommandResult } from '../command-result.ts';

/** Applies the lab module as it is; a failure is the lab's (REPLAY_FAILED), never the learner's. */
export async function applyBaseline(ws: Workspace, options: { signal?: AbortSignal } = {}): Promise<CommandResult> {
  const result = await ws.run(applyArgs(), { signal: options.signal });
  if (result.exitCode !== 0) {
    throw new LockgraderError('REPLAY_FAILED', `the baseline apply exited ${result.exitCode ?? result.signal}: ${result.all.trim().split('\n').slice(-6).join(' ').slice(0, 600)}`, {
      exitCode: result.exitCode,
      output: result.all.slice(-4000),
    });
  }
  return result;
}
