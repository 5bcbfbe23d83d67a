// Challenge 1: lock contention. While an apply holds the lock (through the
// module's gate), a concurrent plan fails; the learner names the holder's
// Lock ID, Who and Operation — live (identify.sh, run while the lock is still
// held) or from a transcript (answers.json against their own contention.log).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LockInfo } from '../src/backend/lab-store.ts';
import { parseLockAnswer, type LockAnswer } from '../src/challenge1/answers.ts';
import { parseLockTranscript } from '../src/challenge1/transcript.ts';
import { defineChallenge, type Lab } from '../src/grading/challenge.ts';
import { readSubmissionText } from '../src/grading/submission-file.ts';
import { fail, pass, type Verdict } from '../src/grading/verdict.ts';
import { applyArgs, planArgs } from '../src/terraform/args.ts';
import type { CommandResult } from '../src/terraform/command-result.ts';
import { startLockHolder, type LockHolder } from '../src/terraform/lock-holder.ts';

interface Replay {
  /** The initialised working directory the learner gets a copy of. */
  workspaceDir: string;
  holder: LockHolder;
  plan: CommandResult;
  lockDuringPlan: LockInfo | undefined;
  contentionLog: string;
}

interface Expected {
  lock_id: string;
  who: string;
  operation: string;
  /** Where the learner should have read them, for feedback. */
  source: 'live' | 'transcript';
}

type Learner = { ok: true; answer: LockAnswer; expected: Expected } | { ok: false; problem: string };

const c1 = defineChallenge<Replay, Learner>({
  challenge: 1,
  async replay(lab) {
    const ws = await lab.workspace();
    const baseline = await ws.run(applyArgs());
    if (baseline.exitCode !== 0) throw new Error(`baseline apply exited ${baseline.exitCode}: ${baseline.all.slice(-1500)}`);
    const holder = await startLockHolder(ws, { vars: { release: 'c1-contention' } });
    lab.event('lock-held', `apply holds lock ${holder.lock.ID} (${holder.lock.Operation})`);
    const plan = await ws.run(planArgs({ lockTimeout: '0s' }));
    lab.event('plan-failed', `concurrent plan exited ${plan.exitCode}`);
    const lockDuringPlan = (await lab.reader.readLock())?.info;
    const contentionLog = path.join(lab.root, 'contention.log');
    await writeFile(contentionLog, plan.all);
    return { workspaceDir: ws.dir, holder, plan, lockDuringPlan, contentionLog };
  },
  async learner(lab, replay) {
    try {
      const identify = await lab.file('challenge1/identify.sh');
      if (identify.state === 'present') {
        const ran = await lab.runScript(identify, {
          workspaceDir: replay.workspaceDir,
          extraEnv: { LAB_CONTENTION_LOG: replay.contentionLog },
        });
        const expected: Expected = { lock_id: replay.holder.lock.ID, who: replay.holder.lock.Who, operation: replay.holder.lock.Operation, source: 'live' };
        if (ran.run.timedOut) return { ok: false, problem: `challenge1/identify.sh did not finish within its time limit (${Math.round(lab.context.scriptTimeoutMs / 1000)} s)` };
        if (ran.run.exitCode !== 0) {
          return { ok: false, problem: `challenge1/identify.sh exited ${ran.run.exitCode ?? ran.run.signal}; it must print the lock as JSON and exit 0` };
        }
        const parsed = parseLockAnswer(ran.run.stdout, 'challenge1/identify.sh output');
        return parsed.ok ? { ok: true, answer: parsed.answer, expected } : { ok: false, problem: parsed.problem };
      }
      return await transcriptMode(lab);
    } finally {
      await replay.holder.release();
      lab.event('lock-released', 'the holding apply finished');
    }
  },
  async cleanup(_lab, replay) {
    if (replay && !replay.holder.process.exited()) await replay.holder.kill();
  },
});

