import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { forwarderArgv, type PortForward } from './port-forward.ts';
import { seccompProgram } from './seccomp.ts';

/** How learner scripts are confined on this machine. */
export interface SandboxInfo {
  kind: 'bubblewrap' | 'none';
  /** Whether scripts get their own network namespace with only the backend's ports (needs socat). */
  networkIsolation: boolean;
  /** For the results file's environment. */
  description: string;
  binary?: string;
  /** Set when no sandbox can run here: why. */
  unavailable?: string;
  /** Grader folders outside the run folder hidden from scripts (the cache of Node, OpenTofu). */
  hidden: string[];
}

/** The grader's own caches, hidden from learner scripts (its binaries are bound back in read-only). */
function graderCaches(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME ?? '/root';
  return [env.LOCKGRADER_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(home, '.cache'), 'lockgrader')].filter((dir) => existsSync(dir));
}

let detected: Promise<SandboxInfo> | undefined;

// Detects bubblewrap by running a trivial sandbox the way learner scripts will
// be run. LOCKGRADER_SANDBOX=none turns the sandbox off (debugging).
export function detectSandbox(env: NodeJS.ProcessEnv = process.env): Promise<SandboxInfo> {
  if (env.LOCKGRADER_SANDBOX === 'none') return Promise.resolve(noSandbox('LOCKGRADER_SANDBOX=none'));
  detected ??= (async (): Promise<SandboxInfo> => {
    // LOCKGRADER_BWRAP names another bubblewrap (tests point it at nothing to see a machine without one).
    const bwrap = env.LOCKGRADER_BWRAP ?? 'bwrap';
    const probe = await execa(bwrap, ['--ro-bind', '/', '/', '--tmpfs', '/tmp', '--proc', '/proc', '--dev', '/dev', '--unshare-pid', '--die-with-parent', '/bin/true'], {
      reject: false,
      timeout: 10_000,
    });
    if (probe.exitCode === 0) {
      const version = await execa(bwrap, ['--version'], { reject: false });
      const net = await execa(bwrap, ['--ro-bind', '/', '/', '--dev', '/dev', '--unshare-net', 'socat', '-V'], { reject: false, timeout: 10_000 });
      const networkIsolation = net.exitCode === 0;
      if (!networkIsolation) return unavailable('socat not found: the sandbox could not reach the backend through its own network namespace');
      return {
        hidden: graderCaches(env),
        kind: 'bubblewrap',
        binary: 'bwrap',
        networkIsolation,
        description:
          `${version.stdout.trim() || 'bubblewrap'}: read-only system, private /tmp and HOME, grader files and caches hidden, own PID, IPC and UTS namespaces; ` +
          'own network namespace reaching only the run\'s recording relay to the backend' +
          (seccompProgram() ? '; seccomp: no ptrace, process_vm_readv/writev or pidfd_getfd' : ''),
      };
    }
    const why = probe.failed && probe.exitCode === undefined ? 'bwrap not found' : `bwrap failed: ${probe.stderr.trim().slice(0, 200)}`;
    return unavailable(why);
  })();
  return detected;
}

/** No sandbox on this machine: grading refuses to run learner code unless told --no-sandbox. */
export function unavailable(why: string): SandboxInfo {
  return { kind: 'none', networkIsolation: false, hidden: [], description: `unavailable (${why})`, unavailable: why };
}

/** Grading without isolation, as asked for explicitly. */
export function noSandbox(how: string): SandboxInfo {
  return { kind: 'none', networkIsolation: false, hidden: [], description: `none (${how}): learner scripts ran unconfined; process group, run token and time limit enforced` };
}

export interface SandboxMounts {
  /** Host files and folders the script may write (the records files, bound one by one). */
  writable: string[];
  /** Files and folders it may read that live under hidden places (the submission copy, the contention log). */
  readable: string[];
  /** Folders hidden behind an empty tmpfs (the grader's repository, its run folder). */
  hidden: string[];
  /**
   * The run's folder becomes a tmpfs of sizeBytes inside the sandbox (its disk
   * limit; /tmp gets the same size), and each seeded folder (the working copy,
   * HOME) starts as a copy of the host folder of the same path. Nothing the
   * script writes there reaches the host's disk, and it is gone when the run ends.
   * After the script, the launcher sends the grader how full each place is and
   * the first MiBs of the records file through fd 3 (a pipe the grader drains
   * with a cap; the script runs with fd 3 closed).
   */
  scratch?: { root: string; seeded: string[]; sizeBytes: number; records: string };
  /** When set, the script gets its own network namespace where only these loopback ports answer. */
  forwards?: PortForward[];
  /** An open file descriptor bwrap reads a seccomp program from (seccomp.ts), applied to everything the script runs. */
  seccompFd?: number;
}

