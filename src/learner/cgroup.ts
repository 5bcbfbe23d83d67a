// A control group per learner run (cgroup v1: the memory, pids and cpuacct
// controllers): the kernel holds the run to its memory and process limits, counts
// its CPU time, kills inside the group when memory runs out (never the grader,
// which stays outside), and lists every process of the run so none outlives it.
// The group is made under the grader's own group of each controller, so a limit a
// platform put on the grader still covers its learners.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResourceLimits } from './limits.ts';

type Controller = 'memory' | 'pids' | 'cpuacct';
const CONTROLLERS: Controller[] = ['memory', 'pids', 'cpuacct'];

/** Where this grader can make run groups: one folder per controller (its own group there). */
export interface CgroupSupport {
  available: boolean;
  /** cgroup v1 folders to make run groups in, per controller. */
  parents?: Record<Controller, string>;
  /** The v1 freezer folder, where mounted: a run is frozen while it is killed (RunCgroup.killAll). */
  freezerParent?: string;
  /** Why run groups cannot be made here (then memory and process limits are not enforced). */
  reason?: string;
}

interface Mount { point: string; options: string[] }

async function cgroupMounts(): Promise<{ v1: Map<string, Mount>; v2?: string }> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const v1 = new Map<string, Mount>();
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const point = left.split(' ')[4] ?? '';
    const [fstype, , superOptions = ''] = right.split(' ');
    if (fstype === 'cgroup2') v2 = point;
    if (fstype !== 'cgroup') continue;
    const options = superOptions.split(',');
    for (const option of options) v1.set(option, { point, options });
  }
  return { v1, v2 };
}

/** The grader's own group per v1 controller ("4:memory:/process_api/abc" -> memory: /process_api/abc). */
async function ownGroups(): Promise<Map<string, string>> {
  const text = await readFile('/proc/self/cgroup', 'utf8').catch(() => '');
  const groups = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [, controllers, group] = line.split(':');
    if (!controllers || group === undefined) continue;
    for (const controller of controllers.split(',')) groups.set(controller, group);
  }
  return groups;
}

let detected: Promise<CgroupSupport> | undefined;

