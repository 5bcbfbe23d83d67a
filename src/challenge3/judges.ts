// Challenge 3's judges: pure functions of the evidence. What the backend saw
// through each run's relay decides (lock attempts, who held the lock at each
// state write, who deleted whose lock); the effective arguments of the
// recorded commands (command words plus TF_CLI_ARGS*) say how a run was
// configured, and the backend must not contradict them.
import { exitNote, scriptEnd } from '../analysis/script-end.ts';
import { describeInvocation, forceUnlocks, unlockedWrites, type ParsedRecord } from '../analysis/invocation-facts.ts';
import { findForceUnlock, findUnlockedWrites } from '../analysis/script-scan.ts';
import { parseInvocationArgs, type ParsedInvocation } from '../analysis/terraform-args.ts';
import { classifyTerraformFailure, describeFailure } from '../analysis/terraform-failure.ts';
import type { BackendRequest, ClientKind } from '../evidence/backend-log.ts';
import { isHostRefusedWrite, lockEpisodes, stateWrites, type LockEpisode, type StateWrite } from '../evidence/lock-history.ts';
import { deletionName, isRefusal, lockAction, lockNoun, readFoundLock, succeeded, type LockTarget } from '../evidence/lock-target.ts';
import { primaryLock, stateTarget } from '../evidence/store-names.ts';
import { possibleSenders } from '../evidence/request-senders.ts';
import { fail, pass, withEvidence, type Verdict } from '../grading/verdict.ts';
import { stripAnsi } from '../util/ansi.ts';
import type { Learner3, PipelineRun, Replay3 } from './evidence.ts';
import { judgeLockingDoc } from './locking-doc.ts';

export const MIN_LOCK_TIMEOUT_MS = 10_000;
const LOCKING_SUBCOMMANDS = new Set(['plan', 'apply', 'destroy', 'refresh', 'import', 'taint', 'untaint', 'state mv', 'state rm', 'state push', 'state replace-provider']);
/** A run of refused lock attempts spanning less than this (then giving up) had a -lock-timeout under 10 s: with 10 s, terraform tries at 0, 1, 3 and 7 s. */
const GIVE_UP_SPAN_MS = 6_500;
/** Lock attempts further apart than terraform's longest backoff (16 s) belong to different commands. */
const SAME_COMMAND_GAP_MS = 17_000;

type Ok = Extract<Learner3, { ok: true }>;

/** Writes to the lock table that no terraform command makes (the relay does not read lock IDs out of batches). */
const TABLE_TAMPERING = new Set(['BatchWriteItem', 'TransactWriteItems', 'DeleteTable', 'UpdateItem', 'UpdateTable']);

/**
 * Writes of the .tflock object that no terraform command makes: an
 * unconditional put or a copy onto it (a lock written by hand, or one
 * overwritten), or a batch DeleteObjects naming it. terraform only puts it
 * with If-None-Match and deletes it with DeleteObject.
 */
function objectTampering(request: BackendRequest, lock: LockTarget): boolean {
  if (lock.kind !== 'object' || !succeeded(request)) return false;
  const action = lockAction(request, lock);
  return (action === 'put' && (!request.conditional || request.operation !== 'PutObject')) || (action === 'delete' && request.operation === 'DeleteObjects');
}

function judge(learner: Learner3, body: (ok: Ok) => Verdict): Verdict {
  return learner.ok ? body(learner) : fail(learner.problem);
}

function allRuns(ok: Ok): PipelineRun[] {
  return [ok.contention, ...ok.pair];
}

const isTerraform = (client: ClientKind) => client === 'terraform' || client === 'tofu';

/**
 * Whether a request came from terraform/tofu as far as the grader can tell: its
 * User-Agent says so (any program can claim that: curl --aws-sigv4 -A, botocore
 * with a custom user_agent) and, in a watched run, a real terraform/tofu process
 * for which `command` holds was alive as it arrived (BackendRequest.terraformAlive,
 * the kernel's argv seen from outside the sandbox) and, where its connection was
 * traced, sent it (BackendRequest.sender: a real apply frozen with SIGSTOP while
 * curl posed as it is alive but sent nothing). terraformAlive is absent only for
 * runs the grader does not watch (every pipeline run is watched).
 */
