import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import { killProcessesWithToken } from '../util/kill-by-token.ts';
import { killProcessGroup } from '../util/process-group.ts';
import type { CgroupCounters, RunCgroup } from './cgroup.ts';
import { DiskWatch, type WatchedPlace } from './disk-watch.ts';
import type { LimitHit, RunUsage } from './limits.ts';
import { bubblewrapArgs, LEARNER_OOM_SCORE_ADJ, type SandboxMounts } from './sandbox.ts';
import { seccompProgram } from './seccomp.ts';

/** The descriptor the seccomp program reaches bwrap on. */
const SECCOMP_FD = 9;

export const RUN_TOKEN_VARIABLE = 'LOCKGRADER_RUN_TOKEN';
export const DEFAULT_OUTPUT_CAP_BYTES = 64 * 1024;
/** After SIGTERM at the time limit, how long before SIGKILL. */
const TERMINATE_GRACE_MS = 2_000;

export interface ScriptRunOptions {
  /** Absolute path of the script; run as `bash FILE`. */
  script: string;
  cwd: string;
  /** The complete environment (nothing else of the grader's is added). Must hold RUN_TOKEN_VARIABLE. */
  env: Record<string, string>;
  timeoutMs: number;
  outputCapBytes?: number;
  /** Confine the script with bubblewrap (see sandbox.ts); undefined runs it unconfined. */
  sandbox?: SandboxMounts;
  /** Aborting ends the script and everything it started, as the time limit does. */
  signal?: AbortSignal;
  /** Called with the pid of the process everything the script starts descends from (bwrap, or bash). */
  onSpawn?: (pid: number) => void;
  /** The run's control group: the script starts inside it; its CPU time is watched against cpuLimitMs. */
  cgroup?: RunCgroup;
  cpuLimitMs?: number;
  /** With a cgroup: the sandbox's tmpfs places to watch (how full they get), and their size. */
  diskWatch?: { places: WatchedPlace[]; sizeBytes: number };
  /** Open fd 3 as a pipe to the grader (the sandbox launcher's report), read up to this many bytes. */
  channelBytes?: number;
  /** Per-process limits (setrlimit) for everything the script starts: largest file, CPU seconds. */
  ulimits?: { fileBytes: number; cpuSeconds: number };
}

/** How often the CPU time of a run's group is read against its limit (and its disk and memory looked at). */
const WATCH_MS = 200;
/** How long the processes of an ended run get to disappear by themselves. */
const DRAIN_MS = 300;

export interface ScriptRunResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  /** Capped stdout (kept apart: identify.sh answers on stdout). */
  stdout: string;
  /** Capped stdout and stderr interleaved. */
  output: string;
  /** Whether any output was cut at the cap; totalBytes is what it printed. */
  truncated: boolean;
  totalBytes: number;
  /** Processes still alive after the script ended, killed by the runner. */
  leftoverKilled: number;
  /** The group's counters when the script ended (with a cgroup). */
  counters?: CgroupCounters & { cpuLimitReached: boolean; peakDiskBytes?: number; fullPlaces: string[] };
  /** What came through fd 3 (with channelBytes). */
  channel?: string;
  /** Set by the learner run: what the run used, and the limits it reached. */
  usage?: RunUsage;
  limitHits?: LimitHit[];
}

class CappedBuffer {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;
  private readonly cap: number;
  constructor(cap: number) {
    this.cap = cap;
  }
  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.kept >= this.cap) return;
    const slice = chunk.subarray(0, this.cap - this.kept);
    this.chunks.push(slice);
    this.kept += slice.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
  get truncated(): boolean {
    return this.total > this.kept;
  }
}

