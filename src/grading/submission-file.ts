import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** A file of the submission, as found in the grading's copy. */
export type SubmissionFile =
  | { state: 'present'; relative: string; path: string }
  | { state: 'missing' | 'not-a-file'; relative: string; path: string; problem: string; nearMiss?: string };

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
    const near = await nearMiss(path.dirname(file), path.basename(relative));
    const hint = near === undefined ? '' : ` (there is ${path.posix.join(path.posix.dirname(relative), near)}: the name must be exactly ${path.basename(relative)})`;
    return { state: 'missing', relative, path: file, problem: `${relative} is missing from the submission${hint}`, ...(near === undefined ? {} : { nearMiss: near }) };
  }
}

/**
 * A file next to a missing one that was surely meant for it: the same name in
 * other letter case (locking.md for LOCKING.md, as a case-insensitive file
 * system lets a learner write it), or .yaml for .yml and back. Said in the
 * feedback only; the contract's names are what is graded.
 */
export async function nearMiss(dir: string, name: string): Promise<string | undefined> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return undefined;
  }
  const wanted = new Set([name.toLowerCase(), name.toLowerCase().replace(/\.yml$/, '.yaml'), name.toLowerCase().replace(/\.yaml$/, '.yml')]);
  return entries.sort().find((entry) => entry !== name && wanted.has(entry.toLowerCase()));
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
