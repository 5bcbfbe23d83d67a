import { describe, expect, test } from '@jest/globals';
import { parseRecords } from '../analysis/invocation-facts.ts';
import type { Invocation } from '../grading/types.ts';
import {
  acquire,
  acquireObject,
  apply,
  applyBoth,
  applyLockfile,
  NAMES,
  NAMES_BOTH,
  NAMES_LOCKFILE,
  OBJECT_KEY,
  readObject,
  releaseObject,
  putState,
  putDigest,
  readLock,
  release,
  requests,
  state,
  stateBody,
  type Step,
} from '../../test/support/backend-requests.ts';
import type { Learner2, Replay2 } from './evidence.ts';
import type { BackendRequest } from '../evidence/backend-log.ts';
import {
  judgeForceUnlockUsed,
  judgeLockReleased,
  judgeNoUnlockedWrites,
  judgeReplayOrphanedLock,
  judgeScriptSucceeds,
  judgeStateIntact,
  judgeZeroDrift,
} from './judges.ts';

const HELD = '11111111-2222-3333-4444-555555555555';
const RUN = 'c2:1:recover.sh';
const before = state(stateBody(1, 'v1'));
const v2 = stateBody(3, 'v2');

const replay: Replay2 = {
  names: NAMES,
  changedRelease: 'v2',
  heldId: HELD,
  orphan: { ID: HELD, Operation: 'OperationTypeApply', Info: '', Who: 'root@h', Version: '1.11.4', Created: '', Path: NAMES.lockId },
  killed: { signal: 'SIGKILL', exitCode: null },
  stateBefore: before,
  stateAfterKill: state(stateBody(2, 'v1')),
};

/** The harness's history before the script: baseline apply, then the killed apply's lock. */
const harness: Step[] = [...apply(0, 'harness', 'base', stateBody(1, 'v1')), acquire(500, 'harness', HELD)];

/** force-unlock as terraform does it: read the lock item, delete it on condition. */
const forceUnlock = (at: number, run = RUN, extra = {}): Step[] => [readLock(at, run, extra), release(at + 10, run, extra)];

function invocation(args: string[], exit = 0, extra: Partial<Invocation> = {}): Invocation {
  return { tool: 'terraform', args, cwd: '/w', pid: 1, started_at: 1000, ended_at: 1100, exit_code: exit, ...extra };
}

/** Real terraform processes alive as a request arrived (BackendRequest.terraformAlive). */
const alive = (...commands: string[][]) => ({ terraformAlive: commands.map((args) => ({ args, tf_cli_args: {} })) });
const FORCE_UNLOCK = ['force-unlock', '-force', HELD];
const APPLY = ['apply', '-auto-approve'];
/**
 * A request whose connection the grader traced to its sender (BackendRequest.sender): `terraform pid` is the real
 * binary running `args` (pid 41), any other name a program of the script's (curl, pid 57). The real apply/force-unlock
 * is alive as pid 41 either way: started, then frozen (SIGSTOP) or pointed at a dead endpoint.
 */
const sentBy = (name: 'terraform' | 'curl' | 'inherited', args: string[]) => ({
  terraformAlive: [{ pid: 41, args, tf_cli_args: {} }],
  sender:
    name === 'terraform'
      ? { terraform: true, pid: 41, detail: 'terraform (pid 41)' }
      : name === 'curl'
        ? { terraform: false, pid: 57, detail: 'curl (pid 57)' }
        : { terraform: false, detail: 'the program that opened the connection terraform (pid 41) inherited (no close-on-exec: terraform did not open it)' },
});

/**
 * What the relay logs for a learner run the grader watches: a request from a terraform/tofu client of the run was made
 * by a real terraform process, so it carries that process (a force-unlock for lock reads and deletes, an apply
 * otherwise), unless the step says which processes were alive (a program posing as terraform: `alive()`).
 */
function watched(list: BackendRequest[]): BackendRequest[] {
  return list.map((q) => {
    if (q.run !== RUN || q.terraformAlive !== undefined || (q.client !== 'terraform' && q.client !== 'tofu')) return q;
    const unlocking = (q.operation === 'GetItem' || q.operation === 'DeleteItem' || q.operation === 'GetObject' || q.operation === 'DeleteObject') && (q.lockId === NAMES.lockId || q.key === OBJECT_KEY);
    return { ...q, ...alive(unlocking ? FORCE_UNLOCK : APPLY) };
  });
}

function ran(steps: Step[], extra: Partial<Extract<Learner2, { ran: true }>> = {}): Learner2 {
  const finalBody = extra.stateAfter?.body ?? v2;
  return {
    ran: true,
    script: { exitCode: 0, signal: null, timedOut: false, durationMs: 4200, output: 'done\n', timeoutMs: 120_000 },
    run: RUN,
    requests: watched(requests([...harness, ...steps])),
    records: parseRecords([invocation(['force-unlock', '-force', HELD]), invocation(['apply', '-auto-approve'])]),
    configChanges: [],
    lockAfter: undefined,
    damage: [],
    stateAfter: state(finalBody),
    digestAfter: state(finalBody).md5,
    plan: { outcome: 'no-changes', exitCode: 0, output: 'No changes.' },
    ...extra,
  };
}