async function transcriptMode(lab: Lab): Promise<Learner> {
  const answersFile = await lab.file('challenge1/answers.json');
  if (answersFile.state !== 'present') {
    return {
      ok: false,
      problem:
        answersFile.state === 'missing'
          ? 'challenge1/identify.sh is missing (live mode), and so is challenge1/answers.json (transcript mode); submit one of them'
          : answersFile.problem,
    };
  }
  const logFile = await lab.file('challenge1/contention.log');
  if (logFile.state !== 'present') {
    return { ok: false, problem: `${logFile.problem}: transcript mode checks answers.json against the failed plan's output you captured there` };
  }
  const answer = parseLockAnswer((await readSubmissionText(answersFile)) ?? '', 'challenge1/answers.json');
  if (!answer.ok) return { ok: false, problem: answer.problem };
  const transcript = parseLockTranscript((await readSubmissionText(logFile)) ?? '');
  if (!transcript.ok) return { ok: false, problem: `challenge1/contention.log: ${transcript.reason}` };
  const { lock } = transcript;
  return { ok: true, answer: answer.answer, expected: { lock_id: lock.id, who: lock.who ?? '', operation: lock.operation ?? '', source: 'transcript' } };
}

c1.replayCheck('c1.replay.contention', ({ holder, plan, lockDuringPlan }) => {
  const problems: string[] = [];
  if (plan.exitCode !== 1) problems.push(`the concurrent plan exited ${plan.exitCode}, expected 1`);
  if (!/Error acquiring the state lock/i.test(plan.all)) problems.push('its output has no "Error acquiring the state lock"');
  if (lockDuringPlan?.ID !== holder.lock.ID) problems.push(`the lock item did not hold the apply's lock (${lockDuringPlan?.ID ?? 'no item'})`);
  return problems.length === 0
    ? pass(`a plan run while apply ${holder.lock.ID} held the lock failed with "Error acquiring the state lock" (exit 1)`)
    : fail(problems.join('; '));
});

const WHERE = {
  live: 'the Lock Info block of the failed plan ($LAB_CONTENTION_LOG) or the Info attribute of the lock item (LockID = $LAB_STATE_BUCKET/$LAB_STATE_KEY)',
  transcript: 'the Lock Info block of your challenge1/contention.log',
};

function judgeField(learner: Learner, field: keyof LockAnswer, label: string, hint: (given: string, expected: Expected) => string | undefined): Verdict {
  if (!learner.ok) return fail(learner.problem);
  const given = learner.answer[field];
  const expected = learner.expected[field];
  if (given === undefined || given === '') return fail(`your answer has no "${field}"; report the ${label} from ${WHERE[learner.expected.source]}`);
  if (given === expected) return pass(`${field} is right: ${given}`);
  const extra = hint(given, learner.expected);
  return fail(`you reported ${field} ${JSON.stringify(given)}, which is not the ${label}${extra ? `: ${extra}` : ''}. Read it from ${WHERE[learner.expected.source]}.`, `expected ${JSON.stringify(expected)}`);
}

c1.check('c1.lock-id', (_replay, learner, lab) =>
  judgeField(learner, 'lock_id', "lock holder's Lock ID (the ID field)", (given) => {
    if (given.includes('/') || given === lab.store.lockId) return 'that is the item\'s LockID (bucket/key), which names the state; force-unlock needs the lock\'s own ID, the "ID:" line inside Lock Info';
    if (given.endsWith('-md5')) return 'that is the digest item, not the lock';
    return undefined;
  }),
);

c1.check('c1.holder', (_replay, learner) =>
  judgeField(learner, 'who', "holder's Who (user@host of the process holding the lock)", () => undefined),
);

c1.check('c1.operation', (_replay, learner) =>
  judgeField(learner, 'operation', "holder's Operation", (given, expected) =>
    given === 'OperationTypePlan' && expected.operation !== 'OperationTypePlan'
      ? `you reported OperationTypePlan; the holder was running ${expected.operation} — the Operation in the Lock Info block belongs to the process holding the lock, not to the plan that was refused`
      : undefined,
  ),
);