const SEED_DIR = '.lockgrader-seed';

/** How much of the records file the launcher sends the grader. */
export const CHANNEL_RECORDS_BYTES = 4 * 1024 * 1024;

/** oom_score_adj of learner runs (the whole sandbox: its /proc is read-only inside): the first the kernel kills when memory runs out, before the grader. */
export const LEARNER_OOM_SCORE_ADJ = 1000;

const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;

// The bwrap argument list that runs `command` confined: the whole system
// read-only, a private /tmp, hidden grader folders, the run's folder as a
// size-limited tmpfs seeded with its working copy and HOME, the readable and
// writable paths bound back in, its own PID namespace (every process it starts
// dies with it), death with the grader, and (with forwards) its own network.
// A small launcher prepares the sandbox (ports, seeding), runs the
// script, and reports how full each writable place was when it ended.
export function bubblewrapArgs(mounts: SandboxMounts, cwd: string, command: string[]): string[] {
  // /proc read-only: no process of the run may write another's memory through /proc/PID/mem (a write open of a
  // regular file on a read-only mount fails); ptrace and pidfd_getfd are refused by the seccomp filter (seccomp.ts).
  const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--remount-ro', '/proc'];
  if (mounts.scratch) args.push('--size', String(mounts.scratch.sizeBytes));
  args.push('--tmpfs', '/tmp');
  for (const dir of mounts.hidden) args.push('--tmpfs', dir);
  const scratch = mounts.scratch;
  if (scratch) {
    args.push('--size', String(scratch.sizeBytes), '--tmpfs', scratch.root);
    scratch.seeded.forEach((dir, index) => args.push('--ro-bind', dir, path.join(scratch.root, SEED_DIR, String(index)), '--dir', dir));
  }
  for (const path of mounts.readable) args.push('--ro-bind', path, path);
  for (const dir of mounts.writable) args.push('--bind', dir, dir);
  // No capabilities: bwrap run by root keeps them all for the script (CAP_SYS_ADMIN, CAP_MKNOD, ...), and a learner
  // script could then `mount -o remount,bind,rw /` and write the host's files, unmount the tmpfs hiding the grader's
  // folders, remount /proc read-write (and write another process's memory), or move itself out of its control group
  // (hostile fixture sandbox-privileges). Nothing in the sandbox needs one: bwrap sets up its mounts, loopback and
  // host name before it drops them, and the run's limits are applied from outside.
  args.push('--cap-drop', 'ALL');
  args.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--hostname', 'learner', '--new-session', '--die-with-parent', '--chdir', cwd);
  const lines: string[] = [];
  // Own network namespace (bwrap brings up its loopback): socat listens on each
  // backend port and relays to the grader through the unix socket bound in;
  // the script starts once every port answers.
  for (const forward of mounts.forwards ?? []) {
    args.push('--ro-bind', forward.socket, forward.socket);
    lines.push(`${forwarderArgv(forward).map(quote).join(' ')} 2>/dev/null 3>&- &`);
  }
  for (const forward of mounts.forwards ?? []) lines.push(`until (exec 8<>/dev/tcp/127.0.0.1/${forward.port}) 2>/dev/null; do sleep 0.01; done`);
  if (scratch) {
    scratch.seeded.forEach((dir, index) => {
      lines.push(`cp -a ${quote(path.join(scratch.root, SEED_DIR, String(index)))}/. ${quote(dir)}/ || { echo '[lockgrader] could not prepare ${dir}' >&2; exit 125; }`);
    });
  }
  // The run is the kernel's first choice when memory runs out: its oom_score_adj is raised before bwrap starts
  // (run-script.ts), since /proc is read-only in here.
  if (!scratch) {
    lines.push('exec "$@"');
  } else {
    // Not exec: after the script, the launcher reports to the grader on fd 3.
    lines.push('(exec "$@" 3>&-)', 'code=$?');
    for (const place of [scratch.root, '/tmp']) {
      lines.push(`df -B1 --output=used,size ${quote(place)} 2>/dev/null | tail -n 1 | { read -r used size; [ -n "$size" ] && printf '{"place":"%s","used":%d,"size":%d}\\n' ${quote(place)} "$used" "$size" >&3; } 2>/dev/null`);
    }
    lines.push(`head -c ${CHANNEL_RECORDS_BYTES} ${quote(scratch.records)} >&3 2>/dev/null`, 'exit $code');
  }
  if (mounts.forwards) args.push('--unshare-net');
  if (mounts.seccompFd !== undefined) args.push('--seccomp', String(mounts.seccompFd));
  return [...args, '--', '/bin/bash', '-c', lines.join('\n'), 'lockgrader-sandbox', ...command];
}
