// The helper grader suites are written with. A suite declares its challenge's
// replay (the lab's scenario, run once in beforeAll), the learner's part (run
// once, right after), and one Jest test per contract check. Each check returns
// a Verdict; the helper attaches points, records the outcome for `grade`, and
// fails the Jest test when the check did not pass.
import { writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, test } from '@jest/globals';
import { createLabStore, deleteLabStore, LabStoreReader, type LabStore } from '../backend/lab-store.ts';
import type { StartedBackend } from '../backend/types.ts';
import { prepareLearnerEnvironment, type LearnerEnvironment } from '../learner/environment.ts';
import { readInvocations } from '../learner/invocations.ts';
import { runLearnerScript, type ScriptRunResult } from '../learner/run-script.ts';
import { createWorkspace, type Workspace } from '../workspace/workspace.ts';
import { checkDefinition } from './checks.ts';
import { defaultStandaloneSubmission, readContextFromEnv, type GradingContext } from './context.ts';
import { openGradingSession, type GradingSession } from './session.ts';
import { findSubmissionFile, type SubmissionFile } from './submission-file.ts';
import type { ChallengeNumber, CheckResult, Invocation, ScriptRun, TimelineEvent } from './types.ts';
import { fail, harnessError, type Verdict } from './verdict.ts';
import { outcomeFile, type ChallengeOutcome } from './outcome.ts';
import { stripAnsi } from '../util/ansi.ts';
import { REPO_ROOT } from '../paths.ts';
import { detectSandbox } from '../learner/sandbox.ts';
import { loopbackPorts, startPortForwards } from '../learner/port-forward.ts';
import { prepareScriptFile } from '../learner/prepare-script.ts';

export interface LearnerScriptOutcome {
  label: string;
  run: ScriptRunResult;
  invocations: Invocation[];
  environment: LearnerEnvironment;
}

/** What a scenario gets: a fresh store, workspaces, the submission, the learner runner. */
export interface Lab {
  context: GradingContext;
  challenge: ChallengeNumber;
  store: LabStore;
  reader: LabStoreReader;
  /** A temp folder private to this challenge. */
  root: string;
  workspace(): Promise<Workspace>;
  event(kind: string, detail: string): void;
  file(relative: string): Promise<SubmissionFile>;
  runScript(
    file: SubmissionFile,
    options: {
      workspaceDir: string;
      extraEnv?: Record<string, string>;
      timeoutMs?: number;
      /** How the run is named in events and the results' scripts (default: the file's path). */
      label?: string;
      /** Called once the learner's environment is ready, just before the script starts. */
      onStarted?: (environment: LearnerEnvironment) => void;
    },
  ): Promise<LearnerScriptOutcome>;
}

export interface ChallengeSpec<R, L> {
  challenge: ChallengeNumber;
  replay(lab: Lab): Promise<R>;
  learner(lab: Lab, replay: R): Promise<L>;
  /** Runs after every check (release a held lock, ...). */
  cleanup?(lab: Lab, replay: R | undefined): Promise<void>;
}

const SUITE_TIMEOUT_MS = 30 * 60_000;

