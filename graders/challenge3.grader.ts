// Challenge 3: the CI pipeline under contention. The learner's pipeline
// (challenge3/pipeline.sh, or the run: steps of challenge3/workflow.yml) is
// run three times, each run carrying its own change (TF_VAR_release):
//   - once while another apply holds the lock, released shortly after the
//     pipeline's first plan/apply has started: it must wait and succeed;
//   - twice at the same moment: the runs must serialise cleanly.
// The recorded terraform commands and the pipeline's text are checked for
// -lock-timeout, -lock=false on writes and force-unlock; LOCKING.md is judged
// by a transparent heuristic.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LockInfo, StateObject } from '../src/backend/lab-store.ts';
import { describeInvocation, forceUnlocks, parseRecords, unlockedWrites, type ParsedRecord } from '../src/analysis/invocation-facts.ts';
import { findForceUnlock, findUnlockedWrites } from '../src/analysis/script-scan.ts';
import { parseInvocationArgs } from '../src/analysis/terraform-args.ts';
import { judgeLockingDoc } from '../src/challenge3/locking-doc.ts';
import { planWorkflow, renderWorkflowScript } from '../src/challenge3/workflow.ts';
import { defineChallenge, type Lab, type LearnerScriptOutcome } from '../src/grading/challenge.ts';
import { readSubmissionText, type SubmissionFile } from '../src/grading/submission-file.ts';
import type { Invocation } from '../src/grading/types.ts';
import { fail, pass, type Verdict } from '../src/grading/verdict.ts';
import { readInvocations } from '../src/learner/invocations.ts';
import { applyArgs } from '../src/terraform/args.ts';
import type { CommandResult } from '../src/terraform/command-result.ts';
import { startLockHolder } from '../src/terraform/lock-holder.ts';
import { stripAnsi } from '../src/util/ansi.ts';
import { waitFor } from '../src/util/wait.ts';

/**
 * How long the holder keeps the lock after the pipeline's first plan/apply
 * started. terraform/tofu try the lock at once (d ~ 0.1 s after start), then
 * retry after 1, 2, 4 s of backoff: at d+1, d+3, d+7 s. Releasing at 2 s falls
 * between the first and second retry for any d under 0.9 s, so the first retry
 * is refused (the pipeline really waited) and the second one gets the lock.
 * Releasing close to a retry is unsafe: OpenTofu gives up, whatever its
 * -lock-timeout, when its PutItem is refused but the lock is gone by the time
 * it reads the holder's info ("no lock info found"); seen about 1 in 10 with a
 * 1 s hold.
 */
const HOLD_AFTER_FIRST_LOCKING_COMMAND_MS = 2_000;
const MIN_LOCK_TIMEOUT_MS = 10_000;
const LOCKING_SUBCOMMANDS = new Set(['plan', 'apply', 'destroy', 'refresh', 'import', 'taint', 'untaint']);

interface Pipeline {
  /** What runs (the script, or the script rendered from the workflow). */
  file: SubmissionFile;
  label: string;
  /** The text scanned for -lock=false and force-unlock. */
  text: string;
  notes: string[];
}

interface Replay {
  workspaceDir: string;
  baseline: StateObject | undefined;
}

interface Run {
  outcome: LearnerScriptOutcome;
  records: ParsedRecord[];
  release: string;
}

type Learner =
  | { ok: false; problem: string; doc: string | undefined; docProblem?: string }
  | {
      ok: true;
      pipeline: Pipeline;
      contention: Run & { releasedAt: number | undefined; holder: CommandResult; heldMs: number; stateAfter: StateObject | undefined };
      pair: Run[];
      lockAfterPair: LockInfo | undefined;
      stateAfterPair: StateObject | undefined;
      digestAfterPair: string | undefined;
      doc: string | undefined;
      docProblem?: string;
    };

let runCounter = 0;
function ciEnvironment(): { env: Record<string, string>; release: string } {
  runCounter += 1;
  const id = `${Date.now()}${runCounter}`;
  const release = `run-${id}`;
  return { release, env: { CI: 'true', GITHUB_RUN_ID: id, LAB_RUN_ID: id, TF_VAR_release: release } };
}

