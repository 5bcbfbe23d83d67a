// One challenge's lab: its own bucket and lock table, a recording relay in
// front of the backend for every client (the harness's terraform and each
// learner run), the workspaces it made, the learner runner and the timeline.
// Everything stays in memory: the challenge's evidence is typed data, never a
// file a learner script could reach. Disposing the lab removes what it made.
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { probeS3ConditionalWrites } from '../backend/capabilities.ts';
import { createLabStore, deleteLabStore, LabStoreReader, type LabStore } from '../backend/lab-store.ts';
import { hasLockObject } from '../backend/lab-variant.ts';
import type { StartedBackend } from '../backend/types.ts';
import { LockgraderError } from '../errors.ts';
import { BackendLog, type AliveTerraform } from '../evidence/backend-log.ts';
import { lockEpisodes } from '../evidence/lock-history.ts';
import { primaryLock, storeNames } from '../evidence/store-names.ts';
import { startRelay } from '../evidence/relay.ts';
import type { LockWriteGate } from '../evidence/relay-gate.ts';
import { ConnectionSenders } from '../learner/connection-senders.ts';
import { runLearnerInSandbox, type LearnerRun, type LearnerRunOptions } from '../learner/learner-run.ts';
import type { ObserverTap } from '../learner/process-observer.ts';
import type { RunUsage } from '../learner/limits.ts';
import { createWorkspace, type Workspace } from '../workspace/workspace.ts';
import type { GradingContext } from './context.ts';
import { findSubmissionFile, type SubmissionFile } from './submission-file.ts';
import type { ChallengeNumber, ScriptRun, TimelineEvent, TimelineFacts, TimelineKind } from './types.ts';

/** The run label of the harness's own terraform in the backend log. */
export const HARNESS_RUN = 'harness';

export class Lab implements AsyncDisposable {
  readonly context: GradingContext;
  readonly challenge: ChallengeNumber;
  /** The store as the backend knows it (the harness reads it directly, not through a relay). */
  readonly store: LabStore;
  readonly reader: LabStoreReader;
  /** Every request the lab's clients made to the backend, attributed by relay. */
  readonly log = new BackendLog();
  /** A folder private to this challenge, inside the grading's run folder. */
  readonly root: string;
  readonly timeline: TimelineEvent[] = [];
  readonly scripts: ScriptRun[] = [];
  readonly signal: AbortSignal;
  private readonly disposers: Array<() => Promise<void>> = [];
  private harnessStore?: LabStore;
  private ownBackend?: StartedBackend;
  private runCount = 0;

  private constructor(context: GradingContext, challenge: ChallengeNumber, store: LabStore, root: string, signal: AbortSignal) {
    this.context = context;
    this.challenge = challenge;
    this.store = store;
    this.reader = new LabStoreReader(store);
    this.root = root;
    this.signal = signal;
  }

  /**
   * On the emulators lockgrader runs itself (embedded: a few ms and no
   * measurable memory each; moto: a server process each) every challenge gets
   * an instance of its own: challenges run in parallel, and a learner script
   * of one challenge must not reach another's bucket or table. Its relays are
   * the only way in, and they lead to its own emulator. Other backend kinds
   * are shared; each challenge still has its own bucket and table there.
   */
  static async open(context: GradingContext, challenge: ChallengeNumber, signal: AbortSignal): Promise<Lab> {
    const root = await mkdtemp(path.join(context.runDir, `c${challenge}-`));
    const own = context.backend.startPrivate ? await context.backend.startPrivate() : undefined;
    let store: LabStore | undefined;
    try {
      store = await createLabStore(own ?? sharedOf(context), { prefix: `c${challenge}`, variant: context.labVariant });
      await selfTestVariant(store);
      const lab = new Lab(context, challenge, store, root, signal);
      if (own) lab.ownBackend = own;
      return lab;
    } catch (error) {
      if (store) await deleteLabStore(store).catch(() => undefined);
      await own?.stop();
      throw error;
    }
  }

