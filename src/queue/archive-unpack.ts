// Unpacks a submission archive (tar.gz) into an empty folder, refusing, before
// anything is written, every entry that is not a plain file or folder under a
// safe relative path (links, devices, "..", absolute paths, duplicates) and
// archives past the size limits. A single top-level folder (`tar czf
// sub.tar.gz sub/`) is unwrapped unless it is a challenge folder.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import tar from 'tar-stream';
import { isLockgraderError } from '../errors.ts';
import { formatBytes, MAX_ARCHIVE_BYTES, MAX_ENTRIES, MAX_UNPACKED_BYTES, refusedEntryType, safeEntryPath, unreadable } from './archive-rules.ts';

const gunzip = promisify(gunzipCallback);
/** Tar headers and padding on top of the content limit. */
const TAR_OVERHEAD_BYTES = 2 * 1024 * 1024;

type ArchiveEntry = { relative: string; kind: 'directory' } | { relative: string; kind: 'file'; data: Buffer; executable: boolean };

async function gunzipArchive(archive: Buffer): Promise<Buffer> {
  if (archive.length > MAX_ARCHIVE_BYTES) {
    throw unreadable(`the submission archive is ${formatBytes(archive.length)} (${archive.length} bytes); the limit is ${formatBytes(MAX_ARCHIVE_BYTES)} (${MAX_ARCHIVE_BYTES} bytes)`, { rule: 'too-large', size_bytes: archive.length, limit_bytes: MAX_ARCHIVE_BYTES });
  }
  try {
    return await gunzip(archive, { maxOutputLength: MAX_UNPACKED_BYTES + TAR_OVERHEAD_BYTES });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw unreadable(`the submission archive unpacks to more than ${formatBytes(MAX_UNPACKED_BYTES)}`, { rule: 'too-large-unpacked' });
    throw unreadable(`the submission is not a gzip-compressed tar archive (${(error as Error).message})`, { rule: 'not-gzip' });
  }
}

// Reads and checks every entry; throws at the first one that breaks a rule.
async function readEntries(tarBytes: Buffer): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  const seen = new Map<string, 'file' | 'directory'>();
  let bytes = 0;
  const extract = tar.extract();
  extract.end(tarBytes);
  try {
    for await (const entry of extract) {
      const { header } = entry;
      const shown = JSON.stringify(header.name);
      const refused = refusedEntryType(header.type ?? 'file', header.name, header.linkname);
      if (refused) throw refused;
      const relative = safeEntryPath(header.name);
      if (entries.length >= MAX_ENTRIES) throw unreadable(`the submission archive has more than ${MAX_ENTRIES} entries`, { rule: 'too-many-entries' });
      const parents = relative.split('/').slice(0, -1).map((_, index, parts) => parts.slice(0, index + 1).join('/'));
      if (parents.some((parent) => seen.get(parent) === 'file')) throw unreadable(`archive entry ${shown} lies inside a file of the same archive`, { entry: header.name, rule: 'file-as-folder' });
      const kind = header.type === 'directory' ? 'directory' : 'file';
      const before = seen.get(relative);
      if (before === 'file' || (before === 'directory' && kind === 'file')) throw unreadable(`archive entry ${shown} appears twice`, { entry: header.name, rule: 'duplicate' });
      seen.set(relative, kind);
      for (const parent of parents) if (!seen.has(parent)) seen.set(parent, 'directory');
      bytes += kind === 'file' ? (header.size ?? 0) : 0;
      if (bytes > MAX_UNPACKED_BYTES) throw unreadable(`the submission archive unpacks to more than ${formatBytes(MAX_UNPACKED_BYTES)}`, { rule: 'too-large-unpacked' });
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      if (kind === 'directory') entries.push({ relative, kind });
      else entries.push({ relative, kind, data: Buffer.concat(chunks), executable: ((header.mode ?? 0) & 0o111) !== 0 });
    }
  } catch (error) {
    extract.destroy();
    if (isLockgraderError(error)) throw error;
    throw unreadable(`the submission archive is not a readable tar (${(error as Error).message})`, { rule: 'not-tar' });
  }
  return entries;
}

// "sub/challenge1/x" -> "challenge1/x" when every entry sits in one top-level folder that is not a challenge folder.
export function unwrapTopFolder(relatives: readonly string[]): (relative: string) => string | undefined {
  const tops = new Set(relatives.map((relative) => relative.split('/')[0]));
  const [top] = [...tops];
  const wrapped = tops.size === 1 && top !== undefined && !/^challenge\d$/.test(top) && relatives.some((relative) => relative.startsWith(`${top}/`)) && relatives.every((relative) => relative === top || relative.startsWith(`${top}/`));
  if (!wrapped) return (relative) => relative;
  return (relative) => (relative === top ? undefined : relative.slice(top.length + 1));
}

/** Unpacks the archive into `dest` (an empty folder the caller made); SUBMISSION_UNREADABLE for anything it refuses. */
export async function unpackSubmission(archive: Buffer, dest: string): Promise<{ files: number; bytes: number }> {
  const entries = await readEntries(await gunzipArchive(archive));
  const rename = unwrapTopFolder(entries.map((entry) => entry.relative));
  let files = 0;
  let bytes = 0;
  for (const entry of entries) {
    const relative = rename(entry.relative);
    if (relative === undefined) continue;
    const target = path.join(dest, relative);
    // Only folders and files this function made exist under dest (no links), so no write can leave it.
    if (entry.kind === 'directory') await mkdir(target, { recursive: true, mode: 0o755 });
    else {
      await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
      await writeFile(target, entry.data, { flag: 'wx', mode: entry.executable ? 0o755 : 0o644 });
      files += 1;
      bytes += entry.data.length;
    }
  }
  return { files, bytes };
}