async function loadPipeline(lab: Lab): Promise<Pipeline | { problem: string }> {
  const script = await lab.file('challenge3/pipeline.sh');
  const workflow = await lab.file('challenge3/workflow.yml');
  if (script.state === 'present') {
    const notes = workflow.state === 'present' ? ['challenge3/workflow.yml was not run: pipeline.sh takes precedence'] : [];
    return { file: script, label: script.relative, text: (await readSubmissionText(script)) ?? '', notes };
  }
  if (workflow.state !== 'present') {
    if (script.state === 'not-a-file') return { problem: script.problem };
    if (workflow.state === 'not-a-file') return { problem: workflow.problem };
    return { problem: 'challenge3/pipeline.sh is missing, and so is challenge3/workflow.yml; submit one of them' };
  }
  let plan;
  try {
    plan = planWorkflow((await readSubmissionText(workflow)) ?? '');
  } catch (error) {
    return { problem: `challenge3/workflow.yml cannot be run: ${(error as Error).message}` };
  }
  const rendered = path.join(lab.root, 'workflow-steps.sh');
  await writeFile(rendered, renderWorkflowScript(plan));
  const notes = [
    ...plan.satisfied,
    ...plan.unsupported.map((text) => `not run as on GitHub: ${text}`),
  ];
  return { file: { state: 'present', relative: workflow.relative, path: rendered }, label: workflow.relative, text: plan.steps.map((step) => step.run).join('\n'), notes };
}

function lockingRecords(records: Array<{ parsed: ReturnType<typeof parseInvocationArgs>; invocation: Invocation }>): ParsedRecord[] {
  return records.filter((record) => LOCKING_SUBCOMMANDS.has(record.parsed.subcommand));
}

const c3 = defineChallenge<Replay, Learner>({
  challenge: 3,
  async replay(lab) {
    const ws = await lab.workspace();
    const baseline = await ws.run(applyArgs());
    if (baseline.exitCode !== 0) throw new Error(`baseline apply exited ${baseline.exitCode}: ${stripAnsi(baseline.all).slice(-1500)}`);
    return { workspaceDir: ws.dir, baseline: await lab.reader.readState() };
  },
  async learner(lab, replay) {
    const docFile = await lab.file('challenge3/LOCKING.md');
    const doc = await readSubmissionText(docFile);
    const docProblem = docFile.state === 'present' ? undefined : docFile.problem;
    const pipeline = await loadPipeline(lab);
    if ('problem' in pipeline) return { ok: false, problem: pipeline.problem, doc, docProblem };

    // Scenario 1: the lock is held when the pipeline starts.
    const ws = await lab.workspace();
    const holder = await startLockHolder(ws, { vars: { release: 'c3-holder' } });
    lab.event('lock-held', `another apply holds lock ${holder.lock.ID}`);
    const ci = ciEnvironment();
    let recordsFile: string | undefined;
    let finished = false;
    const running = lab
      .runScript(pipeline.file, { workspaceDir: replay.workspaceDir, extraEnv: ci.env, label: `${pipeline.label} (run under contention)`, onStarted: (env) => (recordsFile = env.recordsFile) })
      .finally(() => (finished = true));
    let releasedAt: number | undefined;
    try {
      const first = await waitFor(
        async () => {
          if (finished) return null;
          if (!recordsFile) return undefined;
          return lockingRecords(parseRecords(await readInvocations(recordsFile)))[0] ?? undefined;
        },
        { what: "the pipeline's first plan/apply", timeoutMs: lab.context.scriptTimeoutMs + 5_000 },
      );
      if (first) {
        await waitFor(
          async () => {
            if (finished || Date.now() - first.invocation.started_at >= HOLD_AFTER_FIRST_LOCKING_COMMAND_MS) return true;
            const now = (await readInvocations(recordsFile!)).find((inv) => inv.pid === first.invocation.pid && inv.started_at === first.invocation.started_at);
            return now?.exit_code !== undefined ? true : undefined;
          },
          { what: 'the hold period', timeoutMs: HOLD_AFTER_FIRST_LOCKING_COMMAND_MS + 5_000 },
        );
      }
    } finally {
      releasedAt = Date.now();
    }
    const holderResult = await holder.release();
    lab.event('lock-released', `the holding apply finished (exit ${holderResult.exitCode})`);
    const contentionOutcome = await running;
    const contention = {
      outcome: contentionOutcome,
      records: parseRecords(contentionOutcome.invocations),
      release: ci.release,
      releasedAt,
      holder: holderResult,
      heldMs: releasedAt - holder.heldAt,
      stateAfter: await lab.reader.readState(),
    };

    // Scenario 2: two runs started together.
    const runs = [ciEnvironment(), ciEnvironment()];
    const outcomes = await Promise.all(
      runs.map((run, index) => lab.runScript(pipeline.file, { workspaceDir: replay.workspaceDir, extraEnv: run.env, label: `${pipeline.label} (concurrent run ${index + 1})` })),
    );
    const pair = outcomes.map((outcome, index) => ({ outcome, records: parseRecords(outcome.invocations), release: runs[index]!.release }));
    return {
      ok: true,
      pipeline,
      contention,
      pair,
      lockAfterPair: (await lab.reader.readLock())?.info,
      stateAfterPair: await lab.reader.readState(),
      digestAfterPair: await lab.reader.readDigest(),
      doc,
      docProblem,
    };
  },
});

