// Challenge 2: an orphaned lock. An apply carrying a configuration change
// (release v1 -> v2) is SIGKILLed inside its deploy step, leaving its lock
// item behind and the state at v1. The learner's recover.sh must release the
// lock with force-unlock (the orphan's ID) and complete the change, so that
// the harness's own plan -detailed-exitcode exits 0. Every check is judged on
// what happened (the lock table, the state, the recorded terraform commands),
// not on the script's text.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LockInfo, StateObject } from '../src/backend/lab-store.ts';
import { describeInvocation, forceUnlocks, parseRecords, unlockedWrites, type ParsedRecord } from '../src/analysis/invocation-facts.ts';
import { defineChallenge, type LearnerScriptOutcome } from '../src/grading/challenge.ts';
import { fail, pass, type Verdict } from '../src/grading/verdict.ts';
import { applyArgs, planArgs } from '../src/terraform/args.ts';
import type { CommandResult } from '../src/terraform/command-result.ts';
import { startLockHolder } from '../src/terraform/lock-holder.ts';
import type { Workspace } from '../src/workspace/workspace.ts';
import { stripAnsi } from '../src/util/ansi.ts';

const CHANGED_RELEASE = 'v2';

interface Replay {
  workspace: Workspace;
  orphan: LockInfo | undefined;
  heldId: string;
  killed: CommandResult;
  stateBefore: StateObject | undefined;
  stateAfterKill: StateObject | undefined;
}

type Learner =
  | { ran: false; problem: string }
  | {
      ran: true;
      script: LearnerScriptOutcome;
      records: ParsedRecord[];
      lockAfter: LockInfo | undefined;
      /** What the script destroyed (the table, the bucket): reads of them are skipped. */
      damage: string[];
      stateAfter: StateObject | undefined;
      digestAfter: string | undefined;
      plan: CommandResult;
    };

function releaseIn(state: StateObject | undefined): unknown {
  const outputs = state?.json?.outputs as Record<string, { value?: unknown }> | undefined;
  return outputs?.release?.value;
}

function tail(text: string, lines = 6): string {
  return stripAnsi(text).trimEnd().split('\n').slice(-lines).join('\n');
}

const c2 = defineChallenge<Replay, Learner>({
  challenge: 2,
  async replay(lab) {
    const ws = await lab.workspace();
    const baseline = await ws.run(applyArgs());
    if (baseline.exitCode !== 0) throw new Error(`baseline apply exited ${baseline.exitCode}: ${tail(baseline.all, 20)}`);
    const stateBefore = await lab.reader.readState();
    await writeFile(path.join(ws.dir, 'terraform.tfvars'), `release = "${CHANGED_RELEASE}"\n`);
    const holder = await startLockHolder(ws);
    lab.event('lock-held', `apply of release ${CHANGED_RELEASE} holds lock ${holder.lock.ID}`);
    const killed = await holder.kill();
    lab.event('apply-killed', `SIGKILL to terraform pid ${holder.process.pid}`);
    const orphan = (await lab.reader.readLock())?.info;
    const stateAfterKill = await lab.reader.readState();
    return { workspace: ws, orphan, heldId: holder.lock.ID, killed, stateBefore, stateAfterKill };
  },
  async learner(lab, replay) {
    const file = await lab.file('challenge2/recover.sh');
    if (file.state !== 'present') return { ran: false, problem: file.problem };
    const script = await lab.runScript(file, { workspaceDir: replay.workspace.dir });
    const damage = await lab.reader.damage();
    if (damage.length) lab.event('store-damaged', damage.join('; '));
    const tableGone = damage.some((d) => d.includes('lock table'));
    const bucketGone = damage.some((d) => d.includes('state bucket'));
    const lockAfter = tableGone ? undefined : (await lab.reader.readLock())?.info;
    const stateAfter = bucketGone ? undefined : await lab.reader.readState();
    const digestAfter = tableGone ? undefined : await lab.reader.readDigest();
    // The harness's own plan, in the replay's working directory (the learner worked on a copy of it).
    const plan = await replay.workspace.run(planArgs({ detailedExitCode: true }));
    lab.event('harness-plan', `plan -detailed-exitcode exited ${plan.exitCode}`);
    return { ran: true, script, records: parseRecords(script.invocations), lockAfter, damage, stateAfter, digestAfter, plan };
  },
});

c2.replayCheck('c2.replay.orphaned-lock', (r) => {
  const problems: string[] = [];
  if (r.killed.signal !== 'SIGKILL') problems.push(`the apply ended with ${r.killed.signal ?? `exit ${r.killed.exitCode}`}, not SIGKILL`);
  if (r.orphan?.ID !== r.heldId) problems.push(`the lock item was ${r.orphan ? `replaced (${r.orphan.ID})` : 'not left behind'}`);
  if (releaseIn(r.stateAfterKill) !== 'v1') problems.push(`the state should still hold release v1 after the kill, it holds ${JSON.stringify(releaseIn(r.stateAfterKill))}`);
  return problems.length === 0
    ? pass(`an apply of release ${CHANGED_RELEASE} was SIGKILLed in its deploy step; its lock ${r.heldId} was left in the table and the state still holds v1`)
    : fail(problems.join('; '));
});

type Ran = Extract<Learner, { ran: true }>;
function judge(learner: Learner, body: (ran: Ran) => Verdict): Verdict {
  return learner.ran ? body(learner) : fail(`${learner.problem}; nothing was run for challenge 2`);
}