const honest = [...forceUnlock(2000), ...apply(3000, RUN, 'mine', v2)];
const missing: Learner2 = { ran: false, problem: 'challenge2/recover.sh is missing from the submission' };

describe('c2.replay.orphaned-lock', () => {
  test.each([
    ['the scenario happened', replay, 'pass', /was SIGKILLed in its deploy step/],
    ['the apply exited instead of being killed', { ...replay, killed: { signal: null, exitCode: 0 } }, 'fail', /ended with exit 0, not SIGKILL/],
    ['no lock left behind', { ...replay, orphan: undefined }, 'fail', /not left behind/],
    ['another lock replaced it', { ...replay, orphan: { ...replay.orphan!, ID: 'other' } }, 'fail', /replaced \(other\)/],
    ['the state moved on', { ...replay, stateAfterKill: state(stateBody(2, 'v2')) }, 'fail', /should still hold release v1/],
  ])('%s', (_name, r, status, feedback) => {
    const verdict = judgeReplayOrphanedLock(r);
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
  });
});

describe('c2.script-succeeds', () => {
  const base = ran(honest) as Extract<Learner2, { ran: true }>;
  test.each([
    ['exit 0', base, 'pass', /exited 0 in 4\.2 s/],
    ['time limit', { ...base, script: { ...base.script, timedOut: true, exitCode: null, signal: 'SIGKILL' } }, 'fail', /did not finish within its time limit \(120 s\).*force-unlock/s],
    ['exit 1', { ...base, script: { ...base.script, exitCode: 1, output: 'a\nb\nError: boom\n' } }, 'fail', /exited 1; it must exit 0\. Its last output:\na\nb\nError: boom/],
    [
      'a disk limit',
      { ...base, script: { ...base.script, exitCode: 1, output: 'No space left on device\n', limitsReached: [{ kind: 'disk' as const, limit: '512 MiB', message: 'filled the 512 MiB disk limit of /tmp' }] } },
      'fail',
      /^challenge2\/recover\.sh filled the 512 MiB disk limit of \/tmp and exited 1; it must exit 0/,
    ],
    [
      'a limit reached but the script still exited 0 passes',
      { ...base, script: { ...base.script, limitsReached: [{ kind: 'processes' as const, limit: '512', message: 'reached the 512-process limit (3 new processes were refused)' }] } },
      'pass',
      /recover\.sh exited 0/,
    ],
    ['missing file', missing, 'fail', /recover\.sh is missing .*nothing was run for challenge 2/],
  ])('%s', (_name, learner, status, feedback) => {
    const verdict = judgeScriptSucceeds(replay, learner);
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
  });
});

