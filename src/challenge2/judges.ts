// Challenge 2's judges: pure functions of the evidence. Lock-related verdicts
// rest on what the backend saw through the learner run's own relay; the
// recorded terraform commands only explain a failure (and a record the
// backend contradicts is reported as such).
import { scriptEnd } from '../analysis/script-end.ts';
import { createHash } from 'node:crypto';
import { describeInvocation, forceUnlocks, unlockedWrites } from '../analysis/invocation-facts.ts';
import { clientName, type BackendRequest } from '../evidence/backend-log.ts';
import { isHostRefusedWrite, lockEpisodes, stateWrites, type LockEpisode } from '../evidence/lock-history.ts';
import { possibleSenders, senderNote } from '../evidence/request-senders.ts';
import { deletionName, lockAction, lockNoun, succeeded, type LockTarget } from '../evidence/lock-target.ts';
import { primaryLock, stateTarget, type StoreNames } from '../evidence/store-names.ts';
import { stateObject } from '../backend/lock-info.ts';
import { parseInvocationArgs, type ParsedInvocation } from '../analysis/terraform-args.ts';
import { fail, pass, type Verdict } from '../grading/verdict.ts';
import { stripAnsi } from '../util/ansi.ts';
import type { Learner2, Replay2 } from './evidence.ts';

type Ran = Extract<Learner2, { ran: true }>;

function releaseIn(state: { json?: Record<string, unknown> } | undefined): unknown {
  const outputs = state?.json?.outputs as Record<string, { value?: unknown }> | undefined;
  return outputs?.release?.value;
}

function tail(text: string, lines = 6): string {
  return stripAnsi(text).trimEnd().split('\n').slice(-lines).join('\n');
}

function judge(learner: Learner2, body: (ran: Ran) => Verdict): Verdict {
  return learner.ran ? body(learner) : fail(`${learner.problem}; nothing was run for challenge 2`);
}


const isTerraform = (request: BackendRequest) => request.client === 'terraform' || request.client === 'tofu';
const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** Where the orphan was left, as feedback says it. */
function leftIn(names: StoreNames): string {
  return { dynamodb: 'in the table', lockfile: 'as the .tflock object', both: 'as the .tflock object and in the table' }[names.variant];
}

export function judgeReplayOrphanedLock(r: Replay2): Verdict {
  const problems: string[] = [];
  const noun = lockNoun(primaryLock(r.names));
  if (r.killed.signal !== 'SIGKILL') problems.push(`the apply ended with ${r.killed.signal ?? `exit ${r.killed.exitCode}`}, not SIGKILL`);
  if (r.orphan?.ID !== r.heldId) problems.push(`${noun} was ${r.orphan ? `replaced (${r.orphan.ID})` : 'not left behind'}`);
  if (releaseIn(r.stateAfterKill) !== 'v1') problems.push(`the state should still hold release v1 after the kill, it holds ${JSON.stringify(releaseIn(r.stateAfterKill))}`);
  return problems.length === 0
    ? pass(`an apply of release ${r.changedRelease} was SIGKILLed in its deploy step; its lock ${r.heldId} was left ${leftIn(r.names)} and the state still holds v1`)
    : fail(problems.join('; '));
}

export function judgeScriptSucceeds(_r: Replay2, learner: Learner2): Verdict {
  return judge(learner, ({ script }) => {
    if (script.timedOut) {
      return fail(
        `challenge2/recover.sh did not finish within its time limit (${Math.round(script.timeoutMs / 1000)} s) and was stopped. ` +
          'An orphaned lock is never released by its owner (the process is dead), so waiting for it hangs forever: release it with force-unlock.',
      );
    }
    if (script.exitCode !== 0) return fail(`challenge2/recover.sh ${scriptEnd(script)}; it must exit 0. Its last output:\n${tail(script.output)}`);
    return pass(`recover.sh exited 0 in ${(script.durationMs / 1000).toFixed(1)} s`);
  });
}

