// Stopping a grading from outside: end every process it started (terraform
// and learner scripts run detached, so: all descendants, and scripts by run
// token), remove its folder (its workspaces live inside it), then exit.
// Triggered by SIGINT/SIGTERM, or, for a queue worker's `grade` child, by its
// standard input closing: the worker holds the other end, so a worker that
// dies — even by SIGKILL — takes its gradings with it.
import { RUN_TOKEN_VARIABLE } from '../learner/run-script.ts';
import { runExitCleanups } from '../util/exit-cleanup.ts';
import { killDescendants, killProcessesWithToken } from '../util/kill-by-token.ts';

let stopping = false;

async function stopGradingAndExit(why: string, code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  let killed = await killDescendants();
  const { openRuns } = await import('../grading/session.ts');
  for (const runId of openRuns.keys()) killed += await killProcessesWithToken(RUN_TOKEN_VARIABLE, runId, { prefix: true });
  const cleaned = runExitCleanups();
  console.error(`lockgrader: ${why}, ended ${killed} running process(es), ran ${cleaned} clean-up(s)`);
  process.exit(code);
}

/** SIGINT exits 130, SIGTERM 143, after ending the grading's processes. */
export function stopGradingOnSignals(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    // `on`, not `once` (a repeated signal is ignored by the guard above):
    // signal-exit, loaded by testcontainers' file lock, re-sends the signal when
    // it sees no other listener left, killing the process before this clean-up
    // has run (a LocalStack container would be left behind).
    process.on(signal, () => void stopGradingAndExit(signal, code));
  }
}

/** When standard input reaches its end (the parent that holds it is gone), stop as on SIGTERM. */
export function stopGradingWhenStdinCloses(): void {
  const stop = (): void => void stopGradingAndExit('standard input closed (the worker is gone)', 143);
  process.stdin.on('data', () => undefined);
  process.stdin.once('end', stop);
  process.stdin.once('error', stop);
  // Reading stdin must not keep the process alive once the grading is done.
  (process.stdin as { unref?: () => void }).unref?.();
}
