import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (package) root: src/.. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function repoPath(...segments: string[]): string {
  return path.join(REPO_ROOT, ...segments);
}