export function judgeLockReleased(r: Replay2, learner: Learner2): Verdict {
  return judge(learner, ({ lockAfter, damage }) => {
    if (damage.length) return fail(`your script destroyed lab infrastructure (${damage.join('; ')}): releasing a lock never means deleting the table or bucket`);
    const where = lockAfter?.place === 'object' ? 'the lock object (.tflock) is still in the bucket' : 'a lock item is still in the table';
    if (!lockAfter) return pass(r.names.variant === 'dynamodb' ? 'no lock item remains for the state' : `no lock remains for the state (${r.names.variant === 'both' ? 'neither the .tflock object nor the item' : 'no .tflock object'})`);
    if (!lockAfter.info) {
      return fail(`${where} after recover.sh, and its ${lockAfter.place === 'object' ? 'body' : 'Info'} is not Lock Info (${JSON.stringify(lockAfter.raw.slice(0, 80))}): it was written by hand, not by terraform`);
    }
    if (lockAfter.info.ID === r.heldId) {
      const place = lockAfter.place === 'object' ? 'as the .tflock object in the bucket' : 'in the table';
      return fail(`the orphaned lock (ID ${r.heldId}, ${r.orphan?.Operation}) is still ${place} after recover.sh; release it with "terraform force-unlock -force <ID>"`);
    }
    return fail(`a lock is still held after recover.sh, by ${lockAfter.info.Operation} ${lockAfter.info.ID}: something your script started still holds it, or left it behind`);
  });
}

/** The first successful delete of a lock by the learner's run: how the orphan went away from there. */
function orphanRelease(lock: LockTarget, ran: Ran): BackendRequest | undefined {
  return ran.requests.find((q) => q.run === ran.run && lockAction(q, lock) === 'delete' && succeeded(q));
}

/**
 * A real terraform/tofu process running `command` sent `request`: it was alive in the run when the request arrived
 * (the grader's process observer, outside the sandbox, ticked by the relay while the client waited:
 * BackendRequest.terraformAlive) and, where the connection was traced, it is the process that sent it
 * (BackendRequest.sender). The client kind of a request comes from its User-Agent, which any program can claim
 * (`curl --aws-sigv4 -A ...`, botocore with a custom user_agent); the kernel's argv of a live process cannot be,
 * and a real one started and frozen (SIGSTOP) while curl sent requests in its name is alive but is not the sender.
 */
function whileRunning(request: BackendRequest, command: (parsed: ParsedInvocation) => boolean): boolean {
  return (possibleSenders(request) ?? []).some((alive) => command(parseInvocationArgs(alive.args, alive.tf_cli_args)));
}

/** What the observer saw running when `request` arrived, in words: the real terraform/tofu commands, or none. */
function aliveThen(request: BackendRequest): string {
  const alive = request.terraformAlive;
  if (alive === undefined) return '';
  if (alive.length === 0) return ' No real terraform/tofu process was running in your run then.';
  const commands = alive.map((one) => `"${[...one.args, ...Object.values(one.tf_cli_args)].join(' ')}"`);
  return ` Running then: ${commands.join(', ')}.${senderNote(request)}`;
}

/** How the orphan was removed from each of the variant's locks, and whether that was force-unlock's way. */
function releases(
  r: Replay2,
  ran: Ran,
): Array<{ lock: LockTarget; deleted?: BackendRequest; overwrittenBy?: BackendRequest; looksLikeForceUnlock: boolean; byForceUnlock: boolean }> {
  return r.names.locks.map((lock) => {
    const deleted = orphanRelease(lock, ran);
    // force-unlock reads the lock (GetItem, or GetObject of the .tflock, to compare the ID) and then deletes it, from one
    // terraform/tofu process (Terraform deletes unconditionally, OpenTofu >= 1.10 the item on condition that its Info is
    // unchanged: lock-protocol.md §2, §3).
    const readFirst = deleted !== undefined && ran.requests.some((q) => q.run === ran.run && q.seq < deleted.seq && lockAction(q, lock) === 'read' && q.client === deleted.client);
    // What it deleted must still be the orphan: a lock the run wrote over it first (put-item, or put-object of the
    // .tflock, with Lock Info of its own) makes force-unlock release the learner's own lock, not the orphaned one.
    const overwrittenBy = deleted && ran.requests.find((q) => q.run === ran.run && q.seq < deleted.seq && lockAction(q, lock) === 'put' && succeeded(q));
    const looksLikeForceUnlock = deleted !== undefined && isTerraform(deleted) && readFirst && overwrittenBy === undefined;
    return {
      lock,
      ...(deleted ? { deleted } : {}),
      ...(overwrittenBy ? { overwrittenBy } : {}),
      looksLikeForceUnlock,
      byForceUnlock: looksLikeForceUnlock && whileRunning(deleted, (p) => p.subcommand === 'force-unlock' && p.lockId === r.heldId),
    };
  });
}

