import { readdir, readFile } from 'node:fs/promises';
import { descendantsOf } from './proc-tree.ts';

// Finds every process whose environment carries NAME=token (children inherit
// it, even those that left the process group with setsid or nohup) and
// SIGKILLs them; with prefix: true, every NAME=token... Returns how many were
// killed. Linux only (/proc).
export async function killProcessesWithToken(name: string, token: string, options: { prefix?: boolean } = {}): Promise<number> {
  const needle = Buffer.from(`${name}=${token}${options.prefix ? '' : '\0'}`);
  let killed = 0;
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let environ: Buffer;
    try {
      environ = await readFile(`/proc/${entry}/environ`);
    } catch {
      continue;
    }
    const at = environ.indexOf(needle);
    if (at === 0 || (at > 0 && environ[at - 1] === 0)) {
      try {
        process.kill(pid, 'SIGKILL');
        killed += 1;
      } catch {
        // already gone
      }
    }
  }
  return killed;
}

// SIGKILLs every descendant of `root` (children first found, then theirs),
// whatever process group they are in. Returns how many.
export async function killDescendants(root: number = process.pid): Promise<number> {
  const found = descendantsOf(root);
  for (const { pid } of found) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return found.length;
}
