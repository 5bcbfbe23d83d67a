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

/**
 * A text file's bytes as text, by its byte order mark: UTF-16 (little- or
 * big-endian, what Windows PowerShell 5's `>` and `Out-File` write, e.g. a
 * captured contention.log) or UTF-8, BOM dropped; UTF-8 when there is none.
 */
export function decodeText(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2, 2 + ((bytes.length - 2) & ~1)));
    return swapped.swap16().toString('utf16le');
  }
  return bytes.toString('utf8').replace(/^\uFEFF/, '');
}

export async function readSubmissionText(file: SubmissionFile): Promise<string | undefined> {
  if (file.state !== 'present') return undefined;
  return decodeText(await readFile(file.path));
}
