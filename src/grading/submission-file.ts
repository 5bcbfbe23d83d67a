import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';

/** A file of the submission, as found in the grading's copy. */
export type SubmissionFile =
  | { state: 'present'; relative: string; path: string }
  | { state: 'missing' | 'not-a-file'; relative: string; path: string; problem: string };

// Looks a submission file up and says, in words a learner understands, why it cannot be used.
export async function findSubmissionFile(submissionDir: string, relative: string): Promise<SubmissionFile> {
  const file = path.join(submissionDir, relative);
  try {
    const info = await lstat(file);
    if (info.isSymbolicLink()) {
      return { state: 'not-a-file', relative, path: file, problem: `${relative} is a symbolic link; submit the file itself` };
    }
    if (!info.isFile()) return { state: 'not-a-file', relative, path: file, problem: `${relative} is not a regular file` };
    return { state: 'present', relative, path: file };
  } catch {
    return { state: 'missing', relative, path: file, problem: `${relative} is missing from the submission` };
  }
}

export async function readSubmissionText(file: SubmissionFile): Promise<string | undefined> {
  if (file.state !== 'present') return undefined;
  const text = await readFile(file.path, 'utf8');
  return text.replace(/^\uFEFF/, '');
}
