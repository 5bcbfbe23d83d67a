/** What one terraform invocation did. Results are data: nothing here throws. */
export interface CommandResult {
  command: string;
  args: string[];
  cwd: string;
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they were written. */
  all: string;
  startedAt: number;
  durationMs: number;
  timedOut: boolean;
}
