// A worker's temp folder: lgw-<pid>-XXXXXX in TMPDIR, holding one folder per
// running job, which is also the `grade` child's TMPDIR, so everything a
// grading writes is inside it (the unpacked submission, the results file,
// grade's own folders). The names are short on purpose: grade puts unix
// sockets a further ~62 characters deep, and a socket path may not pass 107.
// The folder names its owner (pid + start time); a worker that was killed
// cannot remove its own, so every worker removes those of dead workers when
// it starts, before each job and when it stops.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LockgraderError } from '../errors.ts';

const PREFIX = 'lgw-';
/** The longest job folder path that leaves grade's sockets within the limit. */
export const MAX_JOB_DIR_LENGTH = 44;
const OWNER_FILE = 'owner.json';

export interface WorkerFolder {
  root: string;
  /** A new empty folder for one job (and its grading's TMPDIR). */
  jobDir(): Promise<string>;
  /** Removes the folder and everything in it. */
  close(): Promise<void>;
}

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or undefined when it is gone. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** USAGE error when TMPDIR is too deep for grade's unix sockets (listen EINVAL otherwise, on every job). */
export async function openWorkerFolder(parent = tmpdir()): Promise<WorkerFolder> {
  const longest = path.join(parent, `${PREFIX}${process.pid}-XXXXXX`, '9999');
  if (longest.length > MAX_JOB_DIR_LENGTH) {
    throw new LockgraderError('USAGE', `TMPDIR ${parent} is too long for grading: a job folder (${longest}) may be at most ${MAX_JOB_DIR_LENGTH} characters, since grade's unix sockets lie ~62 characters below it; set TMPDIR to a shorter folder`, { tmpdir: parent });
  }
  const root = await mkdtemp(path.join(parent, `${PREFIX}${process.pid}-`));
  await writeFile(path.join(root, OWNER_FILE), JSON.stringify({ pid: process.pid, start: startTimeOf(process.pid) }));
  let count = 0;
  return {
    root,
    async jobDir() {
      count += 1;
      const dir = path.join(root, String(count));
      await mkdir(dir);
      return dir;
    },
    close: () => rm(root, { recursive: true, force: true }),
  };
}

/** Removes the folders of workers that are no longer running; returns their paths. */
export async function sweepDeadWorkerFolders(parent = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (!match) continue;
    const dir = path.join(parent, name);
    const owner = await readFile(path.join(dir, OWNER_FILE), 'utf8')
      .then((text) => JSON.parse(text) as { pid: number; start?: string })
      .catch(() => ({ pid: Number(match[1]), start: undefined }));
    const start = startTimeOf(owner.pid);
    const alive = start !== undefined && (owner.start === undefined || owner.start === start);
    if (alive) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
