import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { parseRecords } from '../analysis/invocation-facts.ts';
import type { Invocation } from '../grading/types.ts';
import { repoPath } from '../paths.ts';
import {
  acquire,
  acquireObject,
  apply,
  NAMES,
  NAMES_BOTH,
  NAMES_LOCKFILE,
  OBJECT_KEY,
  putState,
  readLock,
  readObject,
  refused,
  refusedObject,
  release,
  releaseObject,
  requests,
  state,
  stateBody,
  toLockfile,
  type Step,
} from '../../test/support/backend-requests.ts';
import type { Learner3, PipelineRun, Replay3 } from './evidence.ts';
import {
  findComputedLockFlags,
  judgeLockFalseDocumented,
  judgeLockTimeoutUsed,
  judgeNoForceUnlock,
  judgeNoUnlockedWrites,
  judgeSerializedRuns,
  judgeWaitsThroughContention,
} from './judges.ts';

const output = (name: string) => readFileSync(repoPath('fixtures', 'terraform-output', `${name}.txt`), 'utf8');
const replay: Replay3 = { names: NAMES, baseline: state(stateBody(1, 'v1')) };
const C = 'c3:contention';
const P1 = 'c3:pair-1';
const P2 = 'c3:pair-2';
const RELEASED = 10_000;
const DOC = 'Use -lock=false only for read-only commands such as terraform plan, which only reads the state. If two applies write the state at the same time without the lock, the last writer wins and the other changes are lost.';

function inv(args: string[], exit = 0, extra: Partial<Invocation> = {}): Invocation {
  return { tool: 'terraform', args, cwd: '/w', pid: 1, started_at: 1000, ended_at: 2000, exit_code: exit, ...extra };
}
const TIMED = [inv(['plan', '-lock-timeout=60s', '-out=tfplan']), inv(['apply', '-lock-timeout=60s', 'tfplan'])];

function run(label: string, release: string, extra: Partial<PipelineRun> = {}): PipelineRun {
  return { run: label, release, script: { exitCode: 0, signal: null, timedOut: false, durationMs: 9000, output: 'ok\n', timeoutMs: 120_000 }, records: parseRecords(TIMED), observed: [], ...extra };
}

/** The harness holds until RELEASED; the contention run is refused twice, then plans and applies; the pair serialises. */
const honestSteps: Step[] = [
  ...apply(0, 'harness', 'base', stateBody(1, 'v1')),
  acquire(5000, 'harness', 'holder'),
  refused(8000, C),
  refused(9000, C),
  putState(10_010, 'harness', stateBody(2, 'c3-holder')),
  release(RELEASED, 'harness'),
  acquire(11_000, C, 'c-plan', 'OperationTypePlan'),
  readLock(11_050, C),
  release(11_100, C),
  ...apply(12_000, C, 'c-apply', stateBody(3, 'run-c')),
  acquire(20_000, P1, 'p1-plan', 'OperationTypePlan'),
  refused(20_010, P2),
  release(20_100, P1),
  ...apply(20_200, P1, 'p1-apply', stateBody(4, 'run-1')),
  refused(21_010, P2),
  acquire(23_010, P2, 'p2-plan', 'OperationTypePlan'),
  release(23_100, P2),
  ...apply(23_200, P2, 'p2-apply', stateBody(5, 'run-2')),
];

function learner(steps: Step[] = honestSteps, extra: Partial<Extract<Learner3, { ok: true }>> = {}): Learner3 {
  const final = state(stateBody(5, 'run-2'));
  return {
    ok: true,
    pipeline: { label: 'challenge3/pipeline.sh', text: 'terraform plan -lock-timeout=60s -out=tfplan\nterraform apply -lock-timeout=60s tfplan\n', notes: [] },
    contention: { ...run(C, 'run-c'), holderRun: 'harness', releasedAt: RELEASED, heldMs: 5000, holderExit: 0, stateAfter: state(stateBody(3, 'run-c')) },
    pair: [run(P1, 'run-1'), run(P2, 'run-2')],
    requests: requests(steps),
    lockAfterPair: undefined,
    stateAfterPair: final,
    digestAfterPair: final.md5,
    doc: DOC,
    ...extra,
  };
}
const ok = learner() as Extract<Learner3, { ok: true }>;
/** The contention run's apply writes a release the pipeline named itself (TF_VAR_release=build-42). */
const ownRelease: Step[] = [...honestSteps.slice(0, 13), ...apply(12_000, C, 'c-apply', stateBody(3, 'build-42')), ...honestSteps.slice(18)];
const missing: Learner3 = { ok: false, problem: 'challenge3/pipeline.sh is missing, and so is challenge3/workflow.yml; submit one of them', doc: undefined };
const withRecords = (records: Invocation[], steps?: Step[]): Learner3 => {
  const base = learner(steps) as Extract<Learner3, { ok: true }>;
  const parsed = parseRecords(records);
  return { ...base, contention: { ...base.contention, records: parsed }, pair: base.pair.map((p) => ({ ...p, records: parsed })) };
};

