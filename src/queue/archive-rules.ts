// What a submission archive may hold, shared by packing (enqueue) and
// unpacking (worker): regular files and folders under relative paths, no
// links, no devices, no "..", within fixed size limits. Everything else is a
// SUBMISSION_UNREADABLE error that names the entry and the rule.
import { LockgraderError } from '../errors.ts';

/** The packed archive (tar.gz) a job may carry or point at. */
export const MAX_ARCHIVE_BYTES = 1024 * 1024;
/** Everything it unpacks to (a gzip bomb stops here). */
export const MAX_UNPACKED_BYTES = 16 * 1024 * 1024;
/** Files and folders in one archive. */
export const MAX_ENTRIES = 2000;
const MAX_PATH_LENGTH = 1024;
const MAX_DEPTH = 32;

export function unreadable(message: string, fields: Record<string, unknown> = {}): LockgraderError {
  return new LockgraderError('SUBMISSION_UNREADABLE', message, fields);
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} bytes`;
}

/**
 * An archive entry's name as a safe relative path ("a/b.sh"), or an error:
 * absolute paths, "..", NUL, empty names and very deep or long paths are
 * refused (a leading "./" and trailing "/" are dropped).
 */
export function safeEntryPath(name: string): string {
  const shown = JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}...` : name);
  if (name.includes('\0')) throw unreadable(`archive entry ${shown} has a NUL byte in its name`, { entry: name, rule: 'nul' });
  if (name.startsWith('/')) throw unreadable(`archive entry ${shown} is an absolute path; a submission archive holds only relative paths`, { entry: name, rule: 'absolute' });
  const segments = name.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) throw unreadable(`archive entry ${shown} climbs out of the submission with ".."`, { entry: name, rule: 'traversal' });
  if (segments.length === 0) throw unreadable(`archive entry ${shown} has no name`, { entry: name, rule: 'empty' });
  if (segments.length > MAX_DEPTH || name.length > MAX_PATH_LENGTH || segments.some((segment) => Buffer.byteLength(segment) > 255)) {
    throw unreadable(`archive entry ${shown} is nested too deep or named too long`, { entry: name, rule: 'too-deep' });
  }
  return segments.join('/');
}

/** Why an archive entry of this tar type cannot be in a submission (undefined: file or folder). */
export function refusedEntryType(type: string, name: string, linkname?: string | null): LockgraderError | undefined {
  if (type === 'file' || type === 'directory' || type === 'contiguous-file') return undefined;
  const shown = JSON.stringify(name);
  const what =
    type === 'symlink'
      ? `a symbolic link (to ${JSON.stringify(linkname ?? '')})`
      : type === 'link'
        ? `a hard link (to ${JSON.stringify(linkname ?? '')})`
        : `a ${type} entry`;
  return unreadable(`archive entry ${shown} is ${what}; a submission archive holds only files and folders`, { entry: name, rule: type });
}