// Runs a learner script with `bash FILE` in its own process group. At the
// time limit the group gets SIGTERM, then SIGKILL; when the script ends, every
// process it left behind (same group, or carrying its run token) is killed.
// Output is drained in full but only the first outputCapBytes are kept.
export async function runLearnerScript(options: ScriptRunOptions): Promise<ScriptRunResult> {
  const token = options.env[RUN_TOKEN_VARIABLE];
  if (!token) throw new Error(`runLearnerScript: env must carry ${RUN_TOKEN_VARIABLE}`);
  const cap = options.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES;
  const stdout = new CappedBuffer(cap);
  const output = new CappedBuffer(cap);
  const started = performance.now();
  // The sandbox's seccomp filter (seccomp.ts) reaches bwrap through a pipe on fd 9.
  const seccomp = options.sandbox ? seccompProgram() : undefined;
  const [command, args] = options.sandbox
    ? ['bwrap', bubblewrapArgs({ ...options.sandbox, ...(seccomp ? { seccompFd: SECCOMP_FD } : {}) }, options.cwd, ['/bin/bash', options.script])]
    : ['/bin/bash', [options.script]];
  // A small shell (dash: ulimit -f counts 512-byte blocks) joins the run's control group (when there is one),
  // makes the run the kernel's first choice when memory runs out, then becomes the script.
  const join = [
    ...(options.cgroup?.procsFiles ?? []).map((file) => `echo $$ > '${file}'`),
    // Sandboxed too: the sandbox's /proc is read-only, so the whole run (its launcher and socat with it) is raised here.
    `{ echo ${LEARNER_OOM_SCORE_ADJ} > /proc/self/oom_score_adj; } 2>/dev/null || true`,
    ...(options.ulimits ? [`ulimit -f ${Math.floor(options.ulimits.fileBytes / 512)}`, `ulimit -t ${options.ulimits.cpuSeconds}`] : []),
    'exec "$0" "$@"',
  ].join(' && ');
  const child = spawn('/bin/sh', ['-c', join, command, ...args], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', options.channelBytes ? 'pipe' : 'ignore', ...(seccomp ? (['ignore', 'ignore', 'ignore', 'ignore', 'ignore', 'pipe'] as const) : [])],
  }) as ChildProcessByStdio<null, Readable, Readable>;
  if (seccomp) {
    const pipe = (child.stdio as unknown as Array<Writable | null>)[SECCOMP_FD];
    pipe?.on('error', () => undefined);
    pipe?.end(seccomp);
  }
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  child.stdout.on('data', (chunk: Buffer) => {
    stdout.push(chunk);
    output.push(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  // Attached now: the pipes may close before the exit event is handled.
  const channelPipe = options.channelBytes ? (child.stdio[3] as Readable) : undefined;
  const channel = new CappedBuffer(options.channelBytes ?? 0);
  channelPipe?.on('data', (chunk: Buffer) => channel.push(chunk));
  const pipesClosed = Promise.all([once(child.stdout, 'close'), once(child.stderr, 'close'), ...(channelPipe ? [once(channelPipe, 'close')] : [])]);
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const limitTimer = setTimeout(() => {
    timedOut = true;
    killProcessGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => killProcessGroup(child.pid, 'SIGKILL'), TERMINATE_GRACE_MS);
  }, options.timeoutMs);
  const onAbort = () => killProcessGroup(child.pid, 'SIGKILL');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let cpuLimitReached = false;
  const { cgroup, cpuLimitMs } = options;
  const disk = cgroup && options.diskWatch ? new DiskWatch(cgroup, options.diskWatch.places, options.diskWatch.sizeBytes) : undefined;
  // The run's CPU time against its limit, and how full its tmpfs places are, from the kernel's counts.
  const watch = cgroup
    ? setInterval(() => {
        void disk?.sample();
        void cgroup.relieveMemory();
        void cgroup.cpuMs().then(async (used) => {
          if (cpuLimitMs === undefined || used <= cpuLimitMs || cpuLimitReached) return;
          cpuLimitReached = true;
          killProcessGroup(child.pid, 'SIGKILL');
          await cgroup.killAll();
        });
      }, WATCH_MS)
    : undefined;
  const [exitCode, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  const durationMs = performance.now() - started;
  clearTimeout(limitTimer);
  clearTimeout(killTimer);
  clearInterval(watch);
  options.signal?.removeEventListener('abort', onAbort);
  killProcessGroup(child.pid, 'SIGKILL');
  // What is still in the group once the sandbox's namespace has gone escaped the
  // process group: the script left it running.
  const leftInGroup = cgroup && !(await cgroup.drained(DRAIN_MS)) ? await cgroup.killAll() : 0;
  const leftoverKilled = leftInGroup + (await killProcessesWithToken(RUN_TOKEN_VARIABLE, token));
  const counters = cgroup
    ? { ...(await cgroup.counters()), cpuLimitReached, fullPlaces: [...(disk?.fullPlaces ?? [])], ...(disk ? { peakDiskBytes: disk.peakBytes } : {}) }
    : undefined;
  // The pipes close once every writer is gone; do not wait forever for them.
  await Promise.race([
    pipesClosed,
    new Promise((resolve) => setTimeout(resolve, 2_000).unref()),
  ]);
  child.stdout.destroy();
  child.stderr.destroy();
  channelPipe?.destroy();
  return {
    exitCode,
    signal,
    timedOut,
    durationMs,
    stdout: stdout.text(),
    ...(channelPipe ? { channel: channel.text() } : {}),
    output: output.text(),
    truncated: output.truncated,
    totalBytes: output.total,
    leftoverKilled,
    ...(counters ? { counters } : {}),
  };
}
