import { LockgraderError } from '../errors.ts';
import type { LimitHit } from '../grading/types.ts';

/** What one learner run (a script, or one pipeline run of challenge 3) may take. */
export interface ResourceLimits {
  /** Memory of the whole run (every process it starts, and what it writes to its tmpfs places). */
  memoryBytes: number;
  /** Size of each writable place: the run folder (working copy, HOME) and /tmp. */
  diskBytes: number;
  /** Processes and threads alive at once. */
  processes: number;
  /** CPU time of the whole run, all processes together. */
  cpuSeconds: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

// Sized from what the reference needs (the kernel's counters in the results' scripts[].usage, docs/grading.md
// "Resource limits"): its heaviest run peaks near 60 MB of memory, 18 processes
// (threads included), 1.6 s of CPU and 20 KB written; the defaults leave 15x or more.
export const DEFAULT_LIMITS: ResourceLimits = {
  memoryBytes: 1 * GiB,
  diskBytes: 512 * MiB,
  processes: 512,
  cpuSeconds: 60,
};

/** "1G", "512M", "300k", "1048576" (bytes; binary units). */
export function parseSize(flag: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?$/i.exec(value.trim());
  const unit = (match?.[2] ?? 'b').toLowerCase()[0];
  const factor = { b: 1, k: 1024, m: MiB, g: GiB }[unit as 'b' | 'k' | 'm' | 'g'];
  const bytes = match ? Math.floor(Number(match[1]) * factor) : NaN;
  if (!Number.isFinite(bytes) || bytes < MiB) {
    throw new LockgraderError('USAGE', `${flag} takes a size of at least 1M, like 512M or 1G (got "${value}")`, { flag, value });
  }
  return bytes;
}

export function parseCount(flag: string, value: string, min: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min) throw new LockgraderError('USAGE', `${flag} takes a whole number >= ${min} (got "${value}")`, { flag, value });
  return number;
}

/** 1073741824 -> "1 GiB", 536870912 -> "512 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= GiB && bytes % (GiB / 4) === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB) return `${Math.round(bytes / MiB)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}

export function describeLimits(limits: ResourceLimits): string {
  return `${formatBytes(limits.memoryBytes)} memory, ${formatBytes(limits.diskBytes)} disk per writable place, ${limits.processes} processes, ${limits.cpuSeconds} s CPU`;
}

export type { LimitHit };

/** What the kernel counted for one run (cgroup counters; absent where no cgroup could be made). */
export interface RunUsage {
  peakMemoryBytes?: number;
  cpuMs?: number;
  peakProcesses?: number;
  /** The most any writable place held (sampled while the run ran, and at its end). */
  diskBytes?: number;
}

/** The counters a run ends with, and what they mean against the limits. */
export interface RunCounters extends RunUsage {
  oomKills: number;
  forksRefused: number;
  cpuLimitReached: boolean;
  /** Writable places that were full (or nearly) when the script ended. */
  fullPlaces: string[];
}

// Each limit that was reached, most decisive first (a CPU stop ends the whole
// run; an out-of-memory kill ends one process; a refused fork or a full disk
// makes a command fail).
export function limitHits(counters: RunCounters, limits: ResourceLimits): LimitHit[] {
  const hits: LimitHit[] = [];
  if (counters.cpuLimitReached) {
    hits.push({ kind: 'cpu', limit: `${limits.cpuSeconds} s`, message: `was stopped at the ${limits.cpuSeconds} s CPU-time limit` });
  }
  if (counters.oomKills > 0) {
    const memory = formatBytes(limits.memoryBytes);
    const times = counters.oomKills === 1 ? '' : `, ${counters.oomKills} times`;
    hits.push({ kind: 'memory', limit: memory, message: `was stopped at the ${memory} memory limit (its largest process was killed${times})` });
  }
  if (counters.forksRefused > 0) {
    hits.push({
      kind: 'processes',
      limit: String(limits.processes),
      message: `reached the ${limits.processes}-process limit (${counters.forksRefused} new process${counters.forksRefused === 1 ? ' was' : 'es were'} refused)`,
    });
  }
  if (counters.fullPlaces.length > 0) {
    const disk = formatBytes(limits.diskBytes);
    hits.push({ kind: 'disk', limit: disk, message: `filled the ${disk} disk limit of ${counters.fullPlaces.join(' and ')}` });
  }
  return hits;
}

/** How each limit is held on this machine, for the results' environment and doctor. */
export function limitsEnforcement(cgroupReason: string | undefined, sandboxed: boolean): Record<'memory' | 'disk' | 'processes' | 'cpu', string> {
  const cgroup = cgroupReason === undefined;
  const noGroup = `not enforced: ${cgroupReason ?? ''}`;
  return {
    memory: cgroup ? 'cgroup v1 memory controller (out-of-memory kills stay inside the run)' : noGroup,
    disk: sandboxed
      ? 'size-limited tmpfs for the run folder and /tmp inside the sandbox, and RLIMIT_FSIZE for files written elsewhere'
      : 'RLIMIT_FSIZE per file only (no sandbox: the working copy is on the host disk)',
    processes: cgroup ? 'cgroup v1 pids controller' : noGroup,
    cpu: cgroup ? 'cgroup v1 cpuacct total for the run, and RLIMIT_CPU per process' : 'RLIMIT_CPU per process only',
  };
}

/** The --script-memory/--script-disk/--script-processes/--script-cpu values, checked. */
export function parseLimitOptions(values: Partial<Record<'script-memory' | 'script-disk' | 'script-processes' | 'script-cpu', string>>): Partial<ResourceLimits> {
  const limits: Partial<ResourceLimits> = {};
  if (values['script-memory'] !== undefined) limits.memoryBytes = parseSize('--script-memory', values['script-memory']);
  if (values['script-disk'] !== undefined) limits.diskBytes = parseSize('--script-disk', values['script-disk']);
  if (values['script-processes'] !== undefined) limits.processes = parseCount('--script-processes', values['script-processes'], 8);
  if (values['script-cpu'] !== undefined) limits.cpuSeconds = parseCount('--script-cpu', values['script-cpu'], 1);
  return limits;
}
