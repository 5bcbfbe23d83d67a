// Watches a learner run's processes from outside the sandbox (its control
// group's process list, else its process tree in /proc; every 20 ms) for the
// real terraform/tofu binary, and records each such process's
// arguments and TF_CLI_ARGS* as the kernel has them. The recording wrapper's
// records live inside the sandbox and can be forged; these cannot. A copy of
// the binary is recognised by its size, a hard link by its inode. A process
// that lives less than a poll interval can be missed (terraform's plan and
// apply live hundreds of ms), so what is observed is a subset of what ran:
// checks use it to contradict the records, never to require completeness.
// Except for processes that talk to the backend: the run's relay ticks the
// observer (ObserverTap) as each request arrives, while its client is alive and
// waiting for the answer, and logs the real terraform/tofu processes alive then
// with the request (BackendRequest.terraformAlive): challenge 2 requires the
// lock's delete to arrive while a real force-unlock runs, and the final state
// write while a real apply runs.
// A process is remembered by pid and start time (pids wrap at 32768 here), and
// only once its arguments and environment can be read: for a moment in execve
// the kernel already shows the new program as /proc/PID/exe while cmdline and
// environ are still empty (the new memory's argument area is set up last); a
// tight poll sees that in about 1 exec of 3, and caching it lost a real
// force-unlock's arguments once in a CI run of 20 gradings.
import { readFileSync, statSync } from 'node:fs';
import { parseInvocationArgs } from '../analysis/terraform-args.ts';
import { descendantsOf, processStart } from '../util/proc-tree.ts';
import { configDirs, snapshotConfig, type ConfigSnapshot } from './config-snapshot.ts';
import { ConfigWatch } from './config-watch.ts';
import { savedPlanPath, snapshotSavedPlan } from './saved-plan.ts';

export interface ObservedTerraform {
  pid: number;
  /** Arguments after the program name. */
  args: string[];
  /** TF_CLI_ARGS and TF_CLI_ARGS_<cmd> from the process's environment. */
  tf_cli_args: Record<string, string>;
  /** Epoch ms it was first seen. */
  seen_at: number;
  /** The configuration directories it runs in, as they were when it was first seen (config-snapshot.ts). */
  config: ConfigSnapshot[];
  /**
   * For an apply or plan: main.tf or override files ("<dir>/<file>") created, changed or removed in those
   * directories after it was first seen and while it ran (config-watch.ts); filled in as they happen.
   */
  configChanged?: string[];
  /**
   * Variables of its environment that change what the shell of a local-exec provisioner runs, or the process itself
   * (DEPLOY_ENV: BASH_ENV, exported bash functions, LD_PRELOAD, ...): name -> value.
   */
  deployEnv?: Record<string, string>;
  /**
   * Recognised by size, not by inode: a copy of the binary. It is watched like the real one (its arguments can
   * contradict records) but not credited with what it sends: a copy of the same size may have been patched.
   */
  copy?: boolean;
}

/**
 * Environment variables that change what the lab's deploy step (a local-exec `/bin/bash -c`) or terraform itself runs:
 * bash reads the file BASH_ENV names before `-c` (`exit 0` there skips the step: 45/45 with the deploy step never
 * run), ENV in POSIX mode, exported functions shadow echo or [, SHELLOPTS/BASHOPTS turn on xtrace or errexit with
 * a PS4 that runs commands, and the loader's variables load other code into either.
 */
export const DEPLOY_ENV = /^(BASH_ENV|ENV|SHELLOPTS|BASHOPTS|BASH_FUNC_.*|LD_PRELOAD|LD_AUDIT|LD_LIBRARY_PATH)$/;

const POLL_MS = 20;

/** Lets a run's relay tick the run's observer (set once the script's process exists). */
export interface ObserverTap {
  tick?: () => ObservedTerraform[];
}

function nulList(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\0').filter((part, index, all) => part !== '' || index < all.length - 1);
  } catch {
    return [];
  }
}

