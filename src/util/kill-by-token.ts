import { readdir, readFile } from 'node:fs/promises';

// Finds every process whose environment carries NAME=token (children inherit
// it, even those that left the process group with setsid or nohup) and
// SIGKILLs them. Returns how many were killed. Linux only (/proc).
export async function killProcessesWithToken(name: string, token: string): Promise<number> {
  const needle = Buffer.from(`${name}=${token}\0`);
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
    if (environ.includes(needle)) {
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