c2.check('c2.script-succeeds', (_r, learner, lab) =>
  judge(learner, ({ script }) => {
    const { run } = script;
    if (run.timedOut) {
      return fail(
        `challenge2/recover.sh did not finish within its time limit (${Math.round(lab.context.scriptTimeoutMs / 1000)} s) and was stopped. ` +
          'An orphaned lock is never released by its owner (the process is dead), so waiting for it hangs forever: release it with force-unlock.',
      );
    }
    if (run.exitCode !== 0) return fail(`challenge2/recover.sh exited ${run.exitCode ?? run.signal}; it must exit 0. Its last output:\n${tail(run.output)}`);
    return pass(`recover.sh exited 0 in ${(run.durationMs / 1000).toFixed(1)} s`);
  }),
);

c2.check('c2.lock-released', (r, learner) =>
  judge(learner, ({ lockAfter, damage }) => {
    if (damage.length) return fail(`your script destroyed lab infrastructure (${damage.join('; ')}): releasing a lock never means deleting the table or bucket`);
    if (!lockAfter) return pass('no lock item remains for the state');
    if (lockAfter.ID === r.heldId) {
      return fail(`the orphaned lock (ID ${r.heldId}, ${r.orphan?.Operation}) is still in the table after recover.sh; release it with "terraform force-unlock -force <ID>"`);
    }
    return fail(`a lock is still held after recover.sh, by ${lockAfter.Operation} ${lockAfter.ID}: something your script started still holds it, or left it behind`);
  }),
);

c2.check('c2.force-unlock-used', (r, learner) =>
  judge(learner, ({ records, lockAfter }) => {
    const unlocks = forceUnlocks(records);
    const right = unlocks.find((u) => u.parsed.lockId === r.heldId && u.invocation.exit_code === 0);
    if (right) return pass(`force-unlock released the orphaned lock ${r.heldId}`);
    const wrongId = unlocks.find((u) => u.parsed.lockId !== r.heldId);
    if (wrongId) {
      return fail(
        `force-unlock was run with ID ${JSON.stringify(wrongId.parsed.lockId ?? '')} (${describeInvocation(wrongId.invocation)}), but the lock that was held had ID ${r.heldId}. ` +
          'Lock IDs are new for every run: read the ID from the lock item or from the "Lock Info" of a failing command, never hard-code it.',
      );
    }
    const failed = unlocks.find((u) => u.invocation.exit_code !== 0);
    if (failed) return fail(`force-unlock with the right ID did not succeed: ${describeInvocation(failed.invocation)}`);
    if (!lockAfter) {
      return fail(
        'the lock is gone but force-unlock was never run: deleting the lock item by hand bypasses terraform\'s check that the ID matches the lock. Use "terraform force-unlock -force <ID>".',
      );
    }
    return fail('force-unlock was never run; an orphaned lock is released with "terraform force-unlock -force <ID>"');
  }),
);

c2.check('c2.no-unlocked-writes', (_r, learner) =>
  judge(learner, ({ records }) => {
    const unlocked = unlockedWrites(records);
    if (unlocked.length === 0) return pass('every state-writing command ran with locking on');
    return fail(
      `${describeInvocation(unlocked[0]!.invocation)} wrote state with locking switched off` +
        `${unlocked.length > 1 ? ` (and ${unlocked.length - 1} more)` : ''}. With -lock=false nothing stops a second writer, which is what the lock exists to prevent: release the orphaned lock instead.`,
    );
  }),
);

c2.check('c2.state-intact', (r, learner) =>
  judge(learner, ({ stateAfter, digestAfter, damage }) => {
    if (damage.length) return fail(`the state cannot be intact: ${damage.join('; ')} by your script`);
    if (!stateAfter) return fail('the state object is gone from the bucket after recover.sh');
    if (!stateAfter.json) return fail('the state object is no longer valid JSON');
    const problems: string[] = [];
    if (stateAfter.lineage !== r.stateBefore?.lineage) problems.push(`its lineage changed (${r.stateBefore?.lineage} -> ${stateAfter.lineage}): the state was replaced, not updated`);
    if ((stateAfter.serial ?? -1) < (r.stateBefore?.serial ?? 0)) problems.push(`its serial went back (${r.stateBefore?.serial} -> ${stateAfter.serial})`);
    if (digestAfter !== undefined && digestAfter !== stateAfter.md5) {
      problems.push(`the -md5 digest item (${digestAfter}) does not match the stored state (${stateAfter.md5}): the state was written around terraform`);
    }
    if (digestAfter === undefined) problems.push('the -md5 digest item is missing from the lock table');
    return problems.length === 0 ? pass(`state readable, lineage kept, serial ${r.stateBefore?.serial} -> ${stateAfter.serial}, digest matches`) : fail(problems.join('; '));
  }),
);

c2.check('c2.zero-drift', (_r, learner) =>
  judge(learner, ({ plan }) => {
    if (plan.exitCode === 0) return pass('plan -detailed-exitcode exits 0: the interrupted change was completed');
    if (plan.exitCode === 2) {
      const pending = /#\s+(\S+)\s+(must be replaced|will be created|will be updated in-place|will be destroyed)/.exec(plan.all);
      return fail(
        `the plan still has changes${pending ? ` (${pending[1]} ${pending[2]})` : ''}: the interrupted apply of release ${CHANGED_RELEASE} was never completed. ` +
          'Unlocking alone is not recovery: run apply (with locking on) after force-unlock.',
      );
    }
    const locked = /Error acquiring the state lock/.test(plan.all);
    return fail(
      locked
        ? 'the harness\'s plan could not take the lock: a lock is still held after recover.sh'
        : `the harness's plan failed (exit ${plan.exitCode}): ${tail(plan.all, 4)}`,
    );
  }),
);