function fromTerraform(request: BackendRequest | undefined, command: (parsed: ParsedInvocation) => boolean = () => true): boolean {
  if (!request || !isTerraform(request.client)) return false;
  const senders = possibleSenders(request);
  return senders === undefined || senders.some((alive) => command(parseInvocationArgs(alive.args, alive.tf_cli_args)));
}
const lockingApply = (parsed: ParsedInvocation) => parsed.subcommand === 'apply' && !parsed.lockDisabled;
const anyApply = (parsed: ParsedInvocation) => parsed.subcommand === 'apply';
const writerName = (client: ClientKind) => (isTerraform(client) ? `by ${client}` : client === 'aws-cli' ? 'with the AWS CLI' : 'by a program other than terraform or the AWS CLI');

/** State (and digest) writes the backend saw a pipeline run make while that run did not hold the lock, however they were made. */
function unlockedPipelineWrites(ok: Ok, r: Replay3): StateWrite[] {
  const runs = allRuns(ok);
  return stateWrites(ok.requests, stateTarget(r.names)).filter((w) => w.succeeded && !w.lockedByWriter && runs.some((run) => run.run === w.run));
}

/**
 * Whether terraform/tofu asked the backend for the lab's lock in any pipeline
 * run (a lock attempt, taken or refused). The "never did X" checks judge a
 * pipeline that works with the lock; one that never asked for it did not do
 * the challenge and earns nothing for what it did not do.
 */
