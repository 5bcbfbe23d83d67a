// A tar.gz with exactly the entries given, names taken as written and unchecked:
// how tests build hostile submission archives (traversal, links, devices).
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export interface RawEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo';
  data?: string | Buffer;
  linkname?: string;
  mode?: number;
}

export async function rawArchive(entries: RawEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    if (type === 'file') pack.entry({ name: entry.name, mode: entry.mode ?? 0o644 }, entry.data ?? '');
    else pack.entry({ name: entry.name, type, linkname: entry.linkname, mode: entry.mode ?? 0o755 });
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}
