// Packs a submission folder into the tar.gz a queue job carries: files and
// folders only (a symbolic link or a device is refused, naming it), entries in
// a fixed order with fixed owners, times and modes, so the same content always
// gives the same tar and the same digest (the job id is derived from it).
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import tar from 'tar-stream';
import { formatBytes, MAX_ARCHIVE_BYTES, MAX_ENTRIES, MAX_UNPACKED_BYTES, unreadable } from './archive-rules.ts';

const gzip = promisify(gzipCallback);

export interface PackedSubmission {
  /** The tar.gz, at most MAX_ARCHIVE_BYTES. */
  archive: Buffer;
  /** sha256 of the uncompressed tar: the submission's content. */
  digest: string;
  files: number;
  /** Bytes of file content. */
  bytes: number;
}

type Entry = { relative: string; kind: 'directory' } | { relative: string; kind: 'file'; data: Buffer; executable: boolean };

// Lists the folder's entries depth-first in byte order of their names, refusing anything but files and folders.
async function collectEntries(root: string): Promise<Entry[]> {
  const entries: Entry[] = [];
  let bytes = 0;
  const walk = async (relative: string): Promise<void> => {
    const names = (await readdir(path.join(root, relative))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const child = relative === '' ? name : `${relative}/${name}`;
      const info = await lstat(path.join(root, child));
      if (entries.length >= MAX_ENTRIES) throw unreadable(`submission ${root} has more than ${MAX_ENTRIES} files and folders`, { submission: root, rule: 'too-many-entries' });
      if (info.isSymbolicLink()) throw unreadable(`${child} in ${root} is a symbolic link; a queued submission holds only files and folders (copy the file itself)`, { submission: root, entry: child, rule: 'symlink' });
      if (info.isDirectory()) {
        entries.push({ relative: child, kind: 'directory' });
        await walk(child);
      } else if (info.isFile()) {
        bytes += info.size;
        if (bytes > MAX_UNPACKED_BYTES) throw unreadable(`submission ${root} holds more than ${formatBytes(MAX_UNPACKED_BYTES)} of files`, { submission: root, rule: 'too-large-unpacked' });
        entries.push({ relative: child, kind: 'file', data: await readFile(path.join(root, child)), executable: (info.mode & 0o111) !== 0 });
      } else {
        throw unreadable(`${child} in ${root} is not a regular file or folder (a socket, FIFO or device); a queued submission holds only files and folders`, { submission: root, entry: child, rule: 'special-file' });
      }
    }
  };
  await walk('');
  return entries;
}

// The uncompressed tar of the entries, with fixed metadata.
async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  const fixed = { mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' };
  for (const entry of entries) {
    if (entry.kind === 'directory') pack.entry({ ...fixed, name: `${entry.relative}/`, type: 'directory', mode: 0o755 });
    else pack.entry({ ...fixed, name: entry.relative, type: 'file', mode: entry.executable ? 0o755 : 0o644 }, entry.data);
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** Packs a submission folder; SUBMISSION_UNREADABLE when it is not a folder, holds links or special files, or packs to more than 1 MiB. */
export async function packSubmission(dir: string): Promise<PackedSubmission> {
  const root = path.resolve(dir);
  let info;
  try {
    info = await lstat(root);
  } catch {
    throw unreadable(`submission ${root} does not exist`, { submission: root, rule: 'missing' });
  }
  if (!info.isDirectory()) throw unreadable(`submission ${root} is not a folder (a submission is a folder holding challenge1/, challenge2/, challenge3/)`, { submission: root, rule: 'not-a-folder' });
  const entries = await collectEntries(root);
  const tarBytes = await tarOf(entries);
  const archive = await gzip(tarBytes, { level: 9 });
  if (archive.length > MAX_ARCHIVE_BYTES) {
    throw unreadable(
      `submission ${root} packs to ${formatBytes(archive.length)} (tar.gz, ${archive.length} bytes); a queued submission may be at most ${formatBytes(MAX_ARCHIVE_BYTES)} — remove what grading does not need (.terraform/, state backups, build output)`,
      { submission: root, rule: 'too-large', size_bytes: archive.length, limit_bytes: MAX_ARCHIVE_BYTES },
    );
  }
  const files = entries.filter((entry) => entry.kind === 'file');
  return {
    archive,
    digest: createHash('sha256').update(tarBytes).digest('hex'),
    files: files.length,
    bytes: files.reduce((sum, entry) => sum + entry.data.length, 0),
  };
}