describe('c2.lock-released', () => {
  const info = (id: string) => ({ ...replay.orphan!, ID: id });
  test.each([
    ['no item left', ran(honest), 'pass', /no lock item remains/],
    ['the table was deleted', ran(honest, { damage: ['the lock table locks was deleted'] }), 'fail', /destroyed lab infrastructure/],
    ['the orphan is still there', ran([], { lockAfter: { place: 'item', raw: '{}', info: info(HELD) } }), 'fail', /orphaned lock \(ID 11111111.*still in the table/],
    ['another lock is held', ran([], { lockAfter: { place: 'item', raw: '{}', info: info('other') } }), 'fail', /still held after recover\.sh, by OperationTypeApply other/],
    ['a hand-written item that is not Lock Info', ran([], { lockAfter: { place: 'item', raw: 'not json at all' } }), 'fail', /its Info is not Lock Info \("not json at all"\)/],
    ['missing file', missing, 'fail', /nothing was run/],
  ])('%s', (_name, learner, status, feedback) => {
    const verdict = judgeLockReleased(replay, learner);
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
  });
});

describe('c2.force-unlock-used (decided by what the backend saw)', () => {
  const forged = parseRecords([invocation(['force-unlock', '-force', HELD])]);
  test.each([
    ['terraform read the lock, then deleted it', ran(honest), 'pass', /force-unlock released the orphaned lock 1111.*terraform read the lock item, then delete it/],
    ['the real binary called directly (no record, but seen from outside) passes, and the feedback says so', ran(forceUnlock(2000), { records: [] }), 'pass', /no force-unlock command went through the terraform on PATH: the real binary was called directly/],
    [
      'a program posing as tofu (curl --aws-sigv4 -A): GetItem then DeleteItem, no force-unlock process seen',
      ran([...forceUnlock(2000, RUN, { client: 'tofu', ...alive() }), ...apply(3000, RUN, 'mine', v2)], { records: [] }),
      'fail',
      /User-Agent says tofu read the lock item and delete it, but no terraform\/tofu "force-unlock 1111.*was running.*presenting itself as terraform.*No real terraform\/tofu process was running in your run then\./,
    ],
    [
      'a program posing as terraform, with a forged force-unlock record',
      ran(forceUnlock(2000, RUN, alive()), { records: forged }),
      'fail',
      /no terraform\/tofu "force-unlock.*contradicted by what the grader saw/,
    ],
    [
      'the real binary ran force-unlock with another ID while a posing program deleted the orphan',
      ran(forceUnlock(2000, RUN, alive(['force-unlock', '-force', 'other-id']))),
      'fail',
      /no terraform\/tofu "force-unlock 1111.*Running then: "force-unlock -force other-id"\./,
    ],
    [
      'a posing program deletes the orphan, then the real force-unlock runs with its ID (and finds no lock)',
      ran([...forceUnlock(2000, RUN, alive()), readLock(2500, RUN, { client: 'tofu' })]),
      'fail',
      /no terraform\/tofu "force-unlock 1111.*was running in your run when that delete arrived/,
    ],
    ['the delete arrived while a real apply and a real force-unlock ran', ran(forceUnlock(2000, RUN, alive(APPLY, FORCE_UNLOCK))), 'pass', /force-unlock released/],
    [
      'freeze and pose: the real force-unlock <ID> started and frozen (SIGSTOP), curl posing as terraform read and deleted the orphan',
      ran([...forceUnlock(2000, RUN, sentBy('curl', FORCE_UNLOCK)), ...apply(3000, RUN, 'mine', v2)]),
      'fail',
      /no terraform\/tofu "force-unlock 1111.*Running then: "force-unlock -force 1111.*It was sent by curl \(pid 57\)/,
    ],
    ['the read and delete traced to the real force-unlock', ran([...forceUnlock(2000, RUN, sentBy('terraform', FORCE_UNLOCK)), ...apply(3000, RUN, 'mine', v2)]), 'pass', /force-unlock released/],
    ['the real binary seen as terraform -chdir=. force-unlock (yes | ..., no -force)', ran([...forceUnlock(2000, RUN, alive(['-chdir=.', 'force-unlock', HELD])), ...apply(3000, RUN, 'mine', v2)]), 'pass', /force-unlock released the orphaned lock/],
    ['terraform 1.11 deletes without a condition', ran([readLock(2000, RUN), release(2010, RUN, { conditional: false, condition: undefined })]), 'pass', /terraform read the lock item/],
    ['an aws-cli read before a terraform-less delete does not count', ran([readLock(2000, RUN, { client: 'aws-cli' }), release(2010, RUN, { client: 'other' })]), 'fail', /deleted by a program that is not terraform \(DynamoDB DeleteItem\)/],
    ['tofu does the same', ran([...forceUnlock(2000, RUN, { client: 'tofu' }), ...apply(3000, RUN, 'mine', v2)]), 'pass', /tofu read the lock item/],
    [
      'raw delete with the AWS CLI, with a forged force-unlock record',
      ran([release(2000, RUN, { client: 'aws-cli', conditional: false, condition: undefined }), ...apply(3000, RUN, 'mine', v2)], { records: forged }),
      'fail',
      /deleted by the AWS CLI \(DynamoDB DeleteItem\), not by terraform force-unlock.*contradicted by what the backend saw/,
    ],
    ['raw delete with the AWS CLI, no records', ran([release(2000, RUN, { client: 'aws-cli', conditional: false })], { records: [] }), 'fail', /deleted by the AWS CLI/],
    ['a terraform delete without reading the lock first', ran([release(2000, RUN)]), 'fail', /deleted by terraform \(DynamoDB DeleteItem without first reading the lock\), not by terraform force-unlock/],
    [
      'force-unlock with a hard-coded, stale ID',
      ran([readLock(2000, RUN)], { records: parseRecords([invocation(['force-unlock', '-force', 'stale-id'], 1)]), lockAfter: { place: 'item', raw: '{}', info: replay.orphan } }),
      'fail',
      /force-unlock was run with ID "stale-id".*had ID 11111111.*never hard-code it/,
    ],
    ['force-unlock with the right ID failed', ran([readLock(2000, RUN)], { records: parseRecords([invocation(['force-unlock', HELD], 1)]) }), 'fail', /did not succeed: terraform force-unlock 1111.* \(exit 1\)/],
    ['a forged successful record and no delete', ran([], { records: forged, lockAfter: { place: 'item', raw: '{}', info: replay.orphan } }), 'fail', /record is contradicted by what the backend saw/],
    ['the lock vanished outside the relay', ran([], { records: [] }), 'fail', /did not release it through the backend it was given/],
    ['nothing was done', ran([], { records: [], lockAfter: { place: 'item', raw: '{}', info: replay.orphan } }), 'fail', /force-unlock was never run/],
    ['missing file', missing, 'fail', /nothing was run/],
  ])('%s', (_name, learner, status, feedback) => {
    const verdict = judgeForceUnlockUsed(replay, learner);
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
  });
});

describe('c2.no-unlocked-writes (decided by what the backend saw)', () => {
  test.each([
    [
      'a real apply took the lock and was frozen; curl posing as tofu wrote the state under it',
      ran([
        ...forceUnlock(2000),
        acquire(3000, RUN, 'a', 'OperationTypeApply', sentBy('terraform', APPLY)),
        putState(3100, RUN, v2, { client: 'tofu', ...sentBy('curl', APPLY) }),
        release(3200, RUN, sentBy('curl', APPLY)),
      ]),
      'fail',
      /sent by curl \(pid 57\) while the lock was held by terraform \(pid 41\)/,
    ],
    [
      'lock and writes through connections a shell opened and a frozen apply inherited: a lock on them covers nothing',
      ran([
        ...forceUnlock(2000),
        acquire(3000, RUN, 'a', 'OperationTypeApply', sentBy('inherited', APPLY)),
        putState(3100, RUN, v2, { client: 'tofu', ...sentBy('inherited', APPLY) }),
        release(3200, RUN, sentBy('inherited', APPLY)),
      ]),
      'fail',
      /sent by the program that opened the connection terraform \(pid 41\) inherited .* while the lock was held by the program that opened the connection terraform \(pid 41\) inherited/,
    ],
    ['every write under its own lock', ran(honest), 'pass', /all 2 state and digest writes .* were made while it held the lock/],
    [
      'one state write under its own lock, no digest (the lockfile variant)',
      ran(honest.filter((request) => !(request.operation === 'PutItem' && request.lockId?.endsWith('-md5') === true))),
      'pass',
      /^the 1 state write of your script was made while it held the lock$/,
    ],
    ['no writes at all', ran(forceUnlock(2000)), 'pass', /wrote no state without the lock/],
    [
      'apply -lock=false: state and digest written without the lock',
      ran([...forceUnlock(2000), putState(3000, RUN, v2), putDigest(3010, RUN)], { records: parseRecords([invocation(['apply', '-lock=false', '-auto-approve'])]) }),
      'fail',
      /wrote the state while it did not hold the lock \(the backend saw PutObject of the state from terraform, and 1 more unlocked write\(s\)\): terraform apply -lock=false -auto-approve \(exit 0\)/,
    ],
    [
      'the real binary called directly (no record) with -lock=false',
      ran([putState(3000, RUN, v2)], { records: [] }),
      'fail',
      /backend saw PutObject of the state from terraform\)\. Writing without the lock/,
    ],
    ['the state written by hand with the AWS CLI', ran([putState(3000, RUN, v2, { client: 'aws-cli' })]), 'fail', /PutObject of the state from aws-cli/],
    ['a digest put by hand', ran([putDigest(3000, RUN, { client: 'aws-cli' })]), 'fail', /PutItem of the digest item from aws-cli/],
    ['a failed write does not count', ran([putState(3000, RUN, v2, { status: 403, errorType: 'AccessDenied' })]), 'pass', /wrote no state without the lock/],
    [
      'a write naming the bucket in its Host header, refused by the relay (c3-cheat-host-header-bucket)',
      ran([...forceUnlock(2000), { at: 3000, run: RUN, operation: 'PutObject', service: 's3', bucket: 'lab', key: 'terraform.tfstate', status: 502, errorType: 'RelayError', hostRefused: 'b', client: 'other' }]),
      'fail',
      /sent an S3 PutObject naming Host "b" instead of the endpoint/,
    ],
    ['a read refused for its Host is no write', ran([...forceUnlock(2000), { at: 3000, run: RUN, operation: 'GetObject', service: 's3', status: 502, hostRefused: 'b', client: 'other' }]), 'pass', /wrote no state without the lock/],
    ['writes by the harness are not the script\'s', ran([...forceUnlock(2000), putState(3000, 'harness', v2)]), 'pass', /wrote no state/],
    ['a script that did nothing (exit 0) wrote nothing unlocked, but earns nothing for it', ran([], { records: [] }), 'fail', /never touched the orphaned lock or the state.*recovered nothing/],
    // `aws dynamodb get-item ...; echo recovered` earned 15 of 45 (script-succeeds, no-unlocked-writes, state-intact)
    ['a script that only looked at the lock with the AWS CLI recovered nothing', ran([readLock(2000, RUN, { client: 'aws-cli' })], { records: [] }), 'fail', /never touched the orphaned lock or the state.*a look with the AWS CLI is not a recovery/],
    ['a force-unlock refused by terraform (a wrong ID: it read the lock, deleted nothing) tried', ran([readLock(2000, RUN)], { records: parseRecords([invocation(['force-unlock', '-force', 'wrong'], 1)]) }), 'pass', /wrote no state without the lock/],
    ['a read claiming to be tofu, sent by curl, is a look too', ran([readLock(2000, RUN, { client: 'tofu', ...sentBy('curl', FORCE_UNLOCK) })], { records: [] }), 'fail', /never touched the orphaned lock/],
    ['a lock put by hand (a failed one too) is something done', ran([{ ...acquire(2000, RUN, 'x', 'OperationTypeApply'), client: 'aws-cli', status: 400, errorType: 'ConditionalCheckFailedException' }], { records: [] }), 'pass', /wrote no state without the lock/],
    ['missing file', missing, 'fail', /nothing was run/],
  ])('%s', (_name, learner, status, feedback) => {
    const verdict = judgeNoUnlockedWrites(replay, learner);
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
  });
});

