import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

// What a program answered to a probe (`aws --version`, `tofu version -json`),
// kept between processes in one JSON file, keyed by the probe and the
// program's path, and believed only while the program's inode, size and change
// time are the same. Each `grade` of grade-many and of a queue worker is its
// own process: these probes cost a second of CPU per grading (Python's start)
// or two terraform processes. Best effort: a read-only or missing cache folder
// only costs the next probe.

type Entries = Record<string, { identity: string; answer: unknown }>;

async function identityOf(program: string): Promise<string | undefined> {
  return stat(program)
    .then((info) => `${info.ino}:${info.size}:${info.ctimeMs}`)
    .catch(() => undefined);
}

async function readEntries(file: string): Promise<Entries> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as unknown;
    return data && typeof data === 'object' ? (data as Entries) : {};
  } catch {
    return {};
  }
}

async function writeEntry(file: string, key: string, entry: Entries[string]): Promise<void> {
  try {
    const data = { ...(await readEntries(file)), [key]: entry };
    await mkdir(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await writeFile(temporary, `${JSON.stringify(data, null, 2)}\n`);
    await rename(temporary, file);
  } catch {
    // not cached
  }
}

/**
 * `probe`'s answer for `program`, from `file` when the program is unchanged since it was kept, else probed now and
 * kept when `keep(answer)` says it is a good one (a failed probe is asked again next time).
 */
export async function cachedProbe<T>(file: string, kind: string, program: string, probe: () => Promise<T>, keep: (answer: T) => boolean): Promise<T> {
  const identity = await identityOf(program);
  const key = `${kind} ${program}`;
  const cached = identity ? (await readEntries(file))[key] : undefined;
  if (identity && cached?.identity === identity && cached.answer !== undefined) return cached.answer as T;
  const answer = await probe();
  if (identity && keep(answer)) await writeEntry(file, key, { identity, answer });
  return answer;
}
