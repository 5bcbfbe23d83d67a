import { open } from 'node:fs/promises';

/** The first `max` bytes of a file as UTF-8 (files a learner can write are never read whole). */
export async function readHead(file: string, max: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(max);
    const { bytesRead } = await handle.read(buffer, 0, max, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}