describe('c2.state-intact', () => {
  test.each([
    ['intact', ran(honest), 'pass', /lineage kept, serial 1 -> 3, digest matches/],
    ['a script that did nothing leaves the state as it was, but earns nothing for it', ran([], { stateAfter: state(stateBody(2, 'v1')), digestAfter: state(stateBody(2, 'v1')).md5 }), 'fail', /never touched the orphaned lock or the state/],
    ['a force-unlock only (no apply) keeps the state intact', ran(forceUnlock(2000), { stateAfter: state(stateBody(2, 'v1')), digestAfter: state(stateBody(2, 'v1')).md5 }), 'pass', /lineage kept/],
    ['bucket deleted', ran(honest, { damage: ['the state bucket b was deleted'] }), 'fail', /cannot be intact: the state bucket b was deleted by your script/],
    ['state gone', ran(honest, { stateAfter: undefined }), 'fail', /gone from the bucket/],
    ['not JSON', ran(honest, { stateAfter: state('garbage'), digestAfter: state('garbage').md5 }), 'fail', /no longer a JSON state document/],
    ['lineage changed', ran(honest, { stateAfter: state(stateBody(3, 'v2', 'L2')), digestAfter: state(stateBody(3, 'v2', 'L2')).md5 }), 'fail', /lineage changed \(L1 -> L2\)/],
    ['serial went back', ran(honest, { stateAfter: state(stateBody(0, 'v2')), digestAfter: state(stateBody(0, 'v2')).md5 }), 'fail', /serial went back \(1 -> 0\)/],
    ['digest missing', ran(honest, { digestAfter: undefined }), 'fail', /digest item is missing/],
    ['digest does not match', ran(honest, { digestAfter: 'abc' }), 'fail', /digest item \(abc\) does not match .* written around terraform/],
    ['missing file', missing, 'fail', /nothing was run/],
  ])('%s', (_name, learner, status, feedback) => {
    const verdict = judgeStateIntact(replay, learner);
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
  });
});

