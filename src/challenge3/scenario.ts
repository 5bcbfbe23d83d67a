// Challenge 3's scenario: the learner's pipeline (challenge3/pipeline.sh, or
// the run: steps of challenge3/workflow.yml) runs three times, each run
// carrying its own change (TF_VAR_release) and reaching the backend through
// its own relay:
//   - once while another apply holds the lock: the holder releases once the
//     backend has refused and answered the pipeline's first retry, and at the
//     latest 8 s after the pipeline started if the pipeline is then looking at
//     the lock (a pipeline that first polls for the lock to clear is never
//     deadlocked against the holder), else at its next look at the lock
//     (hold-rule.ts: one that only sleeps past 8 s still meets the lock);
//   - twice at the same moment: the runs must serialise cleanly.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseRecords } from '../analysis/invocation-facts.ts';
import type { Lab } from '../grading/lab.ts';
import { HARNESS_RUN } from '../grading/lab.ts';
import { readSubmissionText, type SubmissionFile } from '../grading/submission-file.ts';
import type { LearnerRun } from '../learner/learner-run.ts';
import { applyBaseline } from '../terraform/commands/apply.ts';
import { startLockHolder } from '../terraform/lock-holder.ts';
import type { BackendRequest } from '../evidence/backend-log.ts';
import { LockWriteGate } from '../evidence/relay-gate.ts';
import { isRefusal, lockAction } from '../evidence/lock-target.ts';
import { primaryLock, storeNames } from '../evidence/store-names.ts';
import type { Learner3, PipelineRun, PipelineSource, Replay3 } from './evidence.ts';
import { looksAtLock, pollingAt, sentByTerraform } from './hold-rule.ts';
import { planWorkflow, renderWorkflowScript, workflowScanText } from './workflow.ts';

/**
 * When the holder lets go: right after the backend has answered the
 * pipeline's first retry — its second refused lock attempt, and the read of
 * the holder's Lock Info that terraform/tofu make after every refusal (tries
 * at a, a+1, a+3, a+7 s: backoff 1, 2, 4 s). The pipeline has then really
 * waited: an attempt refused, a retry refused. Its next try (a+3) either finds
 * the lock free or, while the holder's apply is still finishing, waits at its
 * relay until it has (relay-gate.ts), and gets the lock well inside the
 * smallest -lock-timeout that passes (10 s).
 * A delete landing between a refused put and that read is what must not
 * happen: terraform then finds no Lock Info and gives up without retrying
 * (lock-protocol.md §4). Before the gate, the release waited for the third
 * refusal, so that the holder's apply had terraform's 4 s backoff to finish
 * (it took up to 8 s on a loaded machine); with the gate the pipeline no longer
 * needs that margin, and challenge 3 takes ~4 s less.
 */
export const REFUSALS_BEFORE_RELEASE = 2;
/** The holder holds no longer than this after the pipeline started while the pipeline polls the lock (hold-rule.ts). */
export const HOLD_AT_MOST_MS = 8_000;
/** At that bound, how long the holder waits for the read of the lock that terraform makes right after a refused attempt. */
export const READ_AFTER_REFUSAL_MS = 5_000;

export interface Replay3Run extends Replay3 {
  workspaceDir: string;
}

let runCounter = 0;
function ciEnvironment(): { env: Record<string, string>; release: string } {
  runCounter += 1;
  const id = `${Date.now()}${runCounter}`;
  const release = `run-${id}`;
  return { release, env: { CI: 'true', GITHUB_RUN_ID: id, LAB_RUN_ID: id, TF_VAR_release: release } };
}

type Loaded = { file: SubmissionFile & { state: 'present' }; source: PipelineSource };

async function loadPipeline(lab: Lab): Promise<Loaded | { problem: string }> {
  const script = await lab.file('challenge3/pipeline.sh');
  const workflow = await lab.file('challenge3/workflow.yml');
  if (script.state === 'present') {
    const notes = workflow.state === 'present' ? ['challenge3/workflow.yml was not run: pipeline.sh takes precedence'] : [];
    return { file: script, source: { label: script.relative, text: (await readSubmissionText(script)) ?? '', notes } };
  }
  if (workflow.state !== 'present') {
    if (script.state === 'not-a-file') return { problem: script.problem };
    if (workflow.state === 'not-a-file') return { problem: workflow.problem };
    const near = [script, workflow].flatMap((file) => (file.state === 'missing' && file.nearMiss !== undefined ? [`there is challenge3/${file.nearMiss}: the name must be exactly ${file.relative}`] : []));
    return { problem: `challenge3/pipeline.sh is missing, and so is challenge3/workflow.yml; submit one of them${near.length ? ` (${near.join('; ')})` : ''}` };
  }
  let plan;
  try {
    plan = planWorkflow((await readSubmissionText(workflow)) ?? '');
  } catch (error) {
    return { problem: `challenge3/workflow.yml cannot be run: ${(error as Error).message}` };
  }
  const rendered = path.join(lab.root, 'workflow-steps.sh');
  await writeFile(rendered, renderWorkflowScript(plan));
  const notes = [...plan.assumptions, ...plan.satisfied, ...plan.unsupported.map((text) => `not run as on GitHub: ${text}`)];
  return {
    file: { state: 'present', relative: workflow.relative, path: rendered },
    source: { label: workflow.relative, text: workflowScanText(plan), notes },
  };
}