export function judgeForceUnlockUsed(r: Replay2, learner: Learner2): Verdict {
  return judge(learner, (ran) => {
    const unlocks = forceUnlocks(ran.records);
    const released = releases(r, ran);
    const all = released.every((one) => one.byForceUnlock);
    if (all) {
      const first = released[0]?.deleted;
      const unrecorded = unlocks.length === 0 ? ' (no force-unlock command went through the terraform on PATH: the real binary was called directly)' : '';
      const what = released.map((one) => lockNoun(one.lock)).join(' and ');
      return pass(`force-unlock released the orphaned lock ${r.heldId}: the backend saw ${first?.client ?? 'terraform'} read ${what}, then delete it${unrecorded}`);
    }
    const replaced = released.find((one) => one.overwrittenBy);
    if (replaced?.overwrittenBy) {
      const by = replaced.overwrittenBy;
      return fail(
        `${lockNoun(replaced.lock)} was written over by ${clientName(by.client)} (${deletionName(by)}) before it was released, so what was deleted was no longer the orphaned lock ${r.heldId}: ` +
          'replacing a lock with one of your own and force-unlocking that skips the check that the ID matches the lock you meant to break. Use "terraform force-unlock -force <ID>" with the orphan\'s ID.',
      );
    }
    const posing = released.find((one) => one.looksLikeForceUnlock && !one.byForceUnlock);
    if (posing?.deleted) {
      return fail(
        `the backend saw a client whose User-Agent says ${clientName(posing.deleted.client)} read ${lockNoun(posing.lock)} and delete it, but no terraform/tofu "force-unlock ${r.heldId}" was running in your run when that delete arrived ` +
          '(the grader watches the real binary from outside the sandbox as each request arrives): a program presenting itself as terraform deletes the lock by hand, ' +
          'which skips the check that the ID matches the lock you meant to break. Use "terraform force-unlock -force <ID>".' +
          aliveThen(posing.deleted) +
          (unlocks.some((u) => u.invocation.exit_code === 0) ? ' (The recorded force-unlock command is contradicted by what the grader saw.)' : ''),
      );
    }
    const byHand = released.find((one) => one.deleted && !one.byForceUnlock);
    if (byHand?.deleted) {
      const { deleted } = byHand;
      const noun = lockNoun(byHand.lock);
      return fail(
        `the orphaned lock was deleted by ${clientName(deleted.client)} (${deletionName(deleted)}${isTerraform(deleted) ? ' without first reading the lock' : ''}${byHand.lock.kind === 'object' ? ` of ${byHand.lock.key}` : ''}), not by terraform force-unlock: ` +
          `deleting ${noun} by hand skips the check that the ID matches the lock you meant to break. Use "terraform force-unlock -force <ID>".` +
          (unlocks.some((u) => u.invocation.exit_code === 0) ? ' (The recorded force-unlock command is contradicted by what the backend saw.)' : ''),
      );
    }
    const partly = released.find((one) => one.byForceUnlock);
    if (partly) {
      const kept = released.filter((one) => !one.deleted).map((one) => lockNoun(one.lock));
      return fail(`force-unlock released ${lockNoun(partly.lock)}, but ${kept.join(' and ')} was never released through the backend: the orphaned lock is only half broken`);
    }
    const wrongId = unlocks.find((u) => u.parsed.lockId !== r.heldId);
    if (wrongId) {
      return fail(
        `force-unlock was run with ID ${JSON.stringify(wrongId.parsed.lockId ?? '')} (${describeInvocation(wrongId.invocation)}), but the lock that was held had ID ${r.heldId}. ` +
          `Lock IDs are new for every run: read the ID from ${lockNoun(primaryLock(r.names))} or from the "Lock Info" of a failing command, never hard-code it.`,
      );
    }
    const failed = unlocks.find((u) => u.invocation.exit_code !== 0);
    if (failed) return fail(`force-unlock with the right ID did not succeed: ${describeInvocation(failed.invocation)}`);
    if (unlocks.length > 0) return fail(`a force-unlock is recorded, but the backend never saw ${lockNoun(primaryLock(r.names))} deleted: the record is contradicted by what the backend saw`);
    if (!ran.lockAfter) {
      return fail('the lock is gone, but your script did not release it through the backend it was given; use "terraform force-unlock -force <ID>"');
    }
    return fail('force-unlock was never run; an orphaned lock is released with "terraform force-unlock -force <ID>"');
  });
}

