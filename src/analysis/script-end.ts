import type { LimitHit } from '../grading/types.ts';

/** How a learner script ended, in the words feedback uses. */
export interface ScriptEnd {
  exitCode: number | null;
  signal: string | null;
  /** Resource limits it reached (memory, disk, processes, CPU). */
  limitsReached?: LimitHit[];
}

// "exited 2", "exited SIGKILL", or, when a resource limit was reached, what the
// limit did first: "was stopped at the 1 GiB memory limit (...) and exited 137".
export function scriptEnd(script: ScriptEnd): string {
  const exit = `exited ${script.exitCode ?? script.signal}`;
  const hits = script.limitsReached ?? [];
  return hits.length ? `${hits.map((hit) => hit.message).join('; ')} and ${exit}` : exit;
}

/** "exit 1", or with a limit reached: "was stopped at the 60 s CPU-time limit, exit SIGKILL". */
export function exitNote(script: ScriptEnd): string {
  const exit = `exit ${script.exitCode ?? script.signal}`;
  const hits = script.limitsReached ?? [];
  return hits.length ? `${hits.map((hit) => hit.message).join('; ')}, ${exit}` : exit;
}
