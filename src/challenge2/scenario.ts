// Challenge 2's scenario: an apply carrying a configuration change (release
// v1 -> v2) is SIGKILLed inside its deploy step, leaving its lock item behind
// and the state at v1. The learner's recover.sh runs (through its own relay),
// then the harness reads the table and the state and runs its own plan.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRecords } from '../analysis/invocation-facts.ts';
import { configFiles } from '../learner/config-snapshot.ts';
import { configChanges } from './config-changes.ts';
import type { Lab } from '../grading/lab.ts';
import { planDetailed } from '../terraform/commands/plan.ts';
import { applyBaseline } from '../terraform/commands/apply.ts';
import { startLockHolder } from '../terraform/lock-holder.ts';
import type { Workspace } from '../workspace/workspace.ts';
import { storeNames } from '../evidence/store-names.ts';
import type { Learner2, Replay2 } from './evidence.ts';

export const CHANGED_RELEASE = 'v2';

export interface Replay2Run extends Replay2 {
  workspace: Workspace;
}

export async function replayChallenge2(lab: Lab): Promise<Replay2Run> {
  const ws = await lab.workspace();
  await applyBaseline(ws, { signal: lab.signal });
  const stateBefore = await lab.reader.readState();
  await writeFile(path.join(ws.dir, 'terraform.tfvars'), `release = "${CHANGED_RELEASE}"\n`);
  const holder = await startLockHolder(ws, { signal: lab.signal });
  lab.event('lock-held', `apply of release ${CHANGED_RELEASE} holds lock ${holder.lock.ID}`, { lock_id: holder.lock.ID });
  const killed = await holder.kill();
  lab.event('apply-killed', `SIGKILL to terraform pid ${holder.process.pid}`, { lock_id: holder.lock.ID, exit: 'SIGKILL' });
  const orphan = (await lab.reader.readLock())?.info;
  return {
    names: storeNames(lab.store),
    changedRelease: CHANGED_RELEASE,
    heldId: holder.lock.ID,
    orphan,
    killed: { signal: killed.signal ?? null, exitCode: killed.exitCode ?? null },
    stateBefore,
    stateAfterKill: await lab.reader.readState(),
    workspace: ws,
  };
}

export async function learnerChallenge2(lab: Lab, replay: Replay2Run): Promise<Learner2> {
  const file = await lab.file('challenge2/recover.sh');
  if (file.state !== 'present') return { ran: false, problem: file.problem };
  // observeTerraform: every request of the run carries the real terraform processes alive as it arrived (a User-Agent is
  // learner-written): force-unlock-used and zero-drift need the real force-unlock / apply behind the delete / the write.
  const ran = await lab.runLearner(file, { workspaceDir: replay.workspace.dir, observeTerraform: true });
  const damage = await lab.reader.damage();
  if (damage.length) lab.event('store-damaged', damage.join('; '));
  const tableGone = damage.some((d) => d.includes('lock table'));
  const bucketGone = damage.some((d) => d.includes('state bucket'));
  const lockAfter = (await lab.reader.readLocks({ tableGone, bucketGone }))[0];
  const stateAfter = bucketGone ? undefined : await lab.reader.readState();
  const digestAfter = tableGone ? undefined : await lab.reader.readDigest();
  // The harness's own plan, in the replay's working directory (the learner worked on a copy of it, in the sandbox).
  const { outcome, result: plan } = await planDetailed(replay.workspace, { signal: lab.signal });
  lab.event('harness-plan', `plan -detailed-exitcode exited ${plan.exitCode}`, { exit: String(plan.exitCode ?? plan.signal) });
  const { run } = ran;
  return {
    ran: true,
    script: { exitCode: run.exitCode, signal: run.signal, timedOut: run.timedOut, durationMs: run.durationMs, output: run.output, timeoutMs: lab.context.scriptTimeoutMs, limitsReached: run.limitHits ?? [] },
    run: ran.runLabel,
    requests: [...lab.log.requests],
    records: parseRecords(ran.invocations),
    configChanges: configChanges(ran.observed, configFiles(replay.workspace.dir)),
    lockAfter,
    damage,
    stateAfter,
    digestAfter,
    plan: { outcome, exitCode: plan.exitCode ?? null, output: plan.all },
  };
}
