// One learner run: the learner's environment (a copy of the working directory,
// the recording terraform, aws, jq), the sandbox around it (grader folders
// hidden, its only network the run's own relay) and the run itself.
import type { LabStore } from '../backend/lab-store.ts';
import type { GradingContext } from '../grading/context.ts';
import type { SubmissionFile } from '../grading/submission-file.ts';
import type { Invocation } from '../grading/types.ts';
import { REPO_ROOT } from '../paths.ts';
import { stripAnsi } from '../util/ansi.ts';
import { RunCgroup } from './cgroup.ts';
import { prepareLearnerEnvironment, type LearnerEnvironment } from './environment.ts';
import { parseDiskReport, WORKING_COPY_PLACE } from './disk-report.ts';
import { limitHits } from './limits.ts';
import { parseInvocations, readInvocations } from './invocations.ts';
import { TerraformObserver, type ObservedTerraform, type ObserverTap } from './process-observer.ts';
import { forwarderArgv, startPortForwards, type ForwardTracing } from './port-forward.ts';
import { identifySender } from './connection-sender.ts';
import { RunSockets } from './sandbox-sockets.ts';
import { gradingTempRoots } from './temp-roots.ts';
import type { ConnectionSenders } from './connection-senders.ts';
import { findOnPath } from '../util/find-on-path.ts';
import { statSync } from 'node:fs';
import { prepareScriptFile } from './prepare-script.ts';
import { runLearnerScript, type ScriptRunResult } from './run-script.ts';
import { CHANNEL_RECORDS_BYTES, type SandboxMounts } from './sandbox.ts';

/** RLIMIT_FSIZE is the disk limit plus this (see runLearnerScript's ulimits). */
const FILE_SIZE_MARGIN = 16 * 1024 * 1024;

export interface LearnerRunOptions {
  /** The backend log's label for this run. */
  run: string;
  /** A fresh folder for this run (its working copy, HOME, bin, records). */
  root: string;
  /** The store as seen through this run's relay. */
  relayed: { store: LabStore; ports: number[] };
  /** The initialised working directory the learner gets a copy of. */
  workspaceDir: string;
  extraEnv?: Record<string, string>;
  /** Files outside the submission the script may read (the contention log). */
  readable?: string[];
  timeoutMs?: number;
  /** Called once the learner's environment is ready, just before the script starts. */
  onStarted?: (environment: LearnerEnvironment) => void;
  signal?: AbortSignal;
  /** Watch the run's processes for the real terraform binary (process-observer.ts). */
  observeTerraform?: boolean;
  /** With observeTerraform: set to the observer's tick once it exists, so the run's relay can tick it on each request. */
  tap?: ObserverTap;
  /** With observeTerraform in a sandbox with its own network: the relay asks these which process sent each request. */
  senders?: ConnectionSenders;
}

export interface LearnerRun {
  /** How the run is named in feedback and the results' scripts. */
  label: string;
  /** The backend log's label of this run. */
  runLabel: string;
  /** Output carries the harness's notes (CRLF converted, output cut, leftovers). */
  run: ScriptRunResult;
  /** What the recording wrapper recorded: hints for feedback, never proof. */
  invocations: Invocation[];
  /** The real terraform processes the grader saw in the run's process tree (with observeTerraform). */
  observed: ObservedTerraform[];
  environment: LearnerEnvironment;
}