type Ok = Extract<Learner, { ok: true }>;
function judge(learner: Learner, body: (ok: Ok) => Verdict): Verdict {
  return learner.ok ? body(learner) : fail(learner.problem);
}

function allRuns(learner: Ok): Run[] {
  return [learner.contention, ...learner.pair];
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function notes(learner: Ok): string {
  return learner.pipeline.notes.length ? ` Notes: ${learner.pipeline.notes.join('; ')}.` : '';
}

c3.check('c3.lock-timeout-used', (_r, learner) =>
  judge(learner, (ok) => {
    const locking = allRuns(ok).flatMap((run) => run.records).filter((r) => r.parsed.subcommand === 'plan' || r.parsed.subcommand === 'apply');
    if (locking.length === 0) return fail(`the pipeline never ran terraform plan or apply.${notes(ok)}`);
    const missing = locking.find((r) => r.parsed.lockTimeoutMs === undefined);
    if (missing) return fail(`${describeInvocation(missing.invocation)} ran without -lock-timeout: it fails at once when another run holds the lock. Add e.g. -lock-timeout=60s to every plan and apply.`);
    const short = locking.find((r) => (r.parsed.lockTimeoutMs ?? 0) < MIN_LOCK_TIMEOUT_MS);
    if (short) {
      return fail(`${describeInvocation(short.invocation)} has a -lock-timeout under 10 s${short.parsed.lockTimeoutMs === -1 ? ' (unreadable: use a unit, e.g. 60s)' : ''}: too short to wait out another run's apply.`);
    }
    return pass(`all ${locking.length} plan/apply commands carried -lock-timeout >= 10 s (shortest ${seconds(Math.min(...locking.map((r) => r.parsed.lockTimeoutMs ?? 0)))})`);
  }),
);

c3.check('c3.waits-through-contention', (_r, learner) =>
  judge(learner, (ok) => {
    const { outcome, records, releasedAt, holder, heldMs, stateAfter, release } = ok.contention;
    const { run } = outcome;
    const released = releasedAt ?? 0;
    const failedLocking = lockingRecords(records).find((r) => r.invocation.exit_code !== 0 && r.invocation.started_at < released);
    if (run.timedOut) return fail(`the pipeline did not finish within its time limit while another run held the lock for ${seconds(heldMs)}.${notes(ok)}`);
    if (run.exitCode !== 0) {
      if (failedLocking) {
        const { invocation, parsed } = failedLocking;
        const took = seconds((invocation.ended_at ?? invocation.started_at) - invocation.started_at);
        const advice = parsed.lockTimeoutMs === undefined
          ? 'it ran without -lock-timeout and gave up at once because the lock was held; -lock-timeout=60s would have waited'
          : `its -lock-timeout (${seconds(parsed.lockTimeoutMs)}) ran out before the other run released the lock after ${seconds(heldMs)}`;
        return fail(`your ${parsed.subcommand} failed after ${took} (${describeInvocation(invocation)}): ${advice}.${notes(ok)}`);
      }
      return fail(`the pipeline exited ${run.exitCode ?? run.signal} while another run held the lock. Its last output:\n${stripAnsi(run.output).trimEnd().split('\n').slice(-6).join('\n')}${notes(ok)}`);
    }
    const applied = records.find((r) => r.parsed.subcommand === 'apply' && r.invocation.exit_code === 0 && !r.parsed.lockDisabled);
    if (!applied) return fail(`the pipeline exited 0 but never applied with locking on.${notes(ok)}`);
    if ((applied.invocation.ended_at ?? 0) < released) return fail('the pipeline\'s apply finished before the other run released the lock: it cannot have held the lock');
    if (holder.exitCode !== 0) return fail(`the run that held the lock failed (exit ${holder.exitCode}): the pipeline must wait for it, not break its lock`);
    const landed = (stateAfter?.json?.outputs as Record<string, { value?: unknown }> | undefined)?.release?.value;
    if (landed !== release) return fail(`the pipeline exited 0, but the state does not hold its change (release ${release}; found ${JSON.stringify(landed)})`);
    return pass(`the pipeline waited out a lock held for ${seconds(heldMs)} and applied its change after the release.${notes(ok)}`);
  }),
);

const CLEAN_FAILURE = /Error acquiring the state lock|Saved plan is stale|plan file .* stale|stale/i;

c3.check('c3.serialized-runs', (r, learner) =>
  judge(learner, (ok) => {
    const problems: string[] = [];
    ok.pair.forEach((run, index) => {
      const name = `concurrent run ${index + 1}`;
      if (run.outcome.run.timedOut) problems.push(`${name} did not finish within its time limit`);
      else if (run.outcome.run.exitCode !== 0 && !CLEAN_FAILURE.test(stripAnsi(run.outcome.run.output))) {
        problems.push(`${name} failed (exit ${run.outcome.run.exitCode}) for a reason other than the lock or a stale plan`);
      }
    });
    const applied = ok.pair.some((run) => run.records.some((rec) => rec.parsed.subcommand === 'apply' && rec.invocation.exit_code === 0));
    if (!applied) problems.push('neither run applied');
    if (ok.lockAfterPair) problems.push(`a lock was left behind (${ok.lockAfterPair.Operation} ${ok.lockAfterPair.ID})`);
    const state = ok.stateAfterPair;
    if (!state?.json) problems.push('the state is unreadable afterwards');
    else {
      if (state.lineage !== r.baseline?.lineage) problems.push('the state lineage changed');
      if (ok.digestAfterPair !== state.md5) problems.push('the -md5 digest does not match the stored state');
    }
    const outcomes = ok.pair.map((run) => `exit ${run.outcome.run.exitCode ?? run.outcome.run.signal}`).join(' and ');
    return problems.length === 0 ? pass(`two runs started together ended cleanly (${outcomes}); no lock left, state intact`) : fail(`${problems.join('; ')}.${notes(ok)}`);
  }),
);

c3.check('c3.no-unlocked-writes', (_r, learner) =>
  judge(learner, (ok) => {
    const ran = allRuns(ok).flatMap((run) => unlockedWrites(run.records));
    if (ran.length > 0) return fail(`${describeInvocation(ran[0]!.invocation)} wrote state with locking off: a pipeline must never write with -lock=false.`);
    const written = findUnlockedWrites(ok.pipeline.text);
    if (written.length > 0) return fail(`line ${written[0]!.line} of the pipeline writes with -lock=false ("${written[0]!.text}"), even if it did not run here.`);
    return pass('no state-writing command ran or is written with -lock=false');
  }),
);

c3.check('c3.no-force-unlock', (_r, learner) =>
  judge(learner, (ok) => {
    const ran = allRuns(ok).flatMap((run) => forceUnlocks(run.records));
    if (ran.length > 0) return fail(`the pipeline ran ${describeInvocation(ran[0]!.invocation)}: a pipeline that force-unlocks can break the lock of a run that is still applying.`);
    const written = findForceUnlock(ok.pipeline.text);
    if (written.length > 0) return fail(`line ${written[0]!.line} of the pipeline runs force-unlock ("${written[0]!.text}"); force-unlock is for humans who have checked the holder is dead.`);
    return pass('the pipeline never runs force-unlock');
  }),
);

c3.check('c3.lock-false-documented', (_r, learner) => {
  const heuristic = '(judged by a heuristic on the words used; a human can review it)';
  if (learner.doc === undefined) return fail(`${learner.docProblem ?? 'challenge3/LOCKING.md is missing'} ${heuristic}`);
  const judged = judgeLockingDoc(learner.doc);
  if (judged.ok) return pass(`LOCKING.md covers it: ${judged.found.join('; ')} ${heuristic}`);
  return fail(`LOCKING.md does not yet say ${judged.missing.join('; nor ')}. Found: ${judged.found.join('; ') || 'none of the terms'} ${heuristic}`);
});