export class TerraformObserver {
  readonly observed: ObservedTerraform[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly seen = new Map<string, ObservedTerraform>();
  private readonly binary: { dev: number; ino: number; size: number } | undefined;
  private readonly rootPid: number;

  /** The run's processes, where a control group lists them (else the descendants of rootPid, from all of /proc). */
  private readonly members: (() => number[]) | undefined;

  /**
   * `members`, where the run has a control group: its process list, one small file. Reading all of /proc every 20 ms
   * instead was half of the grader's CPU time in a grading (9 of 18 s, node --cpu-prof), more with other gradings'
   * processes on the machine; it also misses a process that left the tree (double fork), which a group keeps.
   */
  constructor(rootPid: number, binaryPath: string, members?: () => number[]) {
    this.rootPid = rootPid;
    this.members = members;
    try {
      const info = statSync(binaryPath);
      this.binary = { dev: info.dev, ino: info.ino, size: info.size };
    } catch {
      this.binary = undefined;
    }
    this.tick();
    this.timer = setInterval(() => this.tick(), POLL_MS);
  }

  /**
   * Whether the process is the real binary itself (its inode: the grader's file, a hard link or a bind mount of it),
   * not a copy. Only such a process is credited with what it sent: a copy of the same size may have been patched.
   */
  isRealBinary(pid: number): boolean {
    if (!this.binary) return false;
    try {
      const exe = statSync(`/proc/${pid}/exe`);
      return exe.dev === this.binary.dev && exe.ino === this.binary.ino;
    } catch {
      return false;
    }
  }

  /** Whether the process is the real terraform/tofu binary (by inode, or a copy by size). */
  isTerraform(pid: number): boolean {
    if (!this.binary) return false;
    try {
      const exe = statSync(`/proc/${pid}/exe`);
      return (exe.dev === this.binary.dev && exe.ino === this.binary.ino) || exe.size === this.binary.size;
    } catch {
      return false;
    }
  }

  private stopped = false;

  /**
   * Looks at the run's process tree now (the poll does this every 20 ms; the relay on every request) and returns
   * the real terraform/tofu processes alive in it.
   */
  tick(): ObservedTerraform[] {
    const alive: ObservedTerraform[] = [];
    if (this.stopped) return alive;
    const aliveKeys = new Set<string>();
    const processes = this.members ? this.members().map((pid) => ({ pid, start: undefined as number | undefined })) : descendantsOf(this.rootPid);
    for (const { pid, start: knownStart } of processes) {
      // Checked every tick until it is terraform: a fork shows its parent's program until it execs.
      if (!this.isTerraform(pid)) continue;
      const start = knownStart ?? processStart(pid);
      if (start === undefined) continue;
      const key = `${pid}@${start}`;
      aliveKeys.add(key);
      const known = this.seen.get(key);
      if (known) {
        alive.push(known);
        continue;
      }
      const read = this.read(pid, key, start);
      if (!read) continue;
      alive.push(read.entry);
      // An empty environment is believed on the second look (execve fills it in just after the arguments; a
      // process may also have been started with none).
      if (read.envEmpty && !this.emptyEnvOnce.has(key)) {
        this.emptyEnvOnce.add(key);
        continue;
      }
      this.seen.set(key, read.entry);
      this.observed.push(read.entry);
    }
    // A process gone is no longer watched (a later change is not one it could have read).
    for (const [key, watching] of this.watches) {
      if (aliveKeys.has(key)) continue;
      watching.close();
      this.watches.delete(key);
    }
    return alive;
  }

  private readonly watches = new Map<string, ConfigWatch>();

  private readonly emptyEnvOnce = new Set<string>();

  /** What a terraform process runs, or undefined while execve has not yet laid out its arguments (argv[0] is always there after). */
  private read(pid: number, key: string, start: number): { entry: ObservedTerraform; envEmpty: boolean } | undefined {
    const argv = nulList(`/proc/${pid}/cmdline`);
    if (argv.length === 0) return undefined;
    const env = nulList(`/proc/${pid}/environ`);
    const tf_cli_args: Record<string, string> = {};
    const deployEnv: Record<string, string> = {};
    for (const variable of env) {
      const at = variable.indexOf('=');
      const name = variable.slice(0, at);
      if (name === 'TF_CLI_ARGS' || name.startsWith('TF_CLI_ARGS_')) tf_cli_args[name] = variable.slice(at + 1);
      if (DEPLOY_ENV.test(name)) deployEnv[name] = variable.slice(at + 1);
    }
    const args = argv.slice(1);
    const parsed = parseInvocationArgs(args, tf_cli_args);
    const dirs = configDirs(pid, parsed.chdir);
    // A saved plan is found from the -chdir directory (terraform changes there first), or from the cwd once it has.
    const plan = parsed.subcommand === 'apply' && parsed.planFile !== undefined ? savedPlanPath(pid, [...dirs].reverse(), parsed.planFile) : undefined;
    // Watched before the snapshot is read, so no change falls between the two (config-watch.ts).
    let watching = this.watches.get(key);
    if (!watching && (parsed.subcommand === 'apply' || parsed.subcommand === 'plan')) {
      watching = new ConfigWatch(pid, dirs, () => processStart(pid) === start, plan ? [plan] : []);
      this.watches.set(key, watching);
    }
    const planSnapshot = plan ? snapshotSavedPlan(pid, '/', plan) : undefined;
    const entry: ObservedTerraform = {
      pid,
      args,
      tf_cli_args,
      seen_at: Date.now(),
      config: [...snapshotConfig(pid, parsed.chdir, dirs), ...(planSnapshot ? [planSnapshot] : [])],
      ...(this.isRealBinary(pid) ? {} : { copy: true }),
      ...(watching ? { configChanged: watching.changed } : {}),
      ...(Object.keys(deployEnv).length ? { deployEnv } : {}),
    };
    return { entry, envEmpty: env.length === 0 };
  }

  stop(): ObservedTerraform[] {
    this.stopped = true;
    clearInterval(this.timer);
    for (const watching of this.watches.values()) watching.close();
    this.watches.clear();
    return this.observed;
  }
}