export async function replayChallenge3(lab: Lab): Promise<Replay3Run> {
  const ws = await lab.workspace();
  await applyBaseline(ws, { signal: lab.signal });
  return {
    names: storeNames(lab.store),
    baseline: await lab.reader.readState(),
    workspaceDir: ws.dir,
  };
}

function pipelineRun(ran: LearnerRun, release: string, timeoutMs: number): PipelineRun {
  const { run } = ran;
  return {
    run: ran.runLabel,
    release,
    script: { exitCode: run.exitCode, signal: run.signal, timedOut: run.timedOut, durationMs: run.durationMs, output: run.output, timeoutMs, limitsReached: run.limitHits ?? [] },
    records: parseRecords(ran.invocations),
    observed: ran.observed.map(({ args, tf_cli_args }) => ({ args, tf_cli_args })),
  };
}

/**
 * Resolves when the holder should let go: once the run's first retry was
 * refused and answered (REFUSALS_BEFORE_RELEASE), HOLD_AT_MOST_MS after its
 * start, or when it ends. Then closes the gate on the run's lock writes and
 * waits until none of its terraform is between a refused attempt and the read
 * that follows it (settle).
 */
async function holdPeriod(lab: Lab, run: string, startedAt: number, finished: Promise<unknown>, gate: LockWriteGate): Promise<void> {
  const stop = new AbortController();
  // A lock attempt is a put of the lock terraform takes first (the item, or the .tflock object); after a refusal
  // terraform reads the holder's Lock Info (GetItem, or GetObject of the .tflock).
  const lock = primaryLock(storeNames(lab.store));
  // terraform's own attempts and reads: a refusal or read the AWS CLI or curl made does not stand for terraform's retry.
  const ofRun = (q: BackendRequest) => (q.run === run ? lockAction(q, lock) : undefined);
  const ofRunTerraform = (q: BackendRequest) => (sentByTerraform(q) ? ofRun(q) : undefined);
  let refusals = 0;
  const inBackoff = lab.log.waitFor(
    (q) => {
      const action = ofRunTerraform(q);
      if (action === 'put' && isRefusal(q)) refusals += 1;
      return action === 'read' && refusals >= REFUSALS_BEFORE_RELEASE;
    },
    { signal: stop.signal },
  );
  // At the bound, only a run that is looking at the lock (polling it) is let through; otherwise the holder lets go
  // at the run's next look at the lock (hold-rule.ts): a pipeline that merely sleeps past the bound meets the lock.
  const names = storeNames(lab.store);
  const bound = delay(Math.max(0, startedAt + HOLD_AT_MOST_MS - Date.now()), undefined, { signal: stop.signal }).then(async () => {
    if (pollingAt(lab.log.requests, names, run, Date.now())) return;
    const from = lab.log.requests.length;
    await lab.log.waitFor((q) => q.seq >= from && looksAtLock(q, names, run), { signal: stop.signal });
  });
  const aborted = new Promise((_, reject) => lab.signal.addEventListener('abort', () => reject(lab.signal.reason), { once: true }));
  try {
    await Promise.race([inBackoff, bound, finished, aborted]);
    // From here the run's new lock writes wait at its relay. Those already forwarded are answered first (on a loaded
    // machine answers took up to 1.5 s); after a refused one, terraform's read of the lock (at once, in terraform). A
    // conditional put by the AWS CLI or curl (a lock written by hand, retried in a loop, whatever User-Agent it
    // claims) is followed by no read: never longer than READ_AFTER_REFUSAL_MS in all.
    gate.close();
    const settled = async () => {
      if (lab.log.openExchanges(run) > 0) await lab.log.waitFor(() => lab.log.openExchanges(run) === 0, { signal: stop.signal });
      const last = lab.log.requests.filter((q) => ofRun(q) !== undefined).at(-1);
      if (last && ofRun(last) === 'put' && isRefusal(last)) await lab.log.waitFor((q) => q.seq > last.seq && ofRun(q) === 'read', { signal: stop.signal });
    };
    await Promise.race([settled(), delay(READ_AFTER_REFUSAL_MS, undefined, { signal: stop.signal }), aborted]);
  } finally {
    stop.abort();
    await Promise.allSettled([inBackoff, bound]);
  }
}

