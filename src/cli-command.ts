import { repoPath } from './paths.ts';

/** Exactly what bin/lockgrader's shebang passes to node. */
export const LOCKGRADER_NODE_FLAGS = ['--max-semi-space-size=1'] as const;

// The argv that runs the lockgrader CLI as a child process with this Node:
// [command, args] for spawn/execa.
export function lockgraderCommand(args: string[]): [string, string[]] {
  return [process.execPath, [...LOCKGRADER_NODE_FLAGS, repoPath('bin', 'lockgrader'), ...args]];
}
