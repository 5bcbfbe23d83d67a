import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (package) root: src/.. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function repoPath(...segments: string[]): string {
  return path.join(REPO_ROOT, ...segments);
}

/**
 * Folders the grader hides from learner scripts besides its own (learner/temp-roots.ts), named by whoever starts
 * `grade`: a queue worker names its TMPDIR, which holds every job's folder. Separated like PATH.
 */
export const SANDBOX_HIDE_VARIABLE = 'LOCKGRADER_SANDBOX_HIDE';
