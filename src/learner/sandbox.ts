import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { PortForward } from './port-forward.ts';

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
          'own network namespace reaching only the run\'s recording relay to the backend',
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
  /** Folders the script may write (its working copy, HOME, the records folder). */
  writable: string[];
  /** Files and folders it may read that live under hidden places (the submission copy, the contention log). */
  readable: string[];
  /** Folders hidden behind an empty tmpfs (the grader's repository, its run folder). */
  hidden: string[];
  /** When set, the script gets its own network namespace where only these loopback ports answer. */
  forwards?: PortForward[];
}

// The bwrap argument list that runs `command` confined: the whole system
// read-only, a private /tmp, hidden grader folders, then the writable and
// readable paths bound back in, its own PID namespace (every process it starts
// dies with it) and death with the grader.
export function bubblewrapArgs(mounts: SandboxMounts, cwd: string, command: string[]): string[] {
  const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
  for (const dir of mounts.hidden) args.push('--tmpfs', dir);
  for (const path of mounts.readable) args.push('--ro-bind', path, path);
  for (const dir of mounts.writable) args.push('--bind', dir, dir);
  args.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--hostname', 'learner', '--new-session', '--die-with-parent', '--chdir', cwd);
  if (!mounts.forwards) return [...args, '--', ...command];
  // Own network namespace (bwrap brings up its loopback): socat listens on each
  // backend port and relays to the grader through the unix socket bound in;
  // the script starts once every port answers.
  for (const forward of mounts.forwards) args.push('--ro-bind', forward.socket, forward.socket);
  const listeners = mounts.forwards.map(
    (f) => `socat TCP-LISTEN:${f.port},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${f.socket} 2>/dev/null &`,
  );
  const ready = mounts.forwards.map((f) => `until (exec 3<>/dev/tcp/127.0.0.1/${f.port}) 2>/dev/null; do sleep 0.01; done`);
  const launcher = [...listeners, ...ready, 'exec "$@"'].join('\n');
  return [...args, '--unshare-net', '--', '/bin/bash', '-c', launcher, 'lockgrader-sandbox', ...command];
}
