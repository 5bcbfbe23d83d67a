import { execa, type ResultPromise } from 'execa';
import { killProcessGroup } from '../util/process-group.ts';
import type { CommandResult } from './command-result.ts';

export interface RunOptions {
  binary: string;
  cwd: string;
  env: Record<string, string>;
  /** Ends the process (and everything it started) after this long. */
  timeoutMs?: number;
  /** Run under this host name (own UTS namespace), so its lock's Who is not the machine's user@host. */
  hostname?: string;
  /** Aborting kills the process and everything it started. */
  signal?: AbortSignal;
}

/**
 * The command that runs terraform under its own host name: util-linux
 * `unshare --uts` (as root), which execs in place, so the PID stays
 * terraform's and signals reach it directly.
 */
export function hostnameWrapped(binary: string, args: string[], hostname: string | undefined): [string, string[]] {
  if (!hostname) return [binary, args];
  return ['unshare', ['--uts', '--', '/bin/sh', '-c', 'hostname "$0" && exec "$@"', hostname, binary, ...args]];
}

/** A terraform process running in the background. */
export interface RunningCommand {
  pid: number | undefined;
  args: string[];
  startedAt: number;
  /** Settles when the process has exited (never rejects). */
  result: Promise<CommandResult>;
  /** Whether the process has exited. */
  exited(): boolean;
  /** Sends `signal` to the terraform process only (not its children). */
  signal(signal: NodeJS.Signals): void;
  /** Kills the process and everything it started. */
  killAll(): void;
}

function toResult(binary: string, args: string[], cwd: string, startedAt: number, settled: Awaited<ResultPromise>): CommandResult {
  return {
    command: binary,
    args,
    cwd,
    exitCode: settled.exitCode,
    signal: settled.signal,
    stdout: String(settled.stdout ?? ''),
    stderr: String(settled.stderr ?? ''),
    all: String(settled.all ?? ''),
    startedAt,
    durationMs: Date.now() - startedAt,
    timedOut: settled.timedOut,
  };
}

// Starts terraform in its own process group with only the given environment.
// The child's descendants (local-exec shells) are cleaned up when it ends.
export function startTerraform(args: string[], options: RunOptions): RunningCommand {
  const startedAt = Date.now();
  const [command, commandArgs] = hostnameWrapped(options.binary, args, options.hostname);
  const child = execa(command, commandArgs, {
    cancelSignal: options.signal,
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    reject: false,
    all: true,
    stdin: 'ignore',
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 16 * 1024 * 1024,
  });
  let done = false;
  const pid = child.pid;
  const result = child.then((settled) => {
    done = true;
    killProcessGroup(pid, 'SIGKILL');
    return toResult(options.binary, args, options.cwd, startedAt, settled);
  });
  return {
    pid,
    args,
    startedAt,
    result,
    exited: () => done,
    signal: (signal) => {
      if (!done) child.kill(signal);
    },
    killAll: () => killProcessGroup(pid, 'SIGKILL'),
  };
}

export function runTerraform(args: string[], options: RunOptions): Promise<CommandResult> {
  return startTerraform(args, options).result;
}
