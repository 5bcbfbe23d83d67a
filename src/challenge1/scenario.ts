// Challenge 1's scenario: while an apply holds the lock (through the module's
// gate, under a host name of its own so its Who cannot be guessed), a
// concurrent plan fails; the learner names the holder's Lock ID, Who and
// Operation — live (identify.sh, run while the lock is still held) or from a
// transcript (answers.json against their own contention.log: self-reported).
import { scriptEnd } from '../analysis/script-end.ts';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { clientName } from '../evidence/backend-log.ts';
import { deletionName, lockAction, succeeded } from '../evidence/lock-target.ts';
import { storeNames } from '../evidence/store-names.ts';
import type { Lab } from '../grading/lab.ts';
import { readSubmissionText } from '../grading/submission-file.ts';
import { planArgs } from '../terraform/args.ts';
import { applyBaseline } from '../terraform/commands/apply.ts';
import { startLockHolder, type LockHolder } from '../terraform/lock-holder.ts';
import { parseLockAnswer } from './answers.ts';
import type { Learner1, Replay1 } from './evidence.ts';
import { judgeTranscriptPlausibility, parseLockTranscript } from './transcript.ts';

/** The replay's evidence plus what the learner's part needs (the holder to release, the log file). */
export interface Replay1Run extends Replay1 {
  workspaceDir: string;
  holderProcess: LockHolder;
  contentionLog: string;
}

/** A host name no learner script can derive from its own environment. */
function holderHostname(): string {
  return `build-agent-${randomBytes(3).toString('hex')}`;
}

export async function replayChallenge1(lab: Lab): Promise<Replay1Run> {
  const ws = await lab.workspace();
  await applyBaseline(ws, { signal: lab.signal });
  const holder = await startLockHolder(ws, { vars: { release: 'c1-contention' }, hostname: holderHostname(), signal: lab.signal });
  lab.defer(async () => holder[Symbol.asyncDispose]());
  lab.event('lock-held', `apply holds lock ${holder.lock.ID} (${holder.lock.Operation})`, { lock_id: holder.lock.ID });
  const plan = await ws.run(planArgs({ lockTimeout: '0s' }), { signal: lab.signal });
  lab.event('plan-failed', `concurrent plan exited ${plan.exitCode}`, { exit: String(plan.exitCode ?? plan.signal) });
  const lockDuringPlan = (await lab.reader.readLock())?.info;
  const contentionLog = path.join(lab.root, 'contention.log');
  await writeFile(contentionLog, plan.all);
  return {
    variant: lab.store.variant,
    holder: holder.lock,
    itemLockId: lab.store.lockId,
    plan: { exitCode: plan.exitCode ?? null, output: plan.all },
    lockDuringPlan,
    workspaceDir: ws.dir,
    holderProcess: holder,
    contentionLog,
  };
}

export async function learnerChallenge1(lab: Lab, replay: Replay1Run): Promise<Learner1> {
  try {
    const identify = await lab.file('challenge1/identify.sh');
    if (identify.state === 'present') {
      const ran = await lab.runLearner(identify, {
        workspaceDir: replay.workspaceDir,
        extraEnv: { LAB_CONTENTION_LOG: replay.contentionLog },
        readable: [replay.contentionLog],
      });
      const expected = { ID: replay.holder.ID, Who: replay.holder.Who, Operation: replay.holder.Operation };
      if (ran.run.timedOut) {
        return { ok: false, selfReported: false, problem: `challenge1/identify.sh did not finish within its time limit (${Math.round(lab.context.scriptTimeoutMs / 1000)} s)` };
      }
      const parsed = parseLockAnswer(ran.run.stdout, 'challenge1/identify.sh output');
      // The contract asks identify.sh for its answer on stdout, not for an exit status: a script that printed its
      // answer and then ended non-zero (a last command that failed, e.g. its own plan refused by the lock) is judged
      // on that answer, and the feedback says how it ended.
      const ended = scriptEnd({ ...ran.run, limitsReached: ran.run.limitHits });
      if (ran.run.exitCode !== 0 && !parsed.ok) {
        return { ok: false, selfReported: false, problem: `challenge1/identify.sh ${ended} without printing an answer; it must print the lock as JSON (and should exit 0)` };
      }
      const exitNote = ran.run.exitCode === 0 ? {} : { exitNote: `challenge1/identify.sh ${ended} after printing its answer; the answer is judged, but a script should end with exit 0` };
      // What the backend saw the script write over the holder's lock (feedback only: the expected values are the holder's own).
      const { locks } = storeNames(lab.store);
      const lockWrites = lab.log.requests
        .filter((q) => q.run === ran.runLabel && succeeded(q) && locks.some((lock) => lockAction(q, lock) === 'put'))
        .map((q) => `${deletionName(q)} from ${clientName(q.client)}`);
      return parsed.ok
        ? { ok: true, answer: parsed.answer, expected, source: 'live', ...exitNote, ...(lockWrites.length ? { lockWrites: [...new Set(lockWrites)] } : {}) }
        : { ok: false, selfReported: false, problem: parsed.problem };
    }
    return await transcriptMode(lab);
  } finally {
    await replay.holderProcess.release();
    lab.event('lock-released', 'the holding apply finished', { lock_id: replay.holder.ID });
  }
}

async function transcriptMode(lab: Lab): Promise<Learner1> {
  const answersFile = await lab.file('challenge1/answers.json');
  if (answersFile.state !== 'present') {
    return {
      ok: false,
      selfReported: false,
      problem:
        answersFile.state === 'missing'
          ? 'challenge1/identify.sh is missing (live mode), and so is challenge1/answers.json (transcript mode); submit one of them'
          : answersFile.problem,
    };
  }
  const logFile = await lab.file('challenge1/contention.log');
  if (logFile.state !== 'present') {
    return { ok: false, selfReported: true, problem: `${logFile.problem}: transcript mode checks answers.json against the failed plan's output you captured there` };
  }
  const answer = parseLockAnswer((await readSubmissionText(answersFile)) ?? '', 'challenge1/answers.json');
  if (!answer.ok) return { ok: false, selfReported: true, problem: answer.problem };
  const text = (await readSubmissionText(logFile)) ?? '';
  const implausible = judgeTranscriptPlausibility(text, {});
  if (implausible.length > 0) {
    return {
      ok: false,
      selfReported: true,
      problem: `challenge1/contention.log does not look like the output of a plan refused by a held lock: ${implausible.join('; ')}. Capture the whole output of the failed terraform plan`,
    };
  }
  const transcript = parseLockTranscript(text);
  if (!transcript.ok) return { ok: false, selfReported: true, problem: `challenge1/contention.log: ${transcript.reason}` };
  const { lock } = transcript;
  return { ok: true, answer: answer.answer, source: 'transcript', expected: { ID: lock.id, Who: lock.who ?? '', Operation: lock.operation ?? '' } };
}