  /** The store as seen through a relay labelled `run`: endpoints point at the relay. */
  async relayedStore(
    run: string,
    onRequest?: () => AliveTerraform[] | undefined,
    gate?: LockWriteGate,
    senders?: ConnectionSenders,
  ): Promise<{ store: LabStore; ports: number[]; close(): Promise<void> }> {
    const relay = await startRelay({
      log: this.log,
      run,
      upstream: this.store.backend.endpoints,
      ...(onRequest ? { onRequest } : {}),
      ...(gate ? { hold: (head) => gate.hold(head) } : {}),
      ...(senders ? { senderOf: (port: number) => senders.senderOf(port) } : {}),
    });
    const { endpoints } = relay;
    const single = this.store.backend.endpoints.single ? { single: endpoints.s3 } : {};
    const store: LabStore = { ...this.store, backend: { ...this.store.backend, endpoints: { ...endpoints, ...single } } };
    return { store, ports: relay.ports, close: () => relay.close() };
  }

  /** A new initialised workspace for the harness; its terraform talks to the backend through the harness relay. */
  async workspace(): Promise<Workspace> {
    if (!this.harnessStore) {
      const relayed = await this.relayedStore(HARNESS_RUN);
      this.harnessStore = relayed.store;
      this.disposers.push(relayed.close);
    }
    const ws = await createWorkspace({ store: this.harnessStore, terraform: this.context.terraform, parentDir: this.root });
    if (!this.context.keep) this.disposers.push(async () => ws[Symbol.asyncDispose]());
    return ws;
  }

  event(kind: TimelineKind, detail: string, facts: TimelineFacts = {}): void {
    this.timeline.push({ at_ms: Date.now() - this.context.startedAt, challenge: this.challenge, kind, detail, ...facts });
    if (!this.context.progress) return;
    const seconds = ((Date.now() - this.context.startedAt) / 1000).toFixed(1).padStart(5);
    process.stderr.write(`lockgrader [${seconds} s] challenge ${this.challenge}: ${kind}${detail ? ` — ${detail}` : ''}\n`);
  }

  file(relative: string): Promise<SubmissionFile> {
    return findSubmissionFile(this.context.submission, relative);
  }

