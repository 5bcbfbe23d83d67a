import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

// Writes data as pretty JSON, creating the folder first.
export async function writeJsonFile(file: string, data: unknown): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
}