/** "all 2 state and digest writes", "the 1 state write": what the writes were (the lockfile variant has no digest). */
function countWrites(writes: ReadonlyArray<{ target: 'state' | 'digest' }>): string {
  const what = writes.some((w) => w.target === 'digest') ? 'state and digest' : 'state';
  return writes.length === 1 ? `the 1 ${what} write` : `all ${writes.length} ${what} writes`;
}

/**
 * Whether the learner's run did anything with the orphaned lock or the state through the backend: a put or delete
 * of a lock of the variant, a write of the state or digest, or a read of the lock by terraform/tofu (a force-unlock
 * that terraform refused, its ID wrong, still tried). "Never did X" checks (no unlocked writes, state intact) judge
 * a recovery; a script that never touched either (`exit 0`, a script stopped before it began) recovered nothing and
 * earns nothing for what it did not do (it earned 10 of 45, with exit 0 15). A look at the lock with the AWS CLI or
 * curl alone recovers nothing either: `aws dynamodb get-item ...; echo recovered` earned 15 of 45 again.
 */
function touchedLockOrState(r: Replay2, ran: Ran): boolean {
  const mine = ran.requests.filter((q) => q.run === ran.run);
  const byTerraform = (q: BackendRequest) => (q.client === 'terraform' || q.client === 'tofu') && possibleSenders(q)?.length !== 0;
  return (
    mine.some((q) =>
      r.names.locks.some((lock) => {
        const action = lockAction(q, lock);
        return action === 'put' || action === 'delete' || (action === 'read' && byTerraform(q));
      }),
    ) || stateWrites(mine, stateTarget(r.names)).length > 0
  );
}

const NOTHING_DONE =
  'your script never touched the orphaned lock or the state through the backend it was given (no release, lock or write, nor terraform reading the lock; a look with the AWS CLI is not a recovery): it recovered nothing, so there is nothing to judge here. ' +
  'Read the lock, release it with "terraform force-unlock -force <ID>", then apply.';

export function judgeNoUnlockedWrites(r: Replay2, learner: Learner2): Verdict {
  return judge(learner, (ran) => {
    if (!touchedLockOrState(r, ran)) return fail(NOTHING_DONE);
    const aroundRelay = ran.requests.find((q) => q.run === ran.run && isHostRefusedWrite(q));
    if (aroundRelay) {
      return fail(
        `your script sent an S3 ${aroundRelay.operation} naming Host ${JSON.stringify(aroundRelay.hostRefused)} instead of the endpoint it was given (the relay refused it): ` +
          'with a bucket in the Host header, the backend may write an object the evidence reads as another, a write around the lock.',
      );
    }
    const writes = stateWrites(ran.requests, stateTarget(r.names)).filter((w) => w.run === ran.run && w.succeeded);
    const unlocked = writes.filter((w) => !w.lockedByWriter);
    if (unlocked.length === 0) {
      return pass(writes.length ? `${countWrites(writes)} of your script ${writes.length === 1 ? 'was' : 'were'} made while it held the lock` : 'your script wrote no state without the lock');
    }
    const recorded = unlockedWrites(ran.records)[0];
    const first = unlocked[0]!;
    const what = first.target === 'state' ? `${first.operation} of the state` : `${first.operation} of the digest item`;
    if (first.notTheHolder) {
      return fail(
        `your script wrote the state without holding the lock: the backend saw ${what} sent by ${first.notTheHolder.writer} while the lock was held by ${first.notTheHolder.holder} ` +
          '(the grader traces each connection to its process from outside the sandbox). A lock protects the writes of the process that took it; ' +
          'writing the state from another program while terraform holds the lock is writing around the lock.',
      );
    }
    return fail(
      `your script wrote the state while it did not hold the lock (the backend saw ${what} from ${first.client}` +
        `${unlocked.length > 1 ? `, and ${unlocked.length - 1} more unlocked write(s)` : ''})` +
        `${recorded ? `: ${describeInvocation(recorded.invocation)}` : ''}. ` +
        'Writing without the lock (-lock=false, however it is spelled, or writing the state by hand) means nothing stops a second writer: release the orphaned lock instead.',
    );
  });
}