function backendOf(context: GradingContext): StartedBackend {
  return { ...context.backend, startMs: 0, stop: async () => undefined };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function defineChallenge<R, L>(spec: ChallengeSpec<R, L>) {
  const state: {
    context?: GradingContext;
    session?: GradingSession;
    lab?: Lab;
    replay?: R;
    learner?: L;
    replayError?: string;
    replayFailed?: string;
    learnerError?: string;
    workspaces: Workspace[];
    results: CheckResult[];
    scripts: ScriptRun[];
    timeline: TimelineEvent[];
    replayVerdicts: Map<string, Verdict>;
  } = { workspaces: [], results: [], scripts: [], timeline: [], replayVerdicts: new Map() };
  const replayChecks: Array<{ id: string; judge: (replay: R) => Verdict | Promise<Verdict> }> = [];

  beforeAll(async () => {
    let context = await readContextFromEnv();
    if (!context) {
      state.session = await openGradingSession({ submission: defaultStandaloneSubmission() });
      context = state.session.context;
    }
    state.context = context;
    // Inside the grading's run folder, so one removal cleans a whole grading.
    const root = await mkdtemp(path.join(context.runDir, `c${spec.challenge}-`));
    const store = await createLabStore(backendOf(context), { prefix: `c${spec.challenge}` });
    const reader = new LabStoreReader(store);
    const ctx = context;
    const progress = (kind: string, detail: string): void => {
      if (!ctx.progress) return;
      const seconds = ((Date.now() - ctx.startedAt) / 1000).toFixed(1).padStart(5);
      process.stderr.write(`lockgrader [${seconds} s] challenge ${spec.challenge}: ${kind}${detail ? ` — ${detail}` : ''}\n`);
    };
    progress('replaying the lab scenario', '');
    const lab: Lab = {
      context: ctx,
      challenge: spec.challenge,
      store,
      reader,
      root,
      async workspace() {
        const ws = await createWorkspace({ store, terraform: ctx.terraform, parentDir: root });
        state.workspaces.push(ws);
        return ws;
      },
      event(kind, detail) {
        state.timeline.push({ at_ms: Date.now() - ctx.startedAt, challenge: spec.challenge, kind, detail });
        progress(kind, detail);
      },
      file: (relative) => findSubmissionFile(ctx.submission, relative),
      async runScript(file, options) {
        const scriptRoot = await mkdtemp(path.join(root, 'learner-'));
        const environment = await prepareLearnerEnvironment({
          root: scriptRoot,
          store,
          workspaceDir: options.workspaceDir,
          submissionCopy: ctx.submission,
          terraformBinary: ctx.terraform.path,
          extraEnv: options.extraEnv,
          tokenPrefix: ctx.runId,
        });
        const timeoutMs = options.timeoutMs ?? ctx.scriptTimeoutMs;
        const prepared = await prepareScriptFile(file.path, scriptRoot);
        const sandbox = await detectSandbox();
        const ports = sandbox.networkIsolation ? loopbackPorts([ctx.backend.endpoints.s3, ctx.backend.endpoints.dynamodb]) : undefined;
        const network = ports ? await startPortForwards(ports, scriptRoot) : undefined;
        // Writable: the working copy, HOME and the records; everything else of the grading read-only or hidden.
        const mounts =
          sandbox.kind === 'bubblewrap'
            ? {
                hidden: [REPO_ROOT, ctx.runDir],
                // The terraform binary and the learner tools may live under /tmp (a cache there), which the sandbox replaces.
                readable: [ctx.submission, root, ctx.terraform.path, ...environment.toolPaths],
                writable: [environment.cwd, environment.home, environment.recordDir],
                forwards: network?.forwards,
              }
            : undefined;
        const label = options.label ?? file.relative;
        lab.event('script-start', label);
        options.onStarted?.(environment);
        const ran = await runLearnerScript({ script: prepared.path, cwd: environment.cwd, env: environment.env, timeoutMs, sandbox: mounts }).finally(
          () => network?.close(),
        );
        const notes = [...prepared.notes];
        if (ran.leftoverKilled > 0) notes.push(`ended ${ran.leftoverKilled} process(es) the script left running`);
        const cut = ran.truncated ? `\n[lockgrader] output cut: kept the first ${ran.output.length} bytes of ${ran.totalBytes}` : '';
        const run = { ...ran, output: `${notes.length ? `[lockgrader] ${notes.join('; ')}\n` : ''}${ran.output}${cut}` };
        lab.event('script-end', `${label} exit=${run.exitCode ?? run.signal}${run.timedOut ? ' (time limit)' : ''}`);
        const invocations = await readInvocations(environment.recordsFile);
        for (const inv of invocations) {
          state.timeline.push({ at_ms: inv.started_at - ctx.startedAt, challenge: spec.challenge, kind: 'learner-terraform', detail: `${inv.tool} ${inv.args.join(' ')} → ${inv.exit_code ?? 'killed'}` });
        }
        state.scripts.push({
          challenge: spec.challenge,
          script: label,
          exit_code: run.exitCode,
          signal: run.signal,
          timed_out: run.timedOut,
          duration_ms: Math.round(run.durationMs),
          output: stripAnsi(run.output),
          output_truncated: run.truncated,
        });
        return { label, run, invocations, environment };
      },
    };
    state.lab = lab;
    try {
      state.replay = await spec.replay(lab);
      for (const check of replayChecks) {
        const verdict = await check.judge(state.replay);
        state.replayVerdicts.set(check.id, verdict);
        if (verdict.status !== 'pass') state.replayFailed ??= `${check.id}: ${verdict.feedback}`;
      }
    } catch (error) {
      state.replayError = message(error);
      lab.event('replay-error', state.replayError);
      return;
    }
    if (state.replayFailed) return;
    progress("running the learner's part", '');
    try {
      state.learner = await spec.learner(lab, state.replay);
    } catch (error) {
      state.learnerError = message(error);
      lab.event('grader-error', state.learnerError);
    }
  }, SUITE_TIMEOUT_MS);

  afterAll(async () => {
    const lab = state.lab;
    if (lab) {
      await spec.cleanup?.(lab, state.replay).catch(() => undefined);
      if (!lab.context.keep) for (const ws of state.workspaces) await ws.dispose().catch(() => undefined);
      lab.reader.close();
      await deleteLabStore(lab.store).catch(() => undefined);
      if (!lab.context.keep) await rm(lab.root, { recursive: true, force: true }).catch(() => undefined);
    }
    if (state.context) {
      const outcome: ChallengeOutcome = {
        challenge: spec.challenge,
        checks: state.results,
        scripts: state.scripts,
        timeline: state.timeline,
        ...(state.replayError ? { replayError: state.replayError } : state.replayFailed ? { replayError: state.replayFailed } : {}),
      };
      await writeFile(outcomeFile(state.context.runDir, spec.challenge), JSON.stringify(outcome, null, 2));
    }
    await state.session?.close();
  }, 120_000);

  function record(id: string, verdict: Verdict, durationMs: number): void {
    const definition = checkDefinition(id);
    const context = state.context;
    const max = context?.rubric[id] ?? definition.points;
    const reveal = context?.reveal && verdict.authorNotes ? ` [author: ${verdict.authorNotes}]` : '';
    state.results.push({
      id,
      challenge: definition.challenge,
      status: verdict.status,
      score: verdict.status === 'pass' ? max : 0,
      max_score: max,
      feedback: verdict.feedback + reveal,
      duration_ms: Math.round(durationMs),
      ...(verdict.authorNotes ? { author_notes: verdict.authorNotes } : {}),
    });
    if (verdict.status !== 'pass') throw new Error(`[${verdict.status}] ${verdict.feedback}`);
  }

  return {
    /** A check of the lab itself, judged on the replay right after it ran. */
    replayCheck(id: string, judge: (replay: R) => Verdict | Promise<Verdict>): void {
      if (!checkDefinition(id).replay) throw new Error(`${id} is not a replay check`);
      replayChecks.push({ id, judge });
      test(id, () => {
        const verdict = state.replayError
          ? fail(`the lab's scenario could not be replayed: ${state.replayError}`)
          : (state.replayVerdicts.get(id) ?? harnessError('the replay check did not run'));
        record(id, verdict, 0);
      });
    },
    /** A learner check: points when the verdict is pass. */
    check(id: string, judge: (replay: R, learner: L, lab: Lab) => Verdict | Promise<Verdict>): void {
      if (checkDefinition(id).challenge !== spec.challenge) throw new Error(`${id} does not belong to challenge ${spec.challenge}`);
      test(id, async () => {
        const started = performance.now();
        let verdict: Verdict;
        if (state.replayError || state.replayFailed) {
          verdict = harnessError(`not graded: the lab's own scenario failed, which is not your fault (${state.replayError ?? state.replayFailed})`);
        } else if (state.learnerError || state.lab === undefined) {
          verdict = harnessError(`not graded: the grader could not finish this challenge (${state.learnerError ?? 'no lab'})`);
        } else {
          try {
            verdict = await judge(state.replay as R, state.learner as L, state.lab);
          } catch (error) {
            verdict = harnessError(`the grader could not judge this check: ${message(error)}`);
          }
        }
        record(id, verdict, performance.now() - started);
      });
    },
  };
}