  /**
   * Runs a learner script in the sandbox, reaching the backend only through its
   * own relay (labelled `run`), so every request it makes is attributed to it.
   */
  async runLearner(
    file: SubmissionFile & { state: 'present' },
    { gate, ...options }: Omit<LearnerRunOptions, 'run' | 'relayed' | 'root'> & { label?: string; run?: string; gate?: LockWriteGate },
  ): Promise<LearnerRun> {
    this.runCount += 1;
    const label = options.label ?? file.relative;
    const run = options.run ?? `c${this.challenge}:${this.runCount}:${path.basename(file.relative)}`;
    const scriptRoot = await mkdtemp(path.join(this.root, 'learner-'));
    // With observeTerraform the relay ticks the process observer on every request (process-observer.ts), and, where
    // the sandbox has its own network, logs the process that sent each request (connection-sender.ts).
    const tap: ObserverTap = {};
    const alive = () => tap.tick?.().map(({ pid, args, tf_cli_args, copy }) => ({ pid, args, tf_cli_args, ...(copy ? { copy } : {}) }));
    const traced = options.observeTerraform && this.context.sandbox.kind !== 'none' && this.context.sandbox.networkIsolation;
    const senders = traced ? new ConnectionSenders() : undefined;
    const relayed = await this.relayedStore(run, options.observeTerraform ? alive : undefined, gate, senders);
    const variant = /\(([^)]*)\)\s*$/.exec(label)?.[1];
    const named = { script: label, ...(variant ? { variant } : {}) };
    this.event('script-start', label, named);
    try {
      const result = await runLearnerInSandbox(this.context, file, {
        ...options,
        run,
        root: scriptRoot,
        relayed,
        tap,
        ...(senders ? { senders } : {}),
        signal: options.signal ?? this.signal,
      });
      const exit = String(result.run.exitCode ?? result.run.signal);
      const limits = (result.run.limitHits ?? []).map((hit) => `${hit.kind} limit`);
      const stopped = [...(result.run.timedOut ? ['time limit'] : []), ...limits];
      this.event('script-end', `${label} exit=${exit}${stopped.length ? ` (${stopped.join(', ')})` : ''}`, {
        ...named,
        exit,
        ...(result.run.timedOut ? { timed_out: true } : {}),
        ...(limits.length ? { limits_reached: (result.run.limitHits ?? []).map((hit) => hit.kind) } : {}),
      });
      for (const inv of result.invocations) {
        const command = inv.args.find((word) => !word.startsWith('-'));
        this.timeline.push({
          at_ms: inv.started_at - this.context.startedAt,
          challenge: this.challenge,
          kind: 'learner-terraform',
          detail: `${inv.tool} ${inv.args.join(' ')} → ${inv.exit_code ?? 'killed'}`,
          exit: String(inv.exit_code ?? 'killed'),
          ...(command ? { command } : {}),
        });
      }
      // What the backend saw the run do to a lock it did not take (force-unlock, or a raw delete): that ends an orphaned lock.
      for (const episode of lockEpisodes(this.log.requests, primaryLock(storeNames(this.store)))) {
        const by = episode.releasedBy;
        if (!by || by.run !== run || episode.run === run) continue;
        this.timeline.push({
          at_ms: by.at - this.context.startedAt,
          challenge: this.challenge,
          kind: 'lock-released',
          detail: `the backend saw ${by.client} (${label}) delete the lock ${episode.lockInfoId ?? ''} taken by ${episode.run}`,
          ...(episode.lockInfoId ? { lock_id: episode.lockInfoId } : {}),
        });
      }
      this.scripts.push({
        challenge: this.challenge,
        script: label,
        exit_code: result.run.exitCode,
        signal: result.run.signal,
        timed_out: result.run.timedOut,
        duration_ms: Math.round(result.run.durationMs),
        output: result.run.output,
        output_truncated: result.run.truncated,
        ...(result.run.limitHits?.length ? { limits_reached: result.run.limitHits } : {}),
        ...(result.run.usage && Object.keys(result.run.usage).length ? { usage: scriptUsage(result.run.usage) } : {}),
      });
      return { ...result, label };
    } finally {
      await relayed.close();
      if (!this.context.keep) await rm(scriptRoot, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Runs `cleanup` when the lab is disposed (before the store is deleted). */
  defer(cleanup: () => Promise<void>): void {
    this.disposers.push(cleanup);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const dispose of this.disposers.reverse()) await dispose().catch(() => undefined);
    this.reader.close();
    await deleteLabStore(this.store).catch(() => undefined);
    await this.ownBackend?.stop();
    if (!this.context.keep) await rm(this.root, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * The capability self-test, before anything of the scenario runs: in the
 * lockfile variants the lab's S3 must refuse a second If-None-Match: * put of
 * a .tflock (otherwise a second plan silently takes a held lock and every
 * lock check would judge a broken lab). On the lab's own bucket, straight to
 * the backend (not through a relay: no run's evidence sees it).
 */
async function selfTestVariant(store: LabStore): Promise<void> {
  if (!hasLockObject(store.variant)) return;
  const probe = await probeS3ConditionalWrites(store.backend, store.bucket);
  if (probe.honoured) return;
  const claimed = store.backend.capabilities.s3ConditionalWrites === true;
  throw new LockgraderError(
    claimed ? 'BACKEND_FAILED' : 'BACKEND_UNAVAILABLE',
    `the ${store.backend.kind} backend (${store.backend.description}) cannot serve the ${store.variant} variant: its S3 accepted a second PutObject with If-None-Match: * ` +
      `(status ${probe.secondPutStatus}) instead of refusing it with 412, so terraform's .tflock would not lock${claimed ? ', though the backend claims it does' : ''}`,
    { kind: store.backend.kind, variant: store.variant, secondPutStatus: probe.secondPutStatus },
  );
}

function sharedOf(context: GradingContext): LabStore['backend'] {
  const { shared } = context.backend;
  if (!shared) throw new LockgraderError('INTERNAL', `backend ${context.backend.kind} is neither shared nor started per lab`);
  // The lab does not own it: stopping is the session's business.
  return { ...shared, stop: async () => undefined };
}

/** The results' usage block from the run's counters. */
function scriptUsage(usage: RunUsage): NonNullable<ScriptRun['usage']> {
  return {
    ...(usage.peakMemoryBytes !== undefined ? { peak_memory_bytes: usage.peakMemoryBytes } : {}),
    ...(usage.cpuMs !== undefined ? { cpu_ms: usage.cpuMs } : {}),
    ...(usage.peakProcesses !== undefined ? { peak_processes: usage.peakProcesses } : {}),
    ...(usage.diskBytes !== undefined ? { disk_bytes: usage.diskBytes } : {}),
  };
}