/** An "apply" by hand: the AWS CLI puts a lock item carrying an apply's Lock Info, then `writer` uploads the state, then the CLI deletes the item. */
const handApply = (at: number, run: string, writer: 'aws-cli' | 'terraform'): Step[] => [
  acquire(at, run, `hand-${run}`, 'OperationTypeApply', { client: 'aws-cli' }),
  putState(at + 100, run, stateBody(7, `hand-${run}`), { client: writer }),
  release(at + 200, run, { client: 'aws-cli', conditional: false }),
];

/** The same by hand, but every request claims OpenTofu's User-Agent while no real terraform/tofu process runs (terraformAlive: []). */
const posingApply = (at: number, run: string): Step[] => handApply(at, run, 'terraform').map((step) => ({ ...step, client: 'tofu' as const, terraformAlive: [] }));
/**
 * Freeze and pose: a real `apply -lock-timeout=60s` is alive (pid 41: started, then frozen with SIGSTOP or pointed at
 * a dead endpoint) while curl (pid 57), claiming OpenTofu's User-Agent, takes an apply lock and writes the state; the
 * grader traced each request's connection to curl (BackendRequest.sender).
 */
const frozenApplyPose = (at: number, run: string): Step[] =>
  handApply(at, run, 'terraform').map((step) => ({
    ...step,
    client: 'tofu' as const,
    terraformAlive: [{ pid: 41, args: ['apply', '-lock-timeout=60s'], tf_cli_args: {} }],
    sender: { terraform: false, pid: 57, detail: 'curl (pid 57)' },
  }));
/** A real apply: terraform's requests, with its apply process alive as each arrived. */
const realApply = (at: number, run: string, id: string, body: string): Step[] =>
  apply(at, run, id, body, { terraformAlive: [{ args: ['apply', '-lock-timeout=60s', 'tfplan'], tf_cli_args: {} }] });