export function judgeStateIntact(r: Replay2, learner: Learner2): Verdict {
  return judge(learner, (ran) => {
    const { stateAfter, digestAfter, damage } = ran;
    if (damage.length) return fail(`the state cannot be intact: ${damage.join('; ')} by your script`);
    if (!touchedLockOrState(r, ran)) return fail(NOTHING_DONE);
    if (!stateAfter) return fail('the state object is gone from the bucket after recover.sh');
    if (!stateAfter.json) return fail('the state object is no longer a JSON state document');
    const problems: string[] = [];
    if (stateAfter.lineage !== r.stateBefore?.lineage) problems.push(`its lineage changed (${r.stateBefore?.lineage} -> ${stateAfter.lineage}): the state was replaced, not updated`);
    if ((stateAfter.serial ?? -1) < (r.stateBefore?.serial ?? 0)) problems.push(`its serial went back (${r.stateBefore?.serial} -> ${stateAfter.serial})`);
    // The -md5 digest lives in the lock table: checked only where the variant has one.
    const digested = r.names.digestId !== undefined;
    if (digested && digestAfter === undefined) problems.push('the -md5 digest item is missing from the lock table');
    else if (digested && digestAfter !== stateAfter.md5) {
      problems.push(`the -md5 digest item (${digestAfter}) does not match the stored state (${stateAfter.md5}): the state was written around terraform`);
    }
    return problems.length === 0
      ? pass(`state readable, lineage kept, serial ${r.stateBefore?.serial} -> ${stateAfter.serial}${digested ? ', digest matches' : ' (no digest: the lockfile variant has no table)'}`)
      : fail(problems.join('; '));
  });
}

/** The id of the lab's deployment (terraform_data.deployment) in a state document. */
export function deploymentId(state: Record<string, unknown> | undefined): string | undefined {
  const resources = state?.resources;
  if (!Array.isArray(resources)) return undefined;
  for (const resource of resources as Array<Record<string, unknown>>) {
    if (resource.type !== 'terraform_data' || resource.name !== 'deployment' || !Array.isArray(resource.instances)) continue;
    const id = (resource.instances[0] as { attributes?: { id?: unknown } } | undefined)?.attributes?.id;
    return typeof id === 'string' ? id : undefined;
  }
  return undefined;
}

/**
 * The deployment ids that an apply of the learner's run created: state writes
 * under a lock that terraform took for OperationTypeApply whose deployment id
 * differs from the state written just before (by anyone).
 */
function deployingWrites(ran: Ran, r: Replay2, episodes: LockEpisode[]): string[] {
  const writes = ran.requests.filter((q) => q.service === 's3' && q.operation === 'PutObject' && q.bucket === r.names.bucket && q.key === r.names.key && q.status === 200 && q.body !== undefined);
  const ids: string[] = [];
  let previous = deploymentId(r.stateAfterKill?.json);
  for (const write of writes) {
    const parsed = stateObject(write.body ?? '').json;
    const id = deploymentId(parsed);
    const episode = episodes.find((e) => e.run === write.run && e.client === write.client && e.acquiredAt <= write.at && (e.releasedAt === undefined || e.releasedAt >= write.at));
    if (write.run === ran.run && isTerraform(write) && episode?.operation === 'OperationTypeApply' && id !== undefined && id !== previous) ids.push(id);
    previous = id;
  }
  return ids;
}

