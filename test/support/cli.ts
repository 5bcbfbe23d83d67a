import { execa } from 'execa';
import { lockgraderCommand } from '../../src/cli-command.ts';
import { repoPath } from '../../src/paths.ts';

export interface CliRun {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

// Runs the real CLI (bin/lockgrader) as a user would, with this process's Node.
export async function runCli(args: string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliRun> {
  const result = await execa(...lockgraderCommand(args), {
    reject: false,
    timeout: options.timeoutMs ?? 600_000,
    env: options.env,
    cwd: repoPath(),
  });
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}