// Finds the v1 memory, pids and cpuacct hierarchies and proves a run group can be
// made in each (root, or a delegated hierarchy). cgroup v2 alone is reported as
// unsupported: this version has only been run on v1 machines.
export function detectCgroups(env: NodeJS.ProcessEnv = process.env): Promise<CgroupSupport> {
  if (env.LOCKGRADER_CGROUPS === 'none') return Promise.resolve({ available: false, reason: 'LOCKGRADER_CGROUPS=none' });
  detected ??= (async (): Promise<CgroupSupport> => {
    const { v1, v2 } = await cgroupMounts();
    const own = await ownGroups();
    const parents: Partial<Record<Controller, string>> = {};
    const missing: string[] = [];
    for (const controller of CONTROLLERS) {
      const mount = v1.get(controller);
      if (!mount) {
        missing.push(controller);
        continue;
      }
      parents[controller] = path.join(mount.point, own.get(controller) ?? '/');
    }
    if (missing.length > 0) {
      const why = v2 && missing.length === CONTROLLERS.length
        ? `only cgroup v2 is mounted (${v2}); this version limits memory and processes through cgroup v1`
        : `no cgroup v1 hierarchy for ${missing.join(', ')}`;
      return { available: false, reason: why };
    }
    const probe = path.join(parents.memory as string, `lockgrader-probe-${process.pid}`);
    try {
      await mkdir(probe);
      await rmdir(probe);
    } catch (error) {
      return { available: false, reason: `cannot make a control group in ${parents.memory}: ${(error as Error).message}` };
    }
    const freezer = v1.get('freezer');
    const freezerParent = freezer ? path.join(freezer.point, own.get('freezer') ?? '/') : undefined;
    await removeOrphanedGroups([...Object.values(parents as Record<Controller, string>), ...(freezerParent ? [freezerParent] : [])]);
    return { available: true, parents: parents as Record<Controller, string>, ...(freezerParent ? { freezerParent } : {}) };
  })();
  return detected;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

// Groups left by a grader that was killed (SIGKILL gives it no time to remove
// them): named lockgrader-<grader pid>-..., removed once that grader is gone.
// rmdir refuses a group that still has processes, so nothing running is touched.
async function removeOrphanedGroups(parents: string[]): Promise<void> {
  for (const parent of parents) {
    const names = await readdir(parent).catch(() => [] as string[]);
    for (const name of names) {
      const pid = Number(/^lockgrader-(\d+)-/.exec(name)?.[1]);
      if (!pid || alive(pid)) continue;
      await rmdir(path.join(parent, name)).catch(() => undefined);
    }
  }
}

const readNumber = async (file: string): Promise<number | undefined> => {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const value = text === undefined ? NaN : Number(text.trim());
  return Number.isFinite(value) ? value : undefined;
};

/** "key value" lines (memory.oom_control, pids.events) -> value of key. */
const readKey = async (file: string, key: string): Promise<number> => {
  const text = await readFile(file, 'utf8').catch(() => '');
  const line = text.split('\n').find((l) => l.startsWith(`${key} `));
  return Number(line?.split(' ')[1] ?? 0) || 0;
};

/** The most a run may go over its memory limit while a killed process's memory is given back (and never more than a quarter of the limit: memoryLoanCap). */
export const MEMORY_LOAN_BYTES = 256 * 1024 * 1024;

/** The most a run with this memory limit is lent while a killed process's memory is given back. */
export function memoryLoanCap(limitBytes: number): number {
  return Math.min(MEMORY_LOAN_BYTES, Math.floor(limitBytes / 4));
}
/** How long pause() waits for the kernel to freeze a run. */
const PAUSE_MS = 2_000;
/** How long a loan may last while the run stays over its limit. */
const MEMORY_LOAN_MS = 5_000;

const rssKb = async (pid: number): Promise<number> => {
  const text = await readFile(`/proc/${pid}/status`, 'latin1').catch(() => '');
  return Number(/^VmRSS:\s+(\d+)/m.exec(text)?.[1] ?? 0);
};

export interface CgroupCounters {
  peakMemoryBytes?: number;
  cpuMs?: number;
  peakProcesses?: number;
  oomKills: number;
  forksRefused: number;
}

/** One learner run's group in each controller; disposing kills what is left in it and removes it. */
export class RunCgroup implements AsyncDisposable {
  readonly dirs: Record<Controller, string>;
  /** The run's freezer group, where the freezer is mounted. */
  private freezerDir: string | undefined;
  private readonly memoryBytes: number;

  private constructor(dirs: Record<Controller, string>, memoryBytes: number) {
    this.dirs = dirs;
    this.memoryBytes = memoryBytes;
  }

  static async create(support: CgroupSupport, limits: ResourceLimits): Promise<RunCgroup> {
    if (!support.parents) throw new Error('RunCgroup.create: no cgroup support');
    const name = `lockgrader-${process.pid}-${randomUUID()}`;
    const dirs = Object.fromEntries(CONTROLLERS.map((c) => [c, path.join(support.parents![c], name)])) as Record<Controller, string>;
    const group = new RunCgroup(dirs, limits.memoryBytes);
    try {
      for (const dir of Object.values(dirs)) await mkdir(dir);
      await writeFile(path.join(dirs.memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // No swap here either (where the kernel offers memsw), so the limit is the run's whole memory.
      await writeFile(path.join(dirs.memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes)).catch(() => undefined);
      await writeFile(path.join(dirs.pids, 'pids.max'), String(limits.processes));
      // The grader, not the kernel, picks who dies when the run is out of memory
      // (relieveMemory): the kernel's own killer, racing its reaper, sometimes
      // kills a second process (the script's shell) after the one that grabbed it all.
      await writeFile(path.join(dirs.memory, 'memory.oom_control'), '1');
      if (support.freezerParent) {
        const freezerDir = path.join(support.freezerParent, name);
        await mkdir(freezerDir);
        group.freezerDir = freezerDir;
      }
    } catch (error) {
      await group.remove();
      throw error;
    }
    return group;
  }

  /** The files a process writes its pid to, to join the run's group in every controller. */
  get procsFiles(): string[] {
    return this.allDirs.map((dir) => path.join(dir, 'cgroup.procs'));
  }

  private get allDirs(): string[] {
    return [...Object.values(this.dirs), ...(this.freezerDir ? [this.freezerDir] : [])];
  }

  /**
   * Stops every process of the run where it stands (the v1 freezer: no signal,
   * nothing a process can see but time passing), until resume(). Resolves true
   * once the kernel says the group is FROZEN (at most PAUSE_MS), else thaws it
   * again and resolves false.
   */
  private async pause(): Promise<boolean> {
    if (!this.freezerDir) return false;
    const state = path.join(this.freezerDir, 'freezer.state');
    try {
      await writeFile(state, 'FROZEN');
      const deadline = performance.now() + PAUSE_MS;
      while ((await readFile(state, 'utf8')).trim() !== 'FROZEN') {
        if (performance.now() > deadline) {
          await this.resume();
          return false;
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      return true;
    } catch {
      return false;
    }
  }

  private async resume(): Promise<void> {
    if (this.freezerDir) await writeFile(path.join(this.freezerDir, 'freezer.state'), 'THAWED').catch(() => undefined);
  }

  async cpuMs(): Promise<number> {
    return ((await readNumber(path.join(this.dirs.cpuacct, 'cpuacct.usage'))) ?? 0) / 1e6;
  }

  /** Processes the grader killed because the run was out of memory. */
  private oomKills = 0;
  private lastVictim: number | undefined;
  /** Bytes lent above the memory limit while a killed process's memory is given back (0: none). */
  private lent = 0;
  private lentAt = 0;

  /** Sets the memory limit (and the memory+swap limit, which must never be below it). */
  private async setMemoryLimit(bytes: number): Promise<boolean> {
    const limit = path.join(this.dirs.memory, 'memory.limit_in_bytes');
    const memsw = path.join(this.dirs.memory, 'memory.memsw.limit_in_bytes');
    const raising = bytes > this.memoryBytes;
    try {
      if (raising) await writeFile(memsw, String(bytes)).catch(() => undefined);
      await writeFile(limit, String(bytes));
      if (!raising) await writeFile(memsw, String(bytes)).catch(() => undefined);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * When the run is out of memory (its processes wait at the limit, or it is
   * still over its limit 5 s after a loan), kills the process with the
   * most resident memory and lends what that process held (at most
   * memoryLoanCap) until its memory is back; returns whether it killed one.
   */
  async relieveMemory(): Promise<boolean> {
    // A loan ends once the run is back under its limit; a run still over it after MEMORY_LOAN_MS is out of memory.
    let overdue = false;
    if (this.lent > 0) {
      const usage = (await readNumber(path.join(this.dirs.memory, 'memory.usage_in_bytes'))) ?? Infinity;
      if (usage <= this.memoryBytes && (await this.setMemoryLimit(this.memoryBytes))) this.lent = 0;
      else overdue = performance.now() - this.lentAt > MEMORY_LOAN_MS;
    }
    if (!overdue && (await readKey(path.join(this.dirs.memory, 'memory.oom_control'), 'under_oom')) !== 1) return false;
    // The last one killed is still giving its memory back: one at a time.
    if (this.lastVictim !== undefined && (await this.pids()).includes(this.lastVictim)) return false;
    let victim: { pid: number; kb: number } | undefined;
    for (const pid of await this.pids()) {
      const kb = await rssKb(pid);
      if (!victim || kb > victim.kb) victim = { pid, kb };
    }
    if (!victim) return false;
    // A killed process's memory is uncharged when the last reference to its
    // address space goes, which can come after its parent saw it exit (any
    // reader of /proc/<pid>/smaps or status holds one; measured: the script's
    // next fork and pipe refused, ENOMEM/ENFILE, 3 gradings in 6 while a
    // sampler read /proc). So before the kill, the run is lent what the victim
    // held (at most memoryLoanCap) until that memory is back: its next
    // command starts.
    const loan = Math.min(victim.kb * 1024, memoryLoanCap(this.memoryBytes));
    if (loan > this.lent && (await this.setMemoryLimit(this.memoryBytes + loan))) {
      this.lent = loan;
      this.lentAt = performance.now();
    }
    try {
      process.kill(victim.pid, 'SIGKILL');
      this.lastVictim = victim.pid;
      this.oomKills += 1;
      return true;
    } catch {
      return false;
    }
  }

  async counters(): Promise<CgroupCounters> {
    return {
      peakMemoryBytes: await readNumber(path.join(this.dirs.memory, 'memory.max_usage_in_bytes')),
      cpuMs: Math.round(await this.cpuMs()),
      peakProcesses: await readNumber(path.join(this.dirs.pids, 'pids.peak')),
      oomKills: this.oomKills + (await readKey(path.join(this.dirs.memory, 'memory.oom_control'), 'oom_kill')),
      forksRefused: await readKey(path.join(this.dirs.pids, 'pids.events'), 'max'),
    };
  }

  async pids(): Promise<number[]> {
    const text = await readFile(path.join(this.dirs.pids, 'cgroup.procs'), 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean).map(Number);
  }

  /** The run's processes now, read at once (one small file): for a watcher that looks every few ms. */
  pidsNow(): number[] {
    try {
      return readFileSync(path.join(this.dirs.pids, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** Waits (up to timeoutMs) for the group to empty by itself: a sandbox's processes die with its PID namespace. */
  async drained(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while ((await this.pids()).length > 0) {
      if (performance.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return true;
  }

  /** SIGKILLs every process in the group until none is left; returns how many were killed. */
  async killAll(): Promise<number> {
    let killed = 0;
    // Where the freezer is mounted, the run is frozen first, so none of its processes can fork while the others are
    // killed; a frozen process dies once thawed.
    if (await this.pause()) {
      try {
        killed += sigkillEach(await this.pids());
      } finally {
        await this.resume();
      }
    }
    for (let round = 0; round < 50; round += 1) {
      const pids = await this.pids();
      if (pids.length === 0) return killed;
      killed += sigkillEach(pids);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return killed;
  }

  private async remove(): Promise<void> {
    for (const dir of this.allDirs) {
      for (let attempt = 0; attempt < 20; attempt += 1) {
        try {
          await rmdir(dir);
          break;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          // EBUSY: a killed process is still being reaped.
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.killAll();
    await this.remove();
  }
}

/** SIGKILLs each process; returns how many were still there to kill. */
function sigkillEach(pids: number[]): number {
  let killed = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
      killed += 1;
    } catch {
      // already gone
    }
  }
  return killed;
}