export function judgeZeroDrift(r: Replay2, learner: Learner2): Verdict {
  return judge(learner, (ran) => {
    const { plan } = ran;
    if (plan.outcome === 'changes') {
      const pending = /#\s+(\S+)\s+(must be replaced|will be created|will be updated in-place|will be destroyed)/.exec(plan.output);
      return fail(
        `the plan still has changes${pending ? ` (${pending[1]} ${pending[2]})` : ''}: the interrupted apply of release ${r.changedRelease} was never completed. ` +
          'Unlocking alone is not recovery: run apply (with locking on) after force-unlock.',
      );
    }
    if (plan.outcome === 'error') {
      const locked = /Error acquiring the state lock/.test(plan.output);
      return fail(locked ? "the harness's plan could not take the lock: a lock is still held after recover.sh" : `the harness's plan failed (exit ${plan.exitCode}): ${tail(plan.output, 4)}`);
    }
    // Plan is clean: the state must come from an apply of your script (terraform
    // holding an apply lock wrote it), not from a pushed or hand-written state.
    const episodes = lockEpisodes(ran.requests, primaryLock(r.names));
    const final = ran.stateAfter ? md5(ran.stateAfter.body) : undefined;
    const writes = stateWrites(ran.requests, stateTarget(r.names)).filter(
      (w) => w.run === ran.run && w.target === 'state' && w.operation === 'PutObject' && w.succeeded,
    );
    const lastWrite = writes.at(-1);
    const last = lastWrite && ran.requests.find((q) => q.seq === lastWrite.seq);
    if (!lastWrite || !last) return fail('the plan is clean, but your script never wrote the state: the interrupted change cannot have been completed by it');
    if (last.body === undefined || md5(last.body) !== final) {
      return fail('the state in the bucket is not the one your script last wrote: it was changed some other way afterwards');
    }
    // The lock the write was made under must have been taken by the same kind of terraform client that wrote
    // the state: a lock put by hand (aws dynamodb put-item, or aws s3api put-object --if-none-match '*' of the
    // .tflock, with an Info claiming OperationTypeApply) followed by `state push -lock=false` is not an apply.
    const episode = episodes.find(
      (e) => e.run === ran.run && e.client === last.client && e.acquiredAt <= last.at && (e.releasedAt === undefined || e.releasedAt >= last.at),
    );
    if (!isTerraform(last) || !episode || !lastWrite.lockedByWriter) {
      return fail(
        `the final state was written by ${clientName(last.client)} without holding a lock that terraform itself took, so nothing shows it came from an apply that ran the deploy step ` +
          `(a pushed or hand-written state looks the same).${senderNote(last)} Complete release ${r.changedRelease} with terraform apply, locking on.`,
      );
    }
    if (!whileRunning(last, (p) => p.subcommand === 'apply')) {
      return fail(
        `the final state was written by a client whose User-Agent says ${clientName(last.client)}, but no terraform/tofu apply of your run sent it ` +
          '(the grader watches the real binary from outside the sandbox as each request arrives, and traces which process sent it): a program posing as terraform wrote it, and the deploy step never ran.' +
          `${aliveThen(last)} Complete release ${r.changedRelease} with terraform apply, locking on.`,
      );
    }
    if (episode.operation !== 'OperationTypeApply') {
      return fail(
        `the final state was written under a ${episode.operation ?? 'non-terraform'} lock, not by an apply: a state pushed or edited by hand does not run the deploy step. Run terraform apply to complete release ${r.changedRelease}.`,
      );
    }
    // The deployment in the final state must be one an apply of this run created (its deploy step runs on
    // replacement): an apply that only caught up with a pushed or edited state changes the outputs, not the deployment.
    const finalId = deploymentId(ran.stateAfter?.json);
    const deployed = deployingWrites(ran, r, episodes).some((id) => id === finalId);
    if (!deployed) {
      return fail(
        `the deployment in the final state (id ${finalId ?? 'none'}) was not created by an apply of your script: its deploy step never ran. ` +
          `The state was changed around terraform (state push, or an edited state) before the apply. Run terraform apply on the real state to complete release ${r.changedRelease}.`,
      );
    }
    // The deploy step runs inside the sandbox; what the grader can see is the configuration each real apply (or plan -out)
    // started with. One whose main.tf was changed or that had an override file may have dropped or replaced it.
    const changed = ran.configChanges[0];
    if (changed !== undefined) {
      return fail(
        `the state was written by your terraform apply, but not with the lab's configuration: ${changed}. ` +
          'Editing main.tf, adding an override file, or giving terraform an environment that changes what its shell runs (BASH_ENV, exported functions, LD_PRELOAD) can drop or replace the deploy step; ' +
          `complete release ${r.changedRelease} with the lab's configuration as it is.`,
      );
    }
    return pass(`plan -detailed-exitcode exits 0 and the state was written by your terraform apply: the interrupted change (release ${r.changedRelease}) was completed`);
  });
}
