import { repoPath } from './paths.ts';

/** Exactly what bin/lockgrader's shebang passes to node (Jest's ESM needs vm modules). */
export const LOCKGRADER_NODE_FLAGS = ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning'] as const;

// The argv that runs the lockgrader CLI as a child process with this Node:
// [command, args] for spawn/execa.
export function lockgraderCommand(args: string[]): [string, string[]] {
  return [process.execPath, [...LOCKGRADER_NODE_FLAGS, repoPath('bin', 'lockgrader'), ...args]];
}