function askedForTheLock(ok: Ok, r: Replay3): boolean {
  const runs = allRuns(ok);
  return r.names.locks.some((lock) => ok.requests.some((q) => fromTerraform(q) && lockAction(q, lock) === 'put' && runs.some((run) => run.run === q.run)));
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** An observed terraform process as a shell line: its TF_CLI_ARGS* first. */
const commandLine = (o: PipelineRun['observed'][number]) => `${Object.entries(o.tf_cli_args).map(([name, value]) => `${name}=${value} `).join('')}terraform ${o.args.join(' ')}`;
const lastLines = (text: string, n = 6) => stripAnsi(text).trimEnd().split('\n').slice(-n).join('\n');

/** terraform's own "Error:" lines (with the line after each), else the last lines of the output. */
function errorLines(output: string): string {
  const lines = stripAnsi(output).split('\n').map((line) => line.replace(/^[│╷╵]\s?/, '').trimEnd());
  const picked: string[] = [];
  lines.forEach((line, index) => {
    if (/^Error: /.test(line)) picked.push(line, ...lines.slice(index + 1, index + 4).filter((next) => next.trim() !== ''));
  });
  return picked.length ? `terraform said:\n${picked.slice(0, 8).join('\n')}` : `Its last output:\n${lastLines(output)}`;
}

function notes(ok: Ok): string {
  return ok.pipeline.notes.length ? ` Notes: ${ok.pipeline.notes.join('; ')}.` : '';
}

/** One command's lock attempts: first and last arrival, the last attempt itself, how many were refused, whether one took the lock. */
export interface AttemptGroup {
  first: number;
  last: number;
  lastAttempt: BackendRequest;
  refused: number;
  acquired: boolean;
}

/** Lock attempts (puts of the lock terraform takes first: the item, or the .tflock object) of one run, grouped per command by terraform's backoff spacing. */
export function attemptGroups(requests: readonly BackendRequest[], lock: LockTarget, run: string): AttemptGroup[] {
  const attempts = requests.filter((q) => q.run === run && lockAction(q, lock) === 'put');
  const groups: AttemptGroup[] = [];
  for (const attempt of attempts) {
    const current = groups.at(-1);
    const acquired = succeeded(attempt);
    if (current && !current.acquired && attempt.at - current.last < SAME_COMMAND_GAP_MS) {
      current.last = attempt.at;
      current.lastAttempt = attempt;
      if (acquired) current.acquired = true;
      else current.refused += 1;
    } else groups.push({ first: attempt.at, last: attempt.at, lastAttempt: attempt, refused: acquired ? 0 : 1, acquired });
  }
  return groups;
}

/**
 * Whether the lock a refused attempt ran into was released by another run
 * before this run read the lock's info: terraform's "lock info vanished" race
 * (its PutItem/PutObject was refused, the holder's item or .tflock was gone
 * when it read it), which no -lock-timeout retries, not a missing timeout.
 * The read's answer decides: it must have found no lock, and another run's
 * delete must have overlapped the span from the refusal to that answer. The
 * backend may answer a read after a delete whose request came in later (the
 * emulator serves one request at a time), so request arrival times alone do
 * not order them. Without a read, a delete within a second of the refusal
 * counts.
 */
function releasedRightAfter(requests: readonly BackendRequest[], lock: LockTarget, run: string, refusal: BackendRequest): boolean {
  const read = requests.find((q) => q.run === run && lockAction(q, lock) === 'read' && q.seq > refusal.seq);
  if (read && readFoundLock(read) === true) return false;
  const until = read ? read.endAt : refusal.endAt + 1_000;
  return requests.some((q) => q.run !== run && lockAction(q, lock) === 'delete' && succeeded(q) && q.endAt >= refusal.at && q.at <= until);
}

/** Recorded commands that take the lock (locking on). */
function lockingRecords(records: readonly ParsedRecord[]): ParsedRecord[] {
  return records.filter((r) => LOCKING_SUBCOMMANDS.has(r.parsed.subcommand) && !r.parsed.lockDisabled);
}

export function judgeLockTimeoutUsed(r: Replay3, learner: Learner3): Verdict {
  return judge(learner, (ok) => {
    const runs = allRuns(ok);
    const records = runs.flatMap((run) => run.records);
    const planApply = records.filter((rec) => rec.parsed.subcommand === 'plan' || rec.parsed.subcommand === 'apply');
    const lock = primaryLock(r.names);
    const acquisitions = lockEpisodes(ok.requests, lock).filter((e) => runs.some((run) => run.run === e.run));
    const bySeq = new Map(ok.requests.map((q) => [q.seq, q]));
    if (planApply.length === 0 && acquisitions.length === 0) {
      // A run ended at its time limit loses its records (they come back when the script ends): do not say "never ran".
      const cut = runs.find((run) => run.script.timedOut && run.records.length === 0);
      if (cut) {
        return fail(
          `the backend saw no terraform command of the pipeline take the lock, and ${runs.filter((run) => run.script.timedOut).length} run(s) were ended at the time limit (${seconds(cut.script.timeoutMs)}), ` +
            `which loses the record of their commands. ${errorLines(cut.script.output)}${notes(ok)}`,
        );
      }
      return fail(`the pipeline never ran terraform plan or apply.${notes(ok)}`);
    }
    // The backend first: a run whose refused attempts stopped within a few seconds gave up (no, or a too short, -lock-timeout).
    for (const run of runs) {
      const gaveUp = attemptGroups(ok.requests, lock, run.run).find(
        (g) => !g.acquired && g.refused > 0 && g.last - g.first < GIVE_UP_SPAN_MS && !releasedRightAfter(ok.requests, lock, run.run, g.lastAttempt),
      );
      if (gaveUp) {
        const span = gaveUp.last - gaveUp.first;
        return fail(
          `the backend saw a terraform command of the pipeline give up on the lock after ${gaveUp.refused} refused attempt(s)${span > 0 ? ` over ${seconds(span)}` : ''}: ` +
            `its -lock-timeout was missing or under 10 s, so it failed instead of waiting. Add e.g. -lock-timeout=60s to every plan and apply.${notes(ok)}`,
        );
      }
      // A lock taken under terraform's User-Agent while no real terraform/tofu ran: a program posing as terraform.
      const posers = acquisitions.filter((e) => e.run === run.run && isTerraform(e.client) && !fromTerraform(bySeq.get(e.acquireSeq)));
      const posing = posers.length;
      // Where the connection was traced (a real terraform may have been alive, frozen, while another program sent it).
      const tracedSender = posers.map((e) => bySeq.get(e.acquireSeq)?.sender?.detail).find((detail) => detail !== undefined);
      if (posing > 0) {
        return fail(
          `the backend saw ${posing} lock(s) taken with terraform's User-Agent while no real terraform/tofu process was running${tracedSender ? ' or sent it' : ''}: ` +
            `another program (curl --aws-sigv4, an SDK) posed as terraform.${tracedSender ? ` It was sent by ${tracedSender}.` : ''} Take the lock with terraform plan/apply and -lock-timeout.`,
        );
      }
      // Every lock the backend saw taken must belong to a command that went through the recorded terraform.
      const taken = acquisitions.filter((e) => e.run === run.run && isTerraform(e.client)).length;
      const recorded = lockingRecords(run.records).length;
      if (taken > recorded) {
        return fail(
          `the backend saw ${taken} lock(s) taken by terraform in one pipeline run, but only ${recorded} locking command(s) went through the terraform on PATH: ` +
            'the pipeline ran terraform some other way, so its arguments cannot be checked. Call terraform (or tofu) from PATH.',
        );
      }
    }
    const unlockedApply = planApply.find((rec) => rec.parsed.subcommand === 'apply' && rec.parsed.lockDisabled);
    if (unlockedApply) {
      return fail(`${describeInvocation(unlockedApply.invocation)} ran with locking off: only a read-only plan may skip the lock; an apply must take it, with a -lock-timeout of at least 10 s to wait for it.`);
    }
    // What the grader saw the real binary run with (outside the sandbox) overrules the records.
    const seen = runs.flatMap((run) => run.observed.map((o) => ({ o, parsed: parseInvocationArgs(o.args, o.tf_cli_args) })));
    const seenUnlocked = seen.find(({ parsed }) => parsed.stateWriting && parsed.lockDisabled);
    if (seenUnlocked) {
      return fail(
        `the grader saw terraform run as "${commandLine(seenUnlocked.o)}" with locking off: only a read-only plan may skip the lock; an apply must take it, with a -lock-timeout of at least 10 s to wait for it.`,
      );
    }
    // However the write was made (terraform run around the wrapper, aws s3 cp, ...): it never waited for the lock.
    const unlockedWrite = unlockedPipelineWrites(ok, r)[0];
    if (unlockedWrite) {
      return fail(
        `the backend saw the pipeline write ${unlockedWrite.target === 'state' ? 'the state' : 'the -md5 digest'} without holding the lock (${unlockedWrite.operation} ${writerName(unlockedWrite.client)}): ` +
          'a write that takes no lock never waits for it, so no -lock-timeout protected it. The apply must take the lock, with a -lock-timeout of at least 10 s.',
      );
    }
    const seenShort = seen.find(
      ({ parsed }) => (parsed.subcommand === 'plan' || parsed.subcommand === 'apply') && !parsed.lockDisabled && (parsed.lockTimeoutInvalid || (parsed.lockTimeoutMs ?? 0) < MIN_LOCK_TIMEOUT_MS),
    );
    if (seenShort) {
      const recordsSay = planApply.length > 0 && planApply.every((rec) => (rec.parsed.lockTimeoutMs ?? 0) >= MIN_LOCK_TIMEOUT_MS) ? ' (the recorded commands say otherwise: they are contradicted by what ran)' : '';
      return fail(
        `the grader saw terraform run as "${commandLine(seenShort.o)}" with locking on and ${seenShort.parsed.lockTimeoutMs === undefined ? 'no valid -lock-timeout' : `a -lock-timeout of ${seconds(seenShort.parsed.lockTimeoutMs)}`}${recordsSay}. Every plan and apply needs -lock-timeout of at least 10 s.`,
      );
    }
    const locking = planApply.filter((rec) => !rec.parsed.lockDisabled);
    const invalid = locking.find((rec) => rec.parsed.lockTimeoutInvalid);
    if (invalid) {
      return fail(`${describeInvocation(invalid.invocation)}: terraform rejected its -lock-timeout value (a duration needs a unit, e.g. 60s or 5m, and at most 2562047h), so the command did not run.`);
    }
    const missing = locking.find((rec) => rec.parsed.lockTimeoutMs === undefined);
    if (missing) {
      return fail(`${describeInvocation(missing.invocation)} ran with locking on and without -lock-timeout: it fails at once when another run holds the lock. Add e.g. -lock-timeout=60s to every plan and apply (on the command line or in TF_CLI_ARGS_plan / TF_CLI_ARGS_apply).`);
    }
    const short = locking.find((rec) => (rec.parsed.lockTimeoutMs ?? 0) < MIN_LOCK_TIMEOUT_MS);
    if (short) return fail(`${describeInvocation(short.invocation)} has a -lock-timeout of ${seconds(short.parsed.lockTimeoutMs ?? 0)}, under 10 s: too short to wait out another run's apply.`);
    if (locking.length === 0) return fail(`the pipeline never ran plan or apply with locking on.${notes(ok)}`);
    // The records say what was asked; a timeout only counts if terraform then asked the backend for the lock.
    if (!askedForTheLock(ok, r)) {
      return fail(
        `the pipeline's plan/apply commands carry -lock-timeout, but the backend saw none of them ask for the lock: terraform refused them or stopped before locking. ${errorLines(runs.find((run) => run.script.output.trim() !== '')?.script.output ?? '')}${notes(ok)}`,
      );
    }
    const waited = runs.some((run) => attemptGroups(ok.requests, lock, run.run).some((g) => g.acquired && g.refused > 0));
    const readOnly = planApply.length - locking.length;
    return pass(
      `all ${locking.length} plan/apply commands with locking on carried -lock-timeout >= 10 s (shortest ${seconds(Math.min(...locking.map((rec) => rec.parsed.lockTimeoutMs ?? 0)))})` +
        `${readOnly ? `; ${readOnly} read-only plan(s) with -lock=false need none` : ''}` +
        `${waited ? '; the backend saw the pipeline retry a held lock and then take it' : ''}`,
    );
  });
}

/**
 * The lock episodes of a run in which it wrote the state as an apply: terraform
 * (or tofu) took the lock for OperationTypeApply and wrote the state under it.
 * A lock item or .tflock written by hand with an apply's Lock Info, or a state
 * uploaded with the AWS CLI, is not an apply (byHand says what was seen instead).
 */
function applyEpisodes(ok: Ok, r: Replay3, run: string, byTerraform = true): LockEpisode[] {
  const writes = stateWrites(ok.requests, stateTarget(r.names));
  const bySeq = new Map(ok.requests.map((q) => [q.seq, q]));
  return lockEpisodes(ok.requests, primaryLock(r.names)).filter(
    (e) =>
      e.run === run &&
      e.operation === 'OperationTypeApply' &&
      (!byTerraform || fromTerraform(bySeq.get(e.acquireSeq), lockingApply)) &&
      writes.some(
        (w) =>
          w.run === run &&
          w.target === 'state' &&
          w.succeeded &&
          w.lockedByWriter &&
          (!byTerraform || fromTerraform(bySeq.get(w.seq), anyApply)) &&
          w.at >= e.acquiredAt &&
          (e.releasedAt === undefined || w.at <= e.releasedAt),
      ),
  );
}

/**
 * Whether the state left after the contention run is exactly what the
 * pipeline's own apply wrote: the last successful state write of the
 * contention phase (holder or pipeline) is the pipeline's, made under its own
 * lock inside one of its apply episodes after the holder let go, and its body
 * is the state found afterwards.
 */
function finalStateIsOwnApply(ok: Ok, r: Replay3, applied: readonly LockEpisode[]): boolean {
  const run = ok.contention;
  const last = stateWrites(ok.requests, stateTarget(r.names))
    .filter((w) => (w.run === run.run || w.run === run.holderRun) && w.target === 'state' && w.succeeded)
    .at(-1);
  if (last === undefined || last.run !== run.run || !last.lockedByWriter) return false;
  const inEpisode = applied.some((e) => e.acquiredAt >= run.releasedAt && last.at >= e.acquiredAt && (e.releasedAt === undefined || last.at <= e.releasedAt));
  const body = ok.requests.find((q) => q.seq === last.seq)?.body;
  return inEpisode && body !== undefined && run.stateAfter !== undefined && body === run.stateAfter.body;
}

/** Why runs that "applied" by hand do not count, or '' when none did. */
function byHand(ok: Ok, r: Replay3, runs: readonly PipelineRun[]): string {
  const faked = runs.some((run) => applyEpisodes(ok, r, run.run, false).length > applyEpisodes(ok, r, run.run).length);
  return faked
    ? ': it saw a lock taken for an apply and the state written under it, but not both by a real terraform apply (a lock written by hand, or a state uploaded with the AWS CLI or curl, is not an apply, whatever its User-Agent says: no real terraform/tofu apply was running when it arrived)'
    : '';
}

/** The run's failing recorded command (if any) and what terraform's output says went wrong. */
function failureOf(run: PipelineRun): { record?: ParsedRecord; lockTimeoutMs?: number; failure: ReturnType<typeof classifyTerraformFailure> } {
  const record = run.records.find((rec) => rec.invocation.exit_code !== undefined && rec.invocation.exit_code !== 0);
  const lockTimeoutMs = record ? (record.parsed.lockTimeoutMs ?? 0) : undefined;
  return { record, lockTimeoutMs, failure: classifyTerraformFailure(run.script.output, run.script.exitCode, { lockTimeoutMs }) };
}

/** One true sentence on why a failed run failed, from what terraform printed (never a guess from the flags alone). */
function whyFailed(run: PipelineRun): string {
  const { record, lockTimeoutMs, failure } = failureOf(run);
  const which = record ? `${describeInvocation(record.invocation)}: ` : '';
  if (failure.kind === 'other') return `${which}it failed for a reason other than the lock or a stale plan. ${errorLines(run.script.output)}`;
  return `${which}${describeFailure(failure, { lockTimeoutMs })}`;
}

export function judgeWaitsThroughContention(r: Replay3, learner: Learner3): Verdict {
  return judge(learner, (ok) => {
    const run = ok.contention;
    if (run.script.timedOut) return fail(`the pipeline did not finish within its time limit (${seconds(run.script.timeoutMs)}) while another run held the lock for ${seconds(run.heldMs)}.${notes(ok)}`);
    if (run.script.exitCode !== 0) {
      // terraform's own race, seen by the backend: the holder's release came between a refused attempt and its read.
      const lock = primaryLock(r.names);
      const raced = attemptGroups(ok.requests, lock, run.run).find((g) => !g.acquired && g.refused > 0 && releasedRightAfter(ok.requests, lock, run.run, g.lastAttempt));
      const why = raced
        ? "terraform's own race, not the pipeline's doing: the holder released the lock right after one of terraform's attempts was refused and before terraform read the lock, so terraform found no Lock Info and gave up at once (it retries only a lock it can read, whatever -lock-timeout). The grader holds the pipeline's lock requests at its relay during the release and waits for that read first, so this happens only when the read came more than 5 s late (a very loaded machine); grading again normally passes"
        : whyFailed(run);
      return fail(`the pipeline ${scriptEnd(run.script)} while another run held the lock for ${seconds(run.heldMs)}: ${why}.${notes(ok)}`);
    }
    const applied = applyEpisodes(ok, r, run.run);
    if (applied.length === 0) return fail(`the pipeline exited 0, but the backend never saw it take the lock for an apply and write the state${byHand(ok, r, [run])}.${notes(ok)}`);
    if (applied.every((e) => e.acquiredAt < run.releasedAt)) return fail("the pipeline's apply took the lock before the other run released it: it cannot have waited for it");
    if (run.holderExit !== 0) return fail(`the run that held the lock failed (exit ${run.holderExit}): the pipeline must wait for it, not break its lock`);
    const landed = (run.stateAfter?.json?.outputs as Record<string, { value?: unknown }> | undefined)?.release?.value;
    if (landed !== run.release) {
      // A pipeline may name its release itself (TF_VAR_release=build-<date>, -var release=...): what counts is that
      // the state left behind is exactly what its own apply wrote after the release.
      if (finalStateIsOwnApply(ok, r, applied)) {
        return pass(
          `the pipeline waited out a lock held for ${seconds(run.heldMs)} and applied its change after the release ` +
            `(its own release ${JSON.stringify(landed)}: the pipeline sets the release itself instead of the TF_VAR_release=${run.release} the grader gives each run).${notes(ok)}`,
        );
      }
      return fail(
        `the pipeline exited 0, but the state does not hold its change (release ${run.release}, the TF_VAR_release the grader gives each run; found ${JSON.stringify(landed)}), ` +
          `and it is not what the pipeline's own apply wrote after the release`,
      );
    }
    return pass(`the pipeline waited out a lock held for ${seconds(run.heldMs)} and applied its change after the release.${notes(ok)}`);
  });
}

/**
 * A failure that is fine for one of two concurrent runs: the lock, or a plan
 * made stale by the other. That includes terraform's own race, where its
 * PutItem was refused but the other run's lock was gone before terraform read
 * it ("Error acquiring the state lock" without Lock Info, which terraform does
 * not retry): the backend shows the refusal.
 */
function cleanFailure(run: PipelineRun, ok: Ok, r: Replay3): boolean {
  const { kind } = failureOf(run).failure;
  if (kind === 'lock-timeout' || kind === 'lock-refused' || kind === 'stale-plan') return true;
  const lock = primaryLock(r.names);
  const refused = ok.requests.some((q) => q.run === run.run && lockAction(q, lock) === 'put' && isRefusal(q));
  return refused && /Error acquiring the state lock/.test(run.script.output);
}

/** Why a clean failure of one of two concurrent runs is clean, for the feedback. */
function cleanFailureNote(run: PipelineRun): string {
  const { kind } = failureOf(run).failure;
  if (kind === 'stale-plan') return 'its saved plan was made stale by the other run';
  if (kind === 'lock-timeout') return 'it waited for the lock and gave up';
  if (kind === 'lock-refused') return 'the other run held the lock';
  return "terraform's own race for the lock";
}

export function judgeSerializedRuns(r: Replay3, learner: Learner3): Verdict {
  return judge(learner, (ok) => {
    const problems: string[] = [];
    ok.pair.forEach((run, index) => {
      const name = `concurrent run ${index + 1}`;
      if (run.script.timedOut) problems.push(`${name} did not finish within its time limit`);
      else if (run.script.exitCode !== 0 && !cleanFailure(run, ok, r)) problems.push(`${name} failed (${exitNote(run.script)}): ${whyFailed(run)}`);
    });
    if (!ok.pair.some((run) => applyEpisodes(ok, r, run.run).length > 0)) problems.push(`neither run applied (the backend saw no apply take the lock and write the state${byHand(ok, r, ok.pair)})`);
    if (ok.lockAfterPair) {
      const owner = lockEpisodes(ok.requests, primaryLock(r.names)).find((e) => e.lockInfoId !== undefined && e.lockInfoId === ok.lockAfterPair?.info?.ID);
      const index = ok.pair.findIndex((run) => run.run === owner?.run);
      problems.push(
        `a lock was left behind${index >= 0 ? ` by concurrent run ${index + 1}` : ''} (${ok.lockAfterPair.info ? `${ok.lockAfterPair.info.Operation} ${ok.lockAfterPair.info.ID}` : `${ok.lockAfterPair.place === 'object' ? 'a .tflock object' : 'an item'} that is not Lock Info`})`,
      );
    }
    const state = ok.stateAfterPair;
    if (!state?.json) problems.push('the state is unreadable afterwards');
    else {
      if (state.lineage !== r.baseline?.lineage) problems.push('the state lineage changed');
      // The digest lives in the lock table: checked only where the variant has one.
      if (r.names.digestId !== undefined && ok.digestAfterPair !== state.md5) problems.push('the -md5 digest does not match the stored state');
    }
    const outcomes = ok.pair.map((run) => `exit ${run.script.exitCode ?? run.script.signal}${run.script.exitCode === 0 ? '' : `: ${cleanFailureNote(run)}`}`).join(' and ');
    return problems.length === 0 ? pass(`two runs started together ended cleanly (${outcomes}); no lock left, state intact`) : fail(`${problems.join('; ')}.${notes(ok)}`);
  });
}

/** `-lock=` given a value computed at run time ($VAR, $(...), `...`): its effect cannot be read from the text. */
export function findComputedLockFlags(text: string): Array<{ line: number; text: string }> {
  const found: Array<{ line: number; text: string }> = [];
  text.split('\n').forEach((line, index) => {
    if (/(^|[\s"'=])--?lock=["']?(\$|`)/.test(line) && !/^\s*#/.test(line)) found.push({ line: index + 1, text: line.trim() });
  });
  return found;
}

export function judgeNoUnlockedWrites(r: Replay3, learner: Learner3): Verdict {
  return judge(learner, (ok) => {
    const runs = allRuns(ok);
    const unlocked = unlockedPipelineWrites(ok, r);
    if (unlocked.length > 0) {
      const run = runs.find((candidate) => candidate.run === unlocked[0]!.run)!;
      const recorded = unlockedWrites(run.records)[0];
      return fail(
        `the backend saw the pipeline write the state without holding the lock${recorded ? ` (${describeInvocation(recorded.invocation)})` : ''}: a pipeline must never write with -lock=false, however it is spelled (flag, TF_CLI_ARGS, ...).`,
      );
    }
    const aroundRelay = ok.requests.find((q) => runs.some((run) => run.run === q.run) && isHostRefusedWrite(q));
    if (aroundRelay) {
      return fail(
        `the pipeline sent an S3 ${aroundRelay.operation} naming Host ${JSON.stringify(aroundRelay.hostRefused)} instead of the endpoint it was given (the relay refused it): ` +
          'with a bucket in the Host header, the backend may write an object the evidence reads as another, a write around the lock.',
      );
    }
    const recorded = runs.flatMap((run) => unlockedWrites(run.records));
    if (recorded.length > 0) return fail(`${describeInvocation(recorded[0]!.invocation)} runs a state-writing command with locking off: a pipeline must never write with -lock=false.`);
    const written = findUnlockedWrites(ok.pipeline.text);
    if (written.length > 0) return withEvidence(fail(`line ${written[0]!.line} of the pipeline writes with -lock=false ("${written[0]!.text}"), even if it did not run here.`), 'static');
    const computed = findComputedLockFlags(ok.pipeline.text);
    if (computed.length > 0) {
      return withEvidence(
        fail(`line ${computed[0]!.line} of the pipeline gives -lock a value computed at run time ("${computed[0]!.text}"): locking must be on for every write, visibly; drop the -lock flag (it is on by default).`),
        'static',
      );
    }
    if (!askedForTheLock(ok, r)) return fail(`the pipeline never ran terraform against the lock (the backend saw no lock attempt by terraform in any run): there is no write to judge.${notes(ok)}`);
    return pass('the backend saw every state write made while the writing run held the lock, and no write with -lock=false is written in the pipeline');
  });
}

export function judgeNoForceUnlock(r: Replay3, learner: Learner3): Verdict {
  return judge(learner, (ok) => {
    const runs = allRuns(ok);
    const ofPipeline = (q: BackendRequest) => runs.some((run) => run.run === q.run);
    for (const lock of r.names.locks) {
      const broken = lockEpisodes(ok.requests, lock).find((e) => e.releasedBy && e.releasedBy.run !== e.run && runs.some((run) => run.run === e.releasedBy?.run));
      if (broken?.releasedBy) {
        const by = broken.releasedBy.client === 'aws-cli' ? `deleted ${lockNoun(lock)} with the AWS CLI` : 'ran force-unlock';
        return fail(`the pipeline ${by} and so broke a lock held by another run (${broken.operation ?? 'unknown operation'}): a pipeline that breaks locks can corrupt a run that is still applying.`);
      }
    }
    // A PartiQL write names its table inside the statement; the challenge's backend holds no other table.
    const byHand = ok.requests.find(
      (q) => ofPipeline(q) && q.service === 'dynamodb' && r.names.table !== undefined && ((q.table === r.names.table && TABLE_TAMPERING.has(q.operation)) || q.partiqlWrite === true) && q.status < 300,
    );
    if (byHand) {
      const what = byHand.partiqlWrite ? `${byHand.operation}, a PartiQL INSERT/UPDATE/DELETE` : byHand.operation;
      return fail(`the pipeline changed the lock table by hand (DynamoDB ${what}): only terraform takes and releases locks; a pipeline that edits the table can break a lock held by a run that is still applying.`);
    }
    const objectByHand = ok.requests.find((q) => ofPipeline(q) && r.names.locks.some((lock) => objectTampering(q, lock)));
    if (objectByHand) {
      return fail(
        `the pipeline wrote the lock object by hand (${deletionName(objectByHand)}${objectByHand.operation === 'PutObject' ? ' without If-None-Match' : ''}): only terraform takes and releases locks; ` +
          'a pipeline that overwrites or deletes the .tflock can break a lock held by a run that is still applying.',
      );
    }
    const ran = runs.flatMap((run) => forceUnlocks(run.records));
    if (ran.length > 0) return fail(`the pipeline ran ${describeInvocation(ran[0]!.invocation)}: a pipeline that force-unlocks can break the lock of a run that is still applying.`);
    const written = findForceUnlock(ok.pipeline.text);
    if (written.length > 0) return withEvidence(fail(`line ${written[0]!.line} of the pipeline runs force-unlock ("${written[0]!.text}"); force-unlock is for humans who have checked the holder is dead.`), 'static');
    if (!askedForTheLock(ok, r)) return fail(`the pipeline never ran terraform against the lock (the backend saw no lock attempt by terraform in any run): a pipeline that does nothing breaks no lock, but earns nothing for it.${notes(ok)}`);
    return pass('the pipeline never broke a lock (the backend saw every lock released by the run that took it) and never runs force-unlock');
  });
}

export function judgeLockFalseDocumented(_r: Replay3, learner: Learner3): Verdict {
  const heuristic = '(judged by a heuristic on the words used; a human can review it)';
  if (learner.doc === undefined) return withEvidence(fail(`${learner.docProblem ?? 'challenge3/LOCKING.md is missing'} ${heuristic}`), 'static');
  const judged = judgeLockingDoc(learner.doc);
  if (judged.ok) return withEvidence(pass(`LOCKING.md covers it: ${judged.found.join('; ')} ${heuristic}`), 'static');
  return withEvidence(fail(`LOCKING.md ${judged.reason ?? `does not yet say ${judged.missing.join('; nor ')}`}. Found: ${judged.found.join('; ') || 'none of the terms'} ${heuristic}`), 'static');
}
