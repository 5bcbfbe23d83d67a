import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

// Writes data as pretty JSON, creating the folder first.
export async function writeJsonFile(file: string, data: unknown): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
}

// Writes data as pretty JSON so that the file is either absent or complete:
// into a temp file in the same folder, then renamed over the target.
export async function writeJsonFileAtomically(file: string, data: unknown): Promise<void> {
  const target = path.resolve(file);
  await mkdir(path.dirname(target), { recursive: true });
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(temp, `${JSON.stringify(data, null, 2)}\n`);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