describe('c2.zero-drift (the change completed by an apply of the script)', () => {
  const pushed = stateBody(3, 'v2');
  test.each([
    ['apply completed the change', ran(honest), 'pass', /state was written by your terraform apply: the interrupted change \(release v2\) was completed/],
    [
      'curl posing as tofu: an apply lock, the v2 state with a new deployment, the digest, the release; no real apply ran',
      ran([...forceUnlock(2000), ...apply(3000, RUN, 'mine', v2, { client: 'tofu', ...alive() })]),
      'fail',
      /User-Agent says tofu, but no terraform\/tofu apply of your run sent it.*posing as terraform/,
    ],
    [
      'a real apply -refresh-only ran earlier, the v2 state was written by a program posing as terraform afterwards',
      ran([...forceUnlock(2000), ...apply(2500, RUN, 'refresh', stateBody(2, 'v1')), ...apply(3000, RUN, 'mine', v2, alive())]),
      'fail',
      /no terraform\/tofu apply of your run sent it/,
    ],
    [
      'freeze and pose: a real apply started and frozen (SIGSTOP) before it reached the backend, curl posing as tofu took an apply lock and wrote the v2 state meanwhile',
      ran([...forceUnlock(2000), ...apply(3000, RUN, 'mine', v2, { client: 'tofu', ...sentBy('curl', APPLY) })]),
      'fail',
      /no terraform\/tofu apply of your run sent it.*Running then: "apply -auto-approve"\. It was sent by curl \(pid 57\), not by a terraform process/,
    ],
    [
      'freeze and pose through a socket the shell opened and the frozen apply inherited',
      ran([...forceUnlock(2000), ...apply(3000, RUN, 'mine', v2, { client: 'tofu', ...sentBy('inherited', APPLY) })]),
      'fail',
      /without holding a lock that terraform itself took.* It was sent by the program that opened the connection terraform \(pid 41\) inherited \(no close-on-exec/,
    ],
    ['the write traced to the real apply that was alive', ran([...forceUnlock(2000), ...apply(3000, RUN, 'mine', v2, sentBy('terraform', APPLY))]), 'pass', /written by your terraform apply/],
    [
      'the apply run from a copy of the binary (same size, another inode: it may have been patched), untraced',
      ran([...forceUnlock(2000), ...apply(3000, RUN, 'mine', v2, { terraformAlive: [{ pid: 41, args: APPLY, tf_cli_args: {}, copy: true }] })]),
      'fail',
      /no terraform\/tofu apply of your run sent it/,
    ],
    [
      'the write traced to a real terraform that was not the apply (a plan sent it while a frozen apply was alive)',
      ran([...forceUnlock(2000), ...apply(3000, RUN, 'mine', v2, { terraformAlive: [{ pid: 40, args: APPLY, tf_cli_args: {} }, { pid: 41, args: ['plan'], tf_cli_args: {} }], sender: { terraform: true, pid: 41, detail: 'terraform (pid 41)' } })]),
      'fail',
      /no terraform\/tofu apply of your run sent it/,
    ],
    [
      'an override file replaced the deploy step (terraform apply with zz_override.tf)',
      ran(honest, { configChanges: ['terraform apply -auto-approve ran in /w with zz_override.tf'] }),
      'fail',
      /written by your terraform apply, but not with the lab's configuration: terraform apply -auto-approve ran in \/w with zz_override\.tf\..*deploy step/,
    ],
    ['the write arrived while a real apply ran (a saved plan: terraform apply tfplan)', ran([...forceUnlock(2000), ...apply(3000, RUN, 'mine', v2, alive(['apply', 'tfplan']))]), 'pass', /written by your terraform apply/],
    ['plan still has changes', ran(forceUnlock(2000), { plan: { outcome: 'changes', exitCode: 2, output: '  # terraform_data.deployment must be replaced\n' } }), 'fail', /still has changes \(terraform_data\.deployment must be replaced\).*never completed/],
    ['plan refused by a held lock', ran([], { plan: { outcome: 'error', exitCode: 1, output: 'Error: Error acquiring the state lock' } }), 'fail', /could not take the lock/],
    ['plan failed otherwise', ran([], { plan: { outcome: 'error', exitCode: 1, output: 'Error: something\nelse' } }), 'fail', /harness's plan failed \(exit 1\): Error: something\nelse/],
    [
      'state pull | jq | state push (a state-push lock)',
      ran([...forceUnlock(2000), acquire(3000, RUN, 'p', 'state-push'), putState(3020, RUN, pushed), putDigest(3030, RUN), release(3050, RUN)]),
      'fail',
      /written under a state-push lock, not by an apply/,
    ],
    [
      'a lock put by hand (Info claiming OperationTypeApply), then state push -lock=false',
      ran([...forceUnlock(2000), acquire(3000, RUN, 'fake', 'OperationTypeApply', { client: 'aws-cli' }), putState(3020, RUN, pushed), release(3050, RUN, { client: 'aws-cli' })]),
      'fail',
      /written by terraform without holding a lock that terraform itself took/,
    ],
    [
      'state push of an edited state, then an apply that only updates the outputs (the deploy step never ran)',
      ran([
        ...forceUnlock(2000),
        acquire(3000, RUN, 'p', 'state-push'),
        putState(3020, RUN, stateBody(3, 'v1', 'L1', 'dep-v1').replace('"triggers_replace":"v1"', '"triggers_replace":"v2"')),
        release(3050, RUN),
        ...apply(4000, RUN, 'a', stateBody(4, 'v2', 'L1', 'dep-v1')),
      ], { stateAfter: state(stateBody(4, 'v2', 'L1', 'dep-v1')), digestAfter: state(stateBody(4, 'v2', 'L1', 'dep-v1')).md5 }),
      'fail',
      /deployment in the final state \(id dep-v1\) was not created by an apply of your script: its deploy step never ran/,
    ],
    [
      'apply, then a refresh-only apply that rewrites the same deployment',
      ran([...forceUnlock(2000), ...apply(3000, RUN, 'a', v2), ...apply(5000, RUN, 'b', stateBody(4, 'v2'))], { stateAfter: state(stateBody(4, 'v2')), digestAfter: state(stateBody(4, 'v2')).md5 }),
      'pass',
      /completed/,
    ],
    ['state push -lock=false', ran([...forceUnlock(2000), putState(3020, RUN, pushed)]), 'fail', /written by terraform without holding a lock that terraform itself took, so nothing shows it came from an apply that ran the deploy step/],
    ['the state uploaded with the AWS CLI', ran([...forceUnlock(2000), putState(3020, RUN, pushed, { client: 'aws-cli' })]), 'fail', /written by the AWS CLI without holding a lock that terraform itself took/],
    ['plan clean but the script never wrote the state', ran(forceUnlock(2000)), 'fail', /never wrote the state/],
    ['state changed after the script\'s last write', ran(honest, { stateAfter: state(stateBody(4, 'v2')) }), 'fail', /not the one your script last wrote/],
    ['missing file', missing, 'fail', /nothing was run/],
  ])('%s', (_name, learner, status, feedback) => {
    const verdict = judgeZeroDrift(replay, learner);
    expect(verdict.status).toBe(status);
    expect(verdict.feedback).toMatch(feedback);
  });
});

// The lockfile variants: the orphan is the S3 object <key>.tflock (and, in both, the item too). The same judges
// read the S3 requests as they read DynamoDB's: force-unlock is a terraform GetObject then DeleteObject of the
// .tflock; `aws s3 rm` of it is a raw delete, whatever the records say.
describe('the lockfile variants (the lock is the .tflock object)', () => {
  const lockfile: Replay2 = { ...replay, names: NAMES_LOCKFILE };
  const both: Replay2 = { ...replay, names: NAMES_BOTH };
  /** The harness's history of the lockfile variant: baseline apply, then the killed apply's .tflock. */
  const harnessLf: Step[] = [...applyLockfile(0, 'harness', 'base', stateBody(1, 'v1')), acquireObject(500, 'harness', HELD)];
  const harnessBoth: Step[] = [...applyBoth(0, 'harness', 'base', stateBody(1, 'v1')), acquireObject(500, 'harness', HELD), acquire(505, 'harness', HELD)];
  const forceUnlockObject = (at: number, extra = {}): Step[] => [readObject(at, RUN, extra), releaseObject(at + 10, RUN, extra)];
  const ranIn = (history: Step[], steps: Step[], extra: Partial<Extract<Learner2, { ran: true }>> = {}): Learner2 => {
    const base = ran(steps, extra) as Extract<Learner2, { ran: true }>;
    return { ...base, requests: watched(requests([...history, ...steps])), digestAfter: extra.digestAfter };
  };
  const lf = (steps: Step[], extra: Partial<Extract<Learner2, { ran: true }>> = {}) => ranIn(harnessLf, steps, extra);
  const bo = (steps: Step[], extra: Partial<Extract<Learner2, { ran: true }>> = {}) => ranIn(harnessBoth, steps, { digestAfter: state(v2).md5, ...extra });
  const honestLf = [...forceUnlockObject(2000), ...applyLockfile(3000, RUN, 'mine', v2)];
  const honestBoth = [...forceUnlockObject(2000), readLock(2020, RUN), release(2030, RUN), ...applyBoth(3000, RUN, 'mine', v2)];
  const mineInfo = JSON.stringify({ ID: 'mine', Operation: 'OperationTypeApply', Info: '', Who: 'me@learner', Version: '1.11.5', Created: '', Path: NAMES.lockId });

  test.each([
    ['lockfile: terraform read the .tflock, then deleted it', lockfile, lf(honestLf), 'pass', /force-unlock released the orphaned lock 1111.*terraform read the lock object, then delete it/],
    ['lockfile: tofu, with Terraform 1.11 or OpenTofu', lockfile, lf([...forceUnlockObject(2000, { client: 'tofu' }), ...applyLockfile(3000, RUN, 'mine', v2, { client: 'tofu' })]), 'pass', /tofu read the lock object/],
    [
      'lockfile: aws s3 rm of the .tflock, with a force-unlock record terraform then refused',
      lockfile,
      lf([readObject(1900, RUN, { client: 'aws-cli' }), releaseObject(2000, RUN, { client: 'aws-cli' }), readObject(2100, RUN, { status: 404, errorType: 'NoSuchKey' }), ...applyLockfile(3000, RUN, 'mine', v2)], {
        records: parseRecords([invocation(['force-unlock', '-force', HELD], 1)]),
      }),
      'fail',
      /deleted by the AWS CLI \(S3 DeleteObject of lab\/terraform\.tfstate\.tflock\), not by terraform force-unlock: deleting the lock object by hand/,
    ],
    [
      'lockfile: aws s3 rm, with a forged successful force-unlock record',
      lockfile,
      lf([releaseObject(2000, RUN, { client: 'aws-cli' }), ...applyLockfile(3000, RUN, 'mine', v2)], { records: parseRecords([invocation(['force-unlock', '-force', HELD])]) }),
      'fail',
      /deleted by the AWS CLI.*contradicted by what the backend saw/,
    ],
    [
      'lockfile: a batch DeleteObjects naming the .tflock (aws s3api delete-objects)',
      lockfile,
      lf([{ at: 2000, run: RUN, operation: 'DeleteObjects', bucket: NAMES.bucket, keys: [OBJECT_KEY], client: 'aws-cli' }, ...applyLockfile(3000, RUN, 'mine', v2)]),
      'fail',
      /deleted by the AWS CLI \(S3 DeleteObjects of lab\/terraform\.tfstate\.tflock\)/,
    ],
    [
      'lockfile: the orphan overwritten with a lock of the learner (aws s3 cp), then force-unlock of that ID',
      lockfile,
      lf([{ at: 1900, run: RUN, operation: 'PutObject', bucket: NAMES.bucket, key: OBJECT_KEY, body: mineInfo, client: 'aws-cli' }, ...forceUnlockObject(2000), ...applyLockfile(3000, RUN, 'mine2', v2)], {
        records: parseRecords([invocation(['force-unlock', '-force', 'mine'])]),
      }),
      'fail',
      /the lock object was written over by the AWS CLI \(S3 PutObject\) before it was released.*no longer the orphaned lock 1111/,
    ],
    [
      'dynamodb: the same overwrite with put-item, then force-unlock of that ID',
      replay,
      ran([{ at: 1900, run: RUN, operation: 'PutItem', lockId: NAMES.lockId, item: { LockID: NAMES.lockId, Info: mineInfo }, client: 'aws-cli' }, ...forceUnlock(2000), ...apply(3000, RUN, 'mine2', v2)], {
        records: parseRecords([invocation(['force-unlock', '-force', 'mine'])]),
      }),
      'fail',
      /the lock item was written over by the AWS CLI \(DynamoDB PutItem\) before it was released/,
    ],
    ['lockfile: nothing done; the record of a force-unlock is contradicted', lockfile, lf([], { records: parseRecords([invocation(['force-unlock', '-force', HELD])]), lockAfter: { place: 'object', raw: '{}', info: replay.orphan } }), 'fail', /never saw the lock object deleted/],
    ['both: terraform released the object and the item', both, bo(honestBoth), 'pass', /terraform read the lock object and the lock item, then delete it/],
    [
      'both: the object by force-unlock, the item by aws dynamodb delete-item',
      both,
      bo([...forceUnlockObject(2000), release(2030, RUN, { client: 'aws-cli', conditional: false }), ...applyBoth(3000, RUN, 'mine', v2)]),
      'fail',
      /deleted by the AWS CLI \(DynamoDB DeleteItem\)/,
    ],
    [
      'both: aws s3 rm of the object, the item by force-unlock',
      both,
      bo([releaseObject(1990, RUN, { client: 'aws-cli' }), readLock(2020, RUN), release(2030, RUN), ...applyBoth(3000, RUN, 'mine', v2)]),
      'fail',
      /deleted by the AWS CLI \(S3 DeleteObject of lab\/terraform\.tfstate\.tflock\)/,
    ],
    ['both: only the object was released', both, bo(forceUnlockObject(2000), { lockAfter: { place: 'item', raw: '{}', info: replay.orphan } }), 'fail', /released the lock object, but the lock item was never released through the backend/],
  ] as Array<[string, Replay2, Learner2, string, RegExp]>)(
    'c2.force-unlock-used, %s',
    (_name, r, learner, status, feedback) => {
      const verdict = judgeForceUnlockUsed(r, learner);
      expect(verdict.status).toBe(status);
      expect(verdict.feedback).toMatch(feedback);
    },
  );

  test.each([
    ['lockfile: the honest recovery', lockfile, lf(honestLf), ['pass', 'pass', 'pass', 'pass']],
    ['both: the honest recovery', both, bo(honestBoth), ['pass', 'pass', 'pass', 'pass']],
    ['lockfile: apply -lock=false while the .tflock is held', lockfile, lf([putState(3020, RUN, v2)], { lockAfter: { place: 'object', raw: '{}', info: replay.orphan } }), ['fail', 'fail', 'pass', 'fail']],
    [
      'both: the state written under the object alone (the item still held by the orphan)',
      both,
      bo([...forceUnlockObject(2000), acquireObject(3000, RUN, 'mine'), putState(3020, RUN, v2), putDigest(3030, RUN)], { lockAfter: { place: 'item', raw: '{}', info: replay.orphan } }),
      ['fail', 'fail', 'pass', 'fail'],
    ],
    [
      'lockfile: a .tflock put by hand (If-None-Match, Info claiming OperationTypeApply), then state push -lock=false',
      lockfile,
      lf([...forceUnlockObject(2000), acquireObject(3000, RUN, 'fake', 'OperationTypeApply', { client: 'aws-cli' }), putState(3020, RUN, v2), releaseObject(3050, RUN, { client: 'aws-cli' })]),
      ['pass', 'pass', 'pass', 'fail'],
    ],
  ] as Array<[string, Replay2, Learner2, string[]]>)('lock-released, no-unlocked-writes, state-intact, zero-drift: %s', (_name, r, learner, statuses) => {
    expect([judgeLockReleased(r, learner), judgeNoUnlockedWrites(r, learner), judgeStateIntact(r, learner), judgeZeroDrift(r, learner)].map((v) => v.status)).toEqual(statuses);
  });

  test('state-intact: no digest is checked where there is no table; a digest mismatch still fails in both', () => {
    expect(judgeStateIntact(lockfile, lf(honestLf)).feedback).toMatch(/no digest: the lockfile variant has no table/);
    expect(judgeStateIntact(both, bo(honestBoth, { digestAfter: 'deadbeef' }))).toMatchObject({ status: 'fail', feedback: expect.stringMatching(/-md5 digest item \(deadbeef\) does not match/) });
  });

  test('lock-released names the .tflock left in the bucket', () => {
    expect(judgeLockReleased(lockfile, lf([], { lockAfter: { place: 'object', raw: '{}', info: replay.orphan } })).feedback).toMatch(/still as the \.tflock object in the bucket after recover\.sh/);
    expect(judgeLockReleased(lockfile, lf([], { lockAfter: { place: 'object', raw: 'mine' } })).feedback).toMatch(/the lock object \(\.tflock\) is still in the bucket after recover\.sh, and its body is not Lock Info/);
  });

  test('replay: the orphan is named where it was left', () => {
    expect(judgeReplayOrphanedLock(lockfile).feedback).toMatch(/left as the \.tflock object/);
    expect(judgeReplayOrphanedLock({ ...lockfile, orphan: undefined }).feedback).toMatch(/the lock object was not left behind/);
  });
});