export async function learnerChallenge3(lab: Lab, replay: Replay3Run): Promise<Learner3> {
  const docFile = await lab.file('challenge3/LOCKING.md');
  const doc = { doc: await readSubmissionText(docFile), ...(docFile.state === 'present' ? {} : { docProblem: docFile.problem }) };
  const loaded = await loadPipeline(lab);
  if ('problem' in loaded) return { ok: false, problem: loaded.problem, ...doc };
  const { file, source } = loaded;

  // Scenario 1: the lock is held when the pipeline starts.
  const holderWs = await lab.workspace();
  const holder = await startLockHolder(holderWs, { vars: { release: 'c3-holder' }, signal: lab.signal });
  lab.defer(async () => holder[Symbol.asyncDispose]());
  lab.event('lock-held', `another apply holds lock ${holder.lock.ID}`, { lock_id: holder.lock.ID });
  const ci = ciEnvironment();
  const run = 'c3:contention';
  const startedAt = Date.now();
  const gate = new LockWriteGate();
  const running = lab.runLearner(file, { workspaceDir: replay.workspaceDir, extraEnv: ci.env, label: `${source.label} (run under contention)`, run, observeTerraform: true, gate });
  let released: { at: number; result: Awaited<ReturnType<typeof holder.release>> };
  try {
    await holdPeriod(lab, run, startedAt, running.catch(() => undefined), gate);
    // While the holder lets go, the pipeline's lock writes wait at its relay (relay-gate.ts): a release landing
    // between one of its terraform's refused attempts and that terraform's read of the lock makes terraform fail at
    // once whatever its -lock-timeout ("2 errors occurred": the refusal, then no Lock Info), terraform's own race,
    // which failed 1 honest grading in 8 at load 16 when the holder's apply took seconds to finish.
    const at = Date.now();
    released = { at, result: await holder.release() };
  } finally {
    gate.open();
  }
  const { at: releasedAt, result: holderResult } = released;
  if (gate.heldCount > 0) {
    const requests = gate.heldCount === 1 ? 'a lock request' : `${gate.heldCount} lock requests`;
    lab.event('note', `${requests} of the pipeline waited at its relay while the holder released the lock (${((Date.now() - releasedAt) / 1000).toFixed(1)} s)`);
  }
  lab.event('lock-released', `the holding apply finished (exit ${holderResult.exitCode})`, { lock_id: holder.lock.ID, exit: String(holderResult.exitCode ?? holderResult.signal) });
  const contentionRun = await running;
  const stateAfter = await lab.reader.readState();
  // The pair must start from a free lock: a lock left by the first run (or the holder) is removed, and said so.
  const leftover = await lab.reader.readLock();
  if (leftover) {
    await lab.reader.deleteLocks();
    lab.event('note', `removed lock ${leftover.info?.ID ?? leftover.raw.slice(0, 40)} left after the first run, before the concurrent runs`);
  }

  // Scenario 2: two runs started together.
  const cis = [ciEnvironment(), ciEnvironment()];
  const pairRuns = await Promise.all(
    cis.map((pairCi, index) =>
      lab.runLearner(file, { workspaceDir: replay.workspaceDir, extraEnv: pairCi.env, label: `${source.label} (concurrent run ${index + 1})`, run: `c3:pair-${index + 1}`, observeTerraform: true }),
    ),
  );
  const timeoutMs = lab.context.scriptTimeoutMs;
  return {
    ok: true,
    pipeline: source,
    contention: {
      ...pipelineRun(contentionRun, ci.release, timeoutMs),
      holderRun: HARNESS_RUN,
      releasedAt,
      heldMs: releasedAt - holder.heldAt,
      holderExit: holderResult.exitCode ?? null,
      stateAfter,
    },
    pair: pairRuns.map((ran, index) => pipelineRun(ran, cis[index]!.release, timeoutMs)),
    requests: [...lab.log.requests],
    lockAfterPair: (await lab.reader.readLocks())[0],
    stateAfterPair: await lab.reader.readState(),
    digestAfterPair: await lab.reader.readDigest(),
    ...doc,
  };
}
