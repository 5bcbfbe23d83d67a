// The process table from /proc, read once: each process's parent and name,
// and the descendants of a process. Linux only; a process that ends while it
// is read is left out.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcEntry {
  pid: number;
  ppid: number;
  comm: string;
  /** When it started, in clock ticks since boot (field 22 of stat): with pid, names one process even when pids wrap. */
  start: number;
}

/** ppid, comm and start time from the text of /proc/PID/stat. */
function parseStat(stat: string): Omit<ProcEntry, 'pid'> {
  // pid (comm) state ppid ...: comm may hold spaces and parentheses. After the comm: state ppid pgrp session tty_nr
  // tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice num_threads itrealvalue
  // starttime (fields 3 to 22).
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  return { ppid: Number(fields[1]), comm: stat.slice(stat.indexOf('(') + 1, close), start: Number(fields[19]) };
}

export function readProcTable(): ProcEntry[] {
  const entries: ProcEntry[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return entries;
  }
  for (const name of names) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue;
    }
    const parsed = parseStat(stat);
    if (Number.isFinite(parsed.ppid)) entries.push({ pid: Number(name), ...parsed });
  }
  return entries;
}

/** Every descendant of `root` in `table`, parents before their children. */
export function descendantsOf(root: number, table: readonly ProcEntry[] = readProcTable()): ProcEntry[] {
  const children = new Map<number, ProcEntry[]>();
  for (const entry of table) {
    const list = children.get(entry.ppid);
    if (list) list.push(entry);
    else children.set(entry.ppid, [entry]);
  }
  const found: ProcEntry[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** When `pid` started (as ProcEntry.start), or undefined when it is gone. */
export function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return parseStat(stat).start;
  } catch {
    return undefined;
  }
}