describe('c3.lock-timeout-used', () => {
  test.each([
    ['every locking command waits (and the backend saw a wait)', learner(), 'pass', /all 6 plan\/apply commands .* -lock-timeout >= 10 s \(shortest 60\.0 s\); the backend saw the pipeline retry a held lock and then take it/],
    ['TF_CLI_ARGS_plan/apply carry the timeout', withRecords([inv(['plan'], 0, { tf_cli_args: { TF_CLI_ARGS_plan: '-lock-timeout=60s' } }), inv(['apply', '-auto-approve'], 0, { tf_cli_args: { TF_CLI_ARGS_apply: '-lock-timeout=2m' } })]), 'pass', /shortest 60\.0 s/],
    ['a read-only plan -lock=false needs none', withRecords([inv(['plan', '-lock=false']), ...TIMED]), 'pass', /3 read-only plan\(s\) with -lock=false need none/],
    ['no timeout on apply', withRecords([inv(['plan', '-lock-timeout=60s']), inv(['apply', '-auto-approve'])]), 'fail', /terraform apply -auto-approve \(exit 0\) ran with locking on and without -lock-timeout: it fails at once/],
    ['a timeout under 10 s', withRecords([inv(['plan', '-lock-timeout=5s']), inv(['apply', '-lock-timeout=60s'])]), 'fail', /-lock-timeout of 5\.0 s, under 10 s/],
    ['a timeout without a unit, rejected by terraform', withRecords([inv(['plan', '-lock-timeout=300'], 1)], honestSteps.slice(0, 6)), 'fail', /terraform rejected its -lock-timeout value \(a duration needs a unit/],
    ['apply with TF_CLI_ARGS_apply=-lock=false', withRecords([inv(['plan', '-lock-timeout=60s']), inv(['apply', '-auto-approve'], 0, { tf_cli_args: { TF_CLI_ARGS_apply: '-lock=false' } })], honestSteps.slice(0, 6)), 'fail', /ran with locking off: only a read-only plan may skip the lock/],
    ['the backend saw a command give up after one refusal', learner([...honestSteps, refused(40_000, P1)]), 'fail', /give up on the lock after 1 refused attempt\(s\).*missing or under 10 s/],
    ['a refusal right before another run released is terraform\'s race, not a missing timeout', learner([...honestSteps, acquire(40_000, 'harness', 'z'), refused(40_100, P1), release(40_120, 'harness')]), 'pass', /all 6/],
    [
      'on a loaded machine: released 2.5 s after the refusal but before the run read the lock, still the race',
      learner([...honestSteps, acquire(40_000, 'harness', 'z'), refused(40_100, P1), release(42_600, 'harness'), readLock(42_700, P1)]),
      'pass',
      /all 6/,
    ],
    [
      'released after the run had read the lock (it saw the holder and stopped): gave up',
      learner([...honestSteps, acquire(40_000, 'harness', 'z'), refused(40_100, P1), readLock(40_150, P1), release(40_600, 'harness')]),
      'fail',
      /give up on the lock after 1 refused attempt/,
    ],
    [
      // Measured (embedded backend, CI load): pair-1's read came in 27 ms before pair-2's delete (here the harness's) but was answered after it, finding no lock.
      'the read came in before the other run\'s delete but was answered after it, finding no lock: the race',
      learner([
        ...honestSteps,
        acquire(39_958, 'harness', 'z'),
        refused(40_000, P1, { endAt: 40_002 }),
        release(40_030, 'harness', { endAt: 40_033 }),
        readLock(40_003, P1, { endAt: 40_045, responseBody: '{}' }),
      ]),
      'pass',
      /all 6/,
    ],
    [
      'the same order, but the read found the holder\'s lock: it saw the lock and stopped',
      learner([
        ...honestSteps,
        acquire(39_958, 'harness', 'z'),
        refused(40_000, P1, { endAt: 40_002 }),
        readLock(40_003, P1, { endAt: 40_045, responseBody: '{"Item":{"LockID":{"S":"lab-bucket/lab/terraform.tfstate"}}}' }),
        release(40_030, 'harness', { endAt: 40_033 }),
      ]),
      'fail',
      /give up on the lock after 1 refused attempt/,
    ],
    ['terraform run around the recording wrapper (more locks than recorded commands)', withRecords([inv(['plan', '-lock-timeout=60s'])]), 'fail', /backend saw 2 lock\(s\) taken by terraform in one pipeline run, but only 1 locking command/],
    ['never ran plan or apply', withRecords([], []), 'fail', /never ran terraform plan or apply/],
    [
      'a lock taken with OpenTofu\'s User-Agent while no real terraform ran (curl posing as tofu)',
      learner([...honestSteps, ...posingApply(40_000, P1)]),
      'fail',
      /saw 1 lock\(s\) taken with terraform's User-Agent while no real terraform\/tofu process was running: another program \(curl --aws-sigv4, an SDK\) posed as terraform/,
    ],
    [
      'a lock taken by curl posing as tofu while a real apply -lock-timeout=60s was alive but frozen (the connection traced to curl)',
      learner([...honestSteps, ...frozenApplyPose(40_000, P1)]),
      'fail',
      /saw 1 lock\(s\) taken with terraform's User-Agent while no real terraform\/tofu process was running or sent it: .*It was sent by curl \(pid 57\)\./,
    ],
    [
      'timed commands recorded, but none asked the backend for the lock (terraform refused -lock-timeout=3000000h: too long for Go)',
      learner(honestSteps.slice(0, 6), { contention: { ...ok.contention, script: { ...ok.contention.script, output: 'Error: Failed to parse command-line flags\n\ninvalid value "3000000h" for flag -lock-timeout: parse error\n' } } }),
      'fail',
      /carry -lock-timeout, but the backend saw none of them ask for the lock: terraform refused them or stopped before locking\. terraform said:\nError: Failed to parse command-line flags\ninvalid value "3000000h"/,
    ],
    ['-lock-timeout=3000000h is more than Go can hold: rejected', withRecords([inv(['apply', '-lock-timeout=3000000h'], 1)], honestSteps.slice(0, 6)), 'fail', /terraform rejected its -lock-timeout value \(a duration needs a unit, e\.g\. 60s or 5m, and at most 2562047h\)/],
    [
      'runs ended at the time limit lose their records: not "never ran", and terraform\'s error is shown',
      learner([], {
        contention: { ...ok.contention, records: [], script: { ...ok.contention.script, exitCode: null, timedOut: true, output: output('flag-lock-timeout-no-unit') } },
        pair: ok.pair.map((p) => ({ ...p, records: [] })),
      }),
      'fail',
      /saw no terraform command of the pipeline take the lock, and 1 run\(s\) were ended at the time limit \(120\.0 s\), which loses the record of their commands\. terraform said:\n.*invalid value "300" for flag -lock-timeout/s,
    ],
    [
      'forged records say -lock-timeout=60s; the real binary ran without one',
      learner(honestSteps, { pair: [{ ...ok.pair[0]!, observed: [{ args: ['plan', '-input=false'], tf_cli_args: {} }] }, ok.pair[1]!] }),
      'fail',
      /grader saw terraform run as "terraform plan -input=false" with locking on and no valid -lock-timeout \(the recorded commands say otherwise: they are contradicted by what ran\)/,
    ],
    [
      'what the grader saw agrees with the records (TF_CLI_ARGS_plan in the environment)',
      learner(honestSteps, { pair: [{ ...ok.pair[0]!, observed: [{ args: ['plan'], tf_cli_args: { TF_CLI_ARGS_plan: '-lock-timeout=60s' } }, { args: ['plan', '-lock=false'], tf_cli_args: {} }] }, ok.pair[1]!] }),
      'pass',
      /all 6/,
    ],
    [
      'the apply run around the wrapper with -lock=false (seen from outside; the records show only the timed plan)',
      learner([...honestSteps, putState(40_000, P1, stateBody(9, 'x'))], { pair: [{ ...ok.pair[0]!, observed: [{ args: ['apply', '-lock=false', '-auto-approve'], tf_cli_args: {} }] }, ok.pair[1]!] }),
      'fail',
      /grader saw terraform run as "terraform apply -lock=false -auto-approve" with locking off: only a read-only plan may skip the lock/,
    ],
    [
      'the state uploaded with the AWS CLI instead of an apply: a write that never waited for the lock',
      learner([...honestSteps, putState(40_000, P1, stateBody(9, 'x'), { client: 'aws-cli' })]),
      'fail',
      /backend saw the pipeline write the state without holding the lock \(PutObject with the AWS CLI\): a write that takes no lock never waits for it/,
    ],
    ['missing pipeline', missing, 'fail', /pipeline\.sh is missing/],
  ])('%s', (_name, l, status, feedback) => {
    const verdict = judgeLockTimeoutUsed(replay, l);
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
  });
});

describe('c3.waits-through-contention', () => {
  const failed = (out: string, records: Invocation[]) => learner(honestSteps, { contention: { ...ok.contention, script: { ...ok.contention.script, exitCode: 1, output: out }, records: parseRecords(records) } });
  test.each([
    ['waited and applied after the release', learner(), 'pass', /waited out a lock held for 5\.0 s and applied its change after the release/],
    ['time limit', learner(honestSteps, { contention: { ...ok.contention, script: { ...ok.contention.script, timedOut: true } } }), 'fail', /did not finish within its time limit \(120\.0 s\)/],
    [
      'the CPU-time limit',
      learner(honestSteps, { contention: { ...ok.contention, script: { ...ok.contention.script, exitCode: null, signal: 'SIGKILL', limitsReached: [{ kind: 'cpu', limit: '60 s', message: 'was stopped at the 60 s CPU-time limit' }] } } }),
      'fail',
      /^the pipeline was stopped at the 60 s CPU-time limit and exited SIGKILL while another run held the lock/,
    ],
    ['gave up at once (real terraform output, no timeout)', failed(output('lock-refused-0s'), [inv(['plan'], 1)]), 'fail', /exited 1 .*terraform plan \(exit 1\): it gave up at once because another run held the lock and it had no -lock-timeout/s],
    ['its timeout ran out (real output)', failed(output('lock-timeout-2s-plan'), [inv(['plan', '-lock-timeout=2s'], 1)]), 'fail', /its -lock-timeout of 2 ?s ran out while another run held the lock/],
    ['a flag terraform rejected: nothing ran out', failed(output('flag-lock-timeout-no-unit'), [inv(['plan', '-lock-timeout=300'], 1)]), 'fail', /terraform rejected the command line: invalid value "300" for flag -lock-timeout/],
    ['a stale saved plan is not a timeout', failed(output('stale-plan'), [inv(['apply', '-lock-timeout=60s', 'tfplan'], 1)]), 'fail', /the saved plan was stale/],
    ['another failure', failed('Error: something odd\n', [inv(['apply', '-lock-timeout=60s'], 1)]), 'fail', /failed for a reason other than the lock or a stale plan\. terraform said:\nError: something odd/],
    [
      "terraform's race at the holder's release (refused, released, the read found nothing): named as terraform's, not the pipeline's",
      learner(
        [
          ...apply(0, 'harness', 'base', stateBody(1, 'v1')),
          acquire(5000, 'harness', 'holder'),
          refused(8000, C),
          readLock(8003, C, { endAt: 8010, responseBody: '{"Item":{"LockID":{"S":"x"}}}' }),
          refused(9000, C, { endAt: 9002 }),
          release(9010, 'harness', { endAt: 9013 }),
          readLock(9003, C, { endAt: 9020, responseBody: '{}' }),
        ],
        { contention: { ...ok.contention, script: { ...ok.contention.script, exitCode: 1, output: 'Error: Error acquiring the state lock\n\nError message: 2 errors occurred:\n\t* operation error DynamoDB: PutItem, ConditionalCheckFailedException\n\t* unexpected end of JSON input\n' }, records: parseRecords([inv(['plan', '-lock-timeout=60s'], 1)]) } },
      ),
      'fail',
      /exited 1 while another run held the lock for 5\.0 s: terraform's own race, not the pipeline's doing: the holder released the lock right after one of terraform's attempts was refused and before terraform read the lock/,
    ],
    ['a failure without terraform errors shows the last lines', failed('line a\nline b\n', [inv(['apply', '-lock-timeout=60s'], 1)]), 'fail', /Its last output:\nline a\nline b/],
    ['exit 0 without an apply the backend saw', learner(honestSteps.slice(0, 9)), 'fail', /never saw it take the lock for an apply and write the state/],
    ['curl posing as OpenTofu after the release: not an apply', learner([...honestSteps.slice(0, 10), ...posingApply(11_000, C)]), 'fail', /whatever its User-Agent says/],
    ['curl posing as OpenTofu after the release while a real apply was frozen: not an apply', learner([...honestSteps.slice(0, 10), ...frozenApplyPose(11_000, C)]), 'fail', /whatever its User-Agent says/],
    [
      'the apply traced to the real apply process (sender = the alive apply)',
      learner([
        ...honestSteps.slice(0, 10),
        ...apply(11_000, C, 'c', stateBody(3, 'run-c'), { terraformAlive: [{ pid: 41, args: ['apply', '-lock-timeout=60s'], tf_cli_args: {} }], sender: { terraform: true, pid: 41, detail: 'terraform (pid 41)' } }),
      ]),
      'pass',
      /./,
    ],
    [
      'a lock item written by hand and the state uploaded with the AWS CLI after the release is not an apply',
      learner([...honestSteps.slice(0, 10), ...handApply(11_000, C, 'aws-cli')]),
      'fail',
      /never saw it take the lock for an apply and write the state: it saw a lock taken for an apply and the state written under it, but not both by a real terraform apply/,
    ],
    ['applied before the release', learner(honestSteps, { contention: { ...ok.contention, releasedAt: 99_000 } }), 'fail', /took the lock before the other run released it/],
    ['the holder failed', learner(honestSteps, { contention: { ...ok.contention, holderExit: 1 } }), 'fail', /the run that held the lock failed \(exit 1\)/],
    [
      'the state lacks its change',
      learner(honestSteps, { contention: { ...ok.contention, stateAfter: state(stateBody(3, 'other')) } }),
      'fail',
      /does not hold its change \(release run-c, the TF_VAR_release the grader gives each run; found "other"\), and it is not what the pipeline's own apply wrote after the release/,
    ],
    [
      'the pipeline names its own release: the state is exactly what its own apply wrote after the release',
      learner(ownRelease, { contention: { ...ok.contention, stateAfter: state(stateBody(3, 'build-42')) } }),
      'pass',
      /applied its change after the release \(its own release "build-42": the pipeline sets the release itself instead of the TF_VAR_release=run-c the grader gives each run\)/,
    ],
    [
      'its own release, but the state found is not what its apply wrote',
      learner(ownRelease, { contention: { ...ok.contention, stateAfter: state(stateBody(3, 'build-43')) } }),
      'fail',
      /does not hold its change .*found "build-43"/,
    ],
    [
      'its own release, but the last state write was not the pipeline\'s',
      learner([...ownRelease.slice(0, 18), putState(12_500, 'harness', stateBody(4, 'build-42'))], { contention: { ...ok.contention, stateAfter: state(stateBody(4, 'build-42')) } }),
      'fail',
      /does not hold its change/,
    ],
    ['missing pipeline', missing, 'fail', /pipeline\.sh is missing/],
  ])('%s', (_name, l, status, feedback) => {
    const verdict = judgeWaitsThroughContention(replay, l);
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
  });
});

describe('c3.serialized-runs', () => {
  const pairWith = (index: number, change: Partial<PipelineRun['script']>, records?: Invocation[]) =>
    learner(honestSteps, { pair: ok.pair.map((p, i) => (i === index ? { ...p, script: { ...p.script, ...change }, ...(records ? { records: parseRecords(records) } : {}) } : p)) });
  test.each([
    ['both succeed', learner(), 'pass', /two runs started together ended cleanly \(exit 0 and exit 0\)/],
    ['one fails cleanly on a stale plan', pairWith(1, { exitCode: 1, output: output('stale-plan') }, [inv(['apply', 'tfplan'], 1)]), 'pass', /ended cleanly \(exit 0 and exit 1: its saved plan was made stale by the other run\)/],
    ['one fails cleanly on the lock', pairWith(1, { exitCode: 1, output: output('lock-timeout-2s-plan') }, [inv(['plan', '-lock-timeout=2s'], 1)]), 'pass', /ended cleanly \(exit 0 and exit 1: it waited for the lock and gave up\)/],
    [
      "terraform's race: refused, then the holder's info was gone (no Lock Info): clean",
      learner([...honestSteps, refused(22_000, P1)], { pair: [{ ...ok.pair[0]!, script: { ...ok.pair[0]!.script, exitCode: 1, output: 'Error: Error acquiring the state lock\n\nError message: 2 errors occurred:\n* ConditionalCheckFailedException\n* unexpected end of JSON input\n' } }, ok.pair[1]!] }),
      'pass',
      /ended cleanly \(exit 1: terraform's own race for the lock and exit 0\)/,
    ],
    ['a lock error without any refusal is not clean (e.g. the table is gone)', pairWith(0, { exitCode: 1, output: 'Error: Error acquiring the state lock\n\nResourceNotFoundException: table not found\n' }), 'fail', /concurrent run 1 failed .*terraform said:\nError: Error acquiring the state lock/s],
    ['"stale" in other output is not a clean failure', pairWith(0, { exitCode: 1, output: 'Error: stale credentials cache\n' }), 'fail', /concurrent run 1 failed \(exit 1\): .*reason other than the lock/s],
    ['a time limit', pairWith(0, { timedOut: true }), 'fail', /concurrent run 1 did not finish within its time limit/],
    [
      'a resource limit is named with its value',
      pairWith(0, { exitCode: 137, output: 'Killed\n', limitsReached: [{ kind: 'memory', limit: '1 GiB', message: 'was stopped at the 1 GiB memory limit (its largest process was killed)' }] }),
      'fail',
      /concurrent run 1 failed \(was stopped at the 1 GiB memory limit \(its largest process was killed\), exit 137\)/,
    ],
    ['neither applied', learner(honestSteps.slice(0, 16)), 'fail', /neither run applied/],
    ['curl posing as OpenTofu (User-Agent) with no real terraform running: not an apply', learner([...honestSteps.slice(0, 18), ...posingApply(20_000, P1), ...posingApply(21_000, P2)]), 'fail', /neither run applied .*whatever its User-Agent says: no real terraform\/tofu apply was running/],
    ['a real apply frozen in each run while curl posed as OpenTofu: not an apply', learner([...honestSteps.slice(0, 18), ...frozenApplyPose(20_000, P1), ...frozenApplyPose(21_000, P2)]), 'fail', /neither run applied .*whatever its User-Agent says/],
    ['a real apply seen alive at its lock and its write', learner([...honestSteps.slice(0, 18), ...realApply(20_000, P1, 'p1', stateBody(4, 'run-1')), ...realApply(21_000, P2, 'p2', stateBody(5, 'run-2'))]), 'pass', /ended cleanly/],
    [
      'the lock taken while only a real apply -lock=false ran (a prompt kept waiting) is not the apply taking it',
      learner([...honestSteps.slice(0, 18), ...posingApply(20_000, P1).map((step) => ({ ...step, terraformAlive: [{ args: ['apply', '-lock=false'], tf_cli_args: {} }] }))]),
      'fail',
      /neither run applied/,
    ],
    [
      'each run takes a hand-written lock item (AWS CLI) and uploads the state with aws s3 cp: serialised, but no run applied',
      learner([...honestSteps.slice(0, 18), ...handApply(20_000, P1, 'aws-cli'), ...handApply(21_000, P2, 'aws-cli')]),
      'fail',
      /neither run applied \(the backend saw no apply take the lock and write the state: it saw a lock taken for an apply and the state written under it, but not both by a real terraform apply/,
    ],
    ['terraform apply -lock=false under a lock item written by hand is not an apply taking the lock', learner([...honestSteps.slice(0, 18), ...handApply(20_000, P1, 'terraform'), ...handApply(21_000, P2, 'terraform')]), 'fail', /neither run applied/],
    ['a lock left behind by a run', learner(honestSteps, { lockAfterPair: { place: 'item', raw: '{}', info: { ID: 'p2-apply', Operation: 'OperationTypeApply', Info: '', Who: 'w', Version: '', Created: '', Path: '' } } }), 'fail', /a lock was left behind by concurrent run 2 \(OperationTypeApply p2-apply\)/],
    ['a hand-written lock item', learner(honestSteps, { lockAfterPair: { place: 'item', raw: 'junk' } }), 'fail', /left behind \(an item that is not Lock Info\)/],
    ['state unreadable', learner(honestSteps, { stateAfterPair: state('junk') }), 'fail', /state is unreadable/],
    ['lineage changed', learner(honestSteps, { stateAfterPair: state(stateBody(5, 'x', 'L9')), digestAfterPair: state(stateBody(5, 'x', 'L9')).md5 }), 'fail', /lineage changed/],
    ['digest mismatch', learner(honestSteps, { digestAfterPair: 'abc' }), 'fail', /digest does not match/],
    ['missing pipeline', missing, 'fail', /pipeline\.sh is missing/],
  ])('%s', (_name, l, status, feedback) => {
    const verdict = judgeSerializedRuns(replay, l);
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
  });
});

describe('c3.no-unlocked-writes', () => {
  const text = (t: string) => learner(honestSteps, { pipeline: { ...ok.pipeline, text: t } });
  test.each([
    ['every write under the writer\'s lock', learner(), 'pass', /backend saw every state write made while the writing run held the lock/, undefined],
    ['a write without the lock (however spelled)', learner([...honestSteps, putState(40_000, P1, stateBody(9, 'x'))]), 'fail', /backend saw the pipeline write the state without holding the lock: a pipeline must never write/, undefined],
    [
      'a write naming the bucket in its Host header, refused by the relay (c3-cheat-host-header-bucket)',
      learner([...honestSteps, { at: 40_000, run: P1, operation: 'PutObject', service: 's3', bucket: 'lab', key: 'terraform.tfstate', status: 502, errorType: 'RelayError', hostRefused: 'b', client: 'other' }]),
      'fail',
      /sent an S3 PutObject naming Host "b" instead of the endpoint it was given \(the relay refused it\)/,
      undefined,
    ],
    ['recorded unlocked write (TF_CLI_ARGS_apply)', withRecords([inv(['apply'], 0, { tf_cli_args: { TF_CLI_ARGS_apply: '-lock=false' } })]), 'fail', /runs a state-writing command with locking off/, undefined],
    ['written but not run', text('if false; then terraform apply -lock=false; fi\n'), 'fail', /line 1 of the pipeline writes with -lock=false/, 'static'],
    ['a -lock value computed at run time', text('LOCK_OPTS="-lock=$(printf ZmFsc2U= | base64 -d)"\nterraform apply $LOCK_OPTS\n'), 'fail', /line 1 of the pipeline gives -lock a value computed at run time/, 'static'],
    ['a read-only plan -lock=false is fine', text('terraform plan -lock=false\nterraform apply -lock-timeout=60s\n'), 'pass', /backend saw every state write/, undefined],
    ['a pipeline that never asked for the lock (echo, or only aws calls) has nothing to judge', learner(honestSteps.slice(0, 6)), 'fail', /never ran terraform against the lock \(the backend saw no lock attempt by terraform in any run\)/, undefined],
    ['a plan that only asked (refused) counts as working with the lock', learner(honestSteps.slice(0, 8)), 'pass', /backend saw every state write/, undefined],
    ['missing pipeline', missing, 'fail', /pipeline\.sh is missing/, undefined],
  ])('%s', (_name, l, status, feedback, evidence) => {
    const verdict = judgeNoUnlockedWrites(replay, l);
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
    expect(verdict.evidence).toBe(evidence);
  });
});

describe('c3.no-force-unlock', () => {
  test.each([
    ['every lock released by the run that took it', learner(), 'pass', /never broke a lock/],
    ['force-unlock of another run\'s lock', learner([...honestSteps, acquire(40_000, P1, 'held'), readLock(40_100, P2), release(40_110, P2)]), 'fail', /the pipeline ran force-unlock and so broke a lock held by another run \(OperationTypeApply\)/],
    ['a raw delete of another run\'s lock (a reaper)', learner([...honestSteps, acquire(40_000, P1, 'held'), release(40_110, P2, { client: 'aws-cli', conditional: false })]), 'fail', /deleted the lock item with the AWS CLI and so broke a lock held by another run/],
    ['breaking the harness\'s lock counts', learner([...honestSteps.slice(0, 7), release(5500, C, { client: 'aws-cli' })]), 'fail', /broke a lock held by another run/],
    ['a batch delete on the lock table', learner([...honestSteps, { at: 40_000, run: P2, operation: 'BatchWriteItem', table: NAMES.table, client: 'aws-cli' }]), 'fail', /changed the lock table by hand \(DynamoDB BatchWriteItem\)/],
    // moto and LocalStack run PartiQL: a DELETE of the holder's lock passed (c3-cheat-partiql-delete-lock)
    [
      'a PartiQL DELETE of the lock (its table inside the statement)',
      learner([...honestSteps, { at: 40_000, run: P2, operation: 'ExecuteStatement', partiqlWrite: true, client: 'aws-cli' }]),
      'fail',
      /changed the lock table by hand \(DynamoDB ExecuteStatement, a PartiQL INSERT\/UPDATE\/DELETE\)/,
    ],
    ['a PartiQL SELECT (polling the lock) changes nothing', learner([...honestSteps, { at: 40_000, run: P2, operation: 'ExecuteStatement', client: 'aws-cli' }]), 'pass', /never broke a lock/],
    ['a recorded force-unlock', withRecords([...TIMED, inv(['force-unlock', '-force', 'x'], 1)]), 'fail', /the pipeline ran terraform force-unlock -force x \(exit 1\)/],
    ['written but not run', learner(honestSteps, { pipeline: { ...ok.pipeline, text: '[ -n "$STUCK" ] && terraform force-unlock -force "$ID"\n' } }), 'fail', /line 1 of the pipeline runs force-unlock/],
    ['a pipeline that never asked for the lock earns nothing for breaking none', learner(honestSteps.slice(0, 6)), 'fail', /never ran terraform against the lock.*earns nothing/],
    ['lock attempts by the AWS CLI alone are not terraform working with the lock', learner([...honestSteps.slice(0, 6), refused(8000, C, { client: 'aws-cli' })]), 'fail', /never ran terraform against the lock/],
    ['nor are attempts claiming OpenTofu\'s User-Agent with no real terraform running', learner([...honestSteps.slice(0, 6), refused(8000, C, { client: 'tofu', terraformAlive: [] })]), 'fail', /never ran terraform against the lock/],
    ['missing pipeline', missing, 'fail', /pipeline\.sh is missing/],
  ])('%s', (_name, l, status, feedback) => {
    const verdict = judgeNoForceUnlock(replay, l);
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
  });
});

describe('c3.lock-false-documented', () => {
  test.each([
    ['explains it', learner(), 'pass', /LOCKING\.md covers it/],
    ['missing', learner(honestSteps, { doc: undefined, docProblem: 'challenge3/LOCKING.md is missing from the submission' }), 'fail', /LOCKING\.md is missing from the submission \(judged by a heuristic/],
    ['keyword salad', learner(honestSteps, { doc: '-lock=false read-only corrupt state lock' }), 'fail', /^LOCKING\.md .*sentence/],
    ['recommends an unlocked apply', learner(honestSteps, { doc: `${DOC} When the lock is stuck, just run terraform apply -lock=false to get going again.` }), 'fail', /^LOCKING\.md .*(recommend|write)/],
    ['judged even without a pipeline', { ...missing, doc: DOC } as Learner3, 'pass', /covers it/],
  ])('%s', (_name, l, status, feedback) => {
    const verdict = judgeLockFalseDocumented(replay, l);
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
    expect(verdict.evidence).toBe('static');
  });
});

test('findComputedLockFlags: computed -lock values, not literals or comments', () => {
  expect(findComputedLockFlags('terraform apply -lock=$X\n# -lock=$(echo)\nterraform plan -lock=false\nOPTS="-lock=`cmd`"\n')).toEqual([
    { line: 1, text: 'terraform apply -lock=$X' },
    { line: 4, text: 'OPTS="-lock=`cmd`"' },
  ]);
});

// The lockfile variant: the same histories on the S3 .tflock object get the same verdicts; the S3-only ways of
// breaking a lock (aws s3 rm of another run's .tflock, writing it by hand) fail c3.no-force-unlock.
describe('the lockfile variant (the lock is the .tflock object)', () => {
  const lockfile: Replay3 = { ...replay, names: NAMES_LOCKFILE };
  const lf = (steps: Step[] = honestSteps, extra: Partial<Extract<Learner3, { ok: true }>> = {}): Learner3 => ({
    ...(learner(toLockfile(steps), extra) as Extract<Learner3, { ok: true }>),
    digestAfterPair: undefined,
  });
  const judges = [judgeLockTimeoutUsed, judgeWaitsThroughContention, judgeSerializedRuns, judgeNoUnlockedWrites, judgeNoForceUnlock];

  test('the honest pipeline: every judge gives the verdict it gives on the DynamoDB item', () => {
    const item = judges.map((j) => j(replay, learner()).status);
    expect(judges.map((j) => j(lockfile, lf()).status)).toEqual(item);
    expect(item).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
  });

  test.each([
    ['gave up after three 412s within a second (no -lock-timeout)', [...honestSteps.slice(0, 7), refusedObject(8000, C), refusedObject(8500, C)], judgeLockTimeoutUsed, 'fail', /give up on the lock after 3 refused attempt\(s\) over 0\.5 s/],
    ['aws s3 rm of the holder\'s .tflock', [...honestSteps.slice(0, 7), releaseObject(6000, C, { client: 'aws-cli' })], judgeNoForceUnlock, 'fail', /deleted the lock object with the AWS CLI and so broke a lock held by another run/],
    ['force-unlock of another run\'s .tflock', [...honestSteps.slice(0, 7), readObject(6000, C), releaseObject(6010, C)], judgeNoForceUnlock, 'fail', /ran force-unlock and so broke a lock held by another run/],
    ['an unconditional put of the .tflock (aws s3 cp of a lock)', [...honestSteps, { ...acquireObject(30_000, P1, 'mine', 'OperationTypeApply', { client: 'aws-cli' }), conditional: false }], judgeNoForceUnlock, 'fail', /wrote the lock object by hand \(S3 PutObject without If-None-Match\)/],
    [
      'a DeleteObjects naming the .tflock',
      [...honestSteps, { at: 30_000, run: P2, operation: 'DeleteObjects', bucket: NAMES.bucket, keys: [OBJECT_KEY], client: 'aws-cli' as const }],
      judgeNoForceUnlock,
      'fail',
      /wrote the lock object by hand \(S3 DeleteObjects\)/,
    ],
    [
      "refused, then the .tflock read answered 404 after the other run's delete (whose request came in later): the race",
      [
        ...honestSteps,
        acquireObject(39_958, 'harness', 'z'),
        refusedObject(40_000, P1, { endAt: 40_002 }),
        releaseObject(40_030, 'harness', { endAt: 40_033 }),
        readObject(40_003, P1, { endAt: 40_045, status: 404, errorType: 'NoSuchKey' }),
      ],
      judgeLockTimeoutUsed,
      'pass',
      /all 6/,
    ],
    [
      'the same, but the .tflock read found the lock (200): it saw the holder and stopped',
      [...honestSteps, acquireObject(39_958, 'harness', 'z'), refusedObject(40_000, P1, { endAt: 40_002 }), releaseObject(40_030, 'harness', { endAt: 40_033 }), readObject(40_003, P1, { endAt: 40_045 })],
      judgeLockTimeoutUsed,
      'fail',
      /give up on the lock after 1 refused attempt/,
    ],
    ['a state write while another run held the .tflock', [...honestSteps.slice(0, 7), putState(6000, C, stateBody(9, 'x'))], judgeNoUnlockedWrites, 'fail', /write the state without holding the lock/],
  ] as Array<[string, Step[], typeof judgeNoForceUnlock, string, RegExp]>)('%s', (_name, steps, judgeFn, status, feedback) => {
    // honestSteps before the conversion are DynamoDB requests: convert, then add the S3 requests as given.
    const converted = steps.flatMap((step) => (step.service === 's3' || step.bucket !== undefined ? [step] : toLockfile([step])));
    const verdict = judgeFn(lockfile, { ...(learner(converted) as Extract<Learner3, { ok: true }>), digestAfterPair: undefined });
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
  });

  test('serialized runs: no digest is compared where there is no table; a .tflock left behind is named', () => {
    expect(judgeSerializedRuns(lockfile, lf()).status).toBe('pass');
    expect(judgeSerializedRuns(replay, { ...(learner() as Extract<Learner3, { ok: true }>), digestAfterPair: undefined }).status).toBe('fail');
    expect(judgeSerializedRuns(lockfile, lf(honestSteps, { lockAfterPair: { place: 'object', raw: 'x' } })).feedback).toMatch(/a \.tflock object that is not Lock Info/);
  });

  test('both: breaking only the DynamoDB half of another run\'s lock is still breaking it', () => {
    const both: Replay3 = { ...replay, names: NAMES_BOTH };
    const steps = [...honestSteps.slice(0, 7), acquireObject(5001, 'harness', 'holder'), readLock(6000, C, { client: 'aws-cli' }), release(6010, C, { client: 'aws-cli' })];
    expect(judgeNoForceUnlock(both, learner(steps)).feedback).toMatch(/deleted the lock item with the AWS CLI and so broke a lock held by another run/);
  });
});