export async function runLearnerInSandbox(context: GradingContext, file: SubmissionFile & { state: 'present' }, options: LearnerRunOptions): Promise<Omit<LearnerRun, 'label'>> {
  const environment = await prepareLearnerEnvironment({
    root: options.root,
    store: options.relayed.store,
    workspaceDir: options.workspaceDir,
    submissionCopy: context.submission,
    terraformBinary: context.terraform.path,
    extraEnv: options.extraEnv,
    tokenPrefix: context.runId,
  });
  const prepared = await prepareScriptFile(file.path, options.root);
  const sandboxed = context.sandbox.kind !== 'none';
  let rootPid: number | undefined;
  let groupPids: (() => number[]) | undefined;
  let observer: TerraformObserver | undefined;
  const runSockets = new RunSockets(
    () => rootPid,
    () => groupPids?.(),
  );
  const tracing = options.senders
    ? await senderTracing(options.senders, environment.env.PATH ?? '', runSockets, {
        isTerraform: (pid) => observer?.isRealBinary(pid) ?? false,
        isCopy: (pid) => (observer?.isTerraform(pid) ?? false) && !(observer?.isRealBinary(pid) ?? false),
      })
    : undefined;
  const network = sandboxed && context.sandbox.networkIsolation ? await startPortForwards(options.relayed.ports, options.root, tracing) : undefined;
  const { limits } = context;
  const mounts: SandboxMounts | undefined = sandboxed
    ? {
        hidden: [REPO_ROOT, ...gradingTempRoots(context.runDir), context.runDir, ...context.sandbox.hidden],
        readable: [context.submission, prepared.path, file.path, context.terraform.path, environment.binDir, ...environment.toolPaths, ...(options.readable ?? [])],
        // Nothing the script writes reaches the host's disk: records come back through the launcher's pipe.
        writable: [],
        scratch: { root: options.root, seeded: [environment.cwd, environment.home, environment.recordDir], sizeBytes: limits.diskBytes, records: environment.recordsFile },
        forwards: network?.forwards,
      }
    : undefined;
  options.onStarted?.(environment);
  await using cgroup = context.cgroups.available ? await RunCgroup.create(context.cgroups, limits) : undefined;
  const ran = await runLearnerScript({
    cgroup,
    cpuLimitMs: limits.cpuSeconds * 1000,
    ...(mounts ? { diskWatch: { places: [{ path: options.root, label: WORKING_COPY_PLACE }, { path: '/tmp', label: '/tmp' }], sizeBytes: limits.diskBytes } } : {}),
    // Above the tmpfs size, so a full disk says "No space left" rather than killing the writer with SIGXFSZ.
    ulimits: { fileBytes: limits.diskBytes + FILE_SIZE_MARGIN, cpuSeconds: limits.cpuSeconds },
    onSpawn: (pid) => {
      rootPid = pid;
      if (cgroup) groupPids = () => cgroup.pidsNow();
      if (!options.observeTerraform) return;
      const watching = new TerraformObserver(pid, context.terraform.path, cgroup ? () => cgroup.pidsNow() : undefined);
      observer = watching;
      if (options.tap) options.tap.tick = () => watching.tick();
    },
    script: prepared.path,
    cwd: environment.cwd,
    env: environment.env,
    timeoutMs: options.timeoutMs ?? context.scriptTimeoutMs,
    sandbox: mounts,
    ...(mounts ? { channelBytes: CHANNEL_RECORDS_BYTES + 64 * 1024 } : {}),
    signal: options.signal,
  }).finally(() => network?.close());
  if (options.tap) options.tap.tick = undefined;
  const observed = observer?.stop() ?? [];
  const disk = sandboxed ? parseDiskReport(ran.channel ?? '') : { fullPlaces: [], usedBytes: undefined };
  // Full at any sample (the kernel's count, seen from outside), or at the end (the launcher's report).
  const fullPlaces = [...new Set([...(ran.counters?.fullPlaces ?? []), ...disk.fullPlaces])];
  const counters = { oomKills: 0, forksRefused: 0, cpuLimitReached: false, ...ran.counters, fullPlaces };
  const hits = limitHits(counters, limits);
  const usage = {
    ...(ran.counters?.peakMemoryBytes !== undefined ? { peakMemoryBytes: ran.counters.peakMemoryBytes } : {}),
    ...(ran.counters?.cpuMs !== undefined ? { cpuMs: ran.counters.cpuMs } : {}),
    ...(ran.counters?.peakProcesses !== undefined ? { peakProcesses: ran.counters.peakProcesses } : {}),
    ...(disk.usedBytes !== undefined || ran.counters?.peakDiskBytes !== undefined ? { diskBytes: Math.max(disk.usedBytes ?? 0, ran.counters?.peakDiskBytes ?? 0) } : {}),
  };
  const notes = [...prepared.notes];
  const name = file.relative;
  for (const hit of hits) notes.push(`${name} ${hit.message}`);
  if (ran.leftoverKilled > 0) notes.push(`ended ${ran.leftoverKilled} process(es) the script left running`);
  const cut = ran.truncated ? `\n[lockgrader] output cut: kept the first ${ran.output.length} bytes of ${ran.totalBytes}` : '';
  const run = { ...ran, usage, limitHits: hits, output: stripAnsi(`${notes.length ? `[lockgrader] ${notes.join('; ')}\n` : ''}${ran.output}${cut}`) };
  const invocations = sandboxed ? parseInvocations(ran.channel ?? '') : await readInvocations(environment.recordsFile);
  return { runLabel: options.run, run, invocations, observed, environment };
}

/** How the port forward traces the sender of each connection (connection-sender.ts): the system socat the launcher runs, the run's processes. */
async function senderTracing(
  senders: ConnectionSenders,
  searchPath: string,
  run: RunSockets,
  binary: { isTerraform: (pid: number) => boolean; isCopy: (pid: number) => boolean },
): Promise<ForwardTracing> {
  const socatPath = await findOnPath('socat', searchPath);
  let socat: { dev: number; ino: number } | undefined;
  try {
    socat = socatPath ? statSync(socatPath) : undefined;
  } catch {
    socat = undefined;
  }
  return {
    senders,
    trace: (inbound, forward) => identifySender(inbound, { run, ...binary, port: forward.port, forwarderArgv: forwarderArgv(forward), socat }),
  };
}
