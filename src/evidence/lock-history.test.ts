import { describe, expect, test } from '@jest/globals';
import type { BackendRequest, ClientKind } from './backend-log.ts';
import { holderAt, lockAttempts, lockEpisodes, stateWrites } from './lock-history.ts';

const BUCKET = 'b';
const KEY = 'lab/terraform.tfstate';
const LOCK = `${BUCKET}/${KEY}`;
const DIGEST = `${LOCK}-md5`;

const info = (id: string, operation = 'OperationTypeApply') => JSON.stringify({ ID: id, Operation: operation, Info: '', Who: 'u@h', Version: '1.11.4', Created: '', Path: LOCK });

// A tiny language for the tables: each step is one request, at = its start
// (ms), lasting 5 ms unless said otherwise. seq is the row number.
type Step = Partial<BackendRequest> & { at: number; run: string; operation: string };

function log(steps: Step[]): BackendRequest[] {
  return steps.map((step, seq) => {
    const client: ClientKind = step.client ?? 'terraform';
    return {
      seq,
      endAt: step.at + 5,
      connection: 1,
      service: step.service ?? (['PutObject', 'GetObject', 'CopyObject', 'DeleteObject', 'HeadObject'].includes(step.operation) ? 's3' : 'dynamodb'),
      conditional: false,
      status: 200,
      userAgent: '',
      client,
      ...step,
    };
  });
}

const acquire = (at: number, run: string, id: string, extra: Partial<BackendRequest> = {}): Step => ({
  at,
  run,
  operation: 'PutItem',
  lockId: LOCK,
  conditional: true,
  condition: 'attribute_not_exists(LockID)',
  item: { LockID: LOCK, Info: info(id) },
  ...extra,
});
const refused = (at: number, run: string): Step => ({ ...acquire(at, run, 'other'), status: 400, errorType: 'ConditionalCheckFailedException' });
const release = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ at, run, operation: 'DeleteItem', lockId: LOCK, item: { LockID: LOCK }, ...extra });
const putState = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ at, run, operation: 'PutObject', bucket: BUCKET, key: KEY, body: '{"serial":1}', ...extra });
const putDigest = (at: number, run: string): Step => ({ at, run, operation: 'PutItem', lockId: DIGEST, item: { LockID: DIGEST, Digest: 'abc' } });

describe('lockEpisodes', () => {
  test.each([
    ['nothing happened', [], []],
    [
      'one apply: acquired at the PutItem’s end, released at the DeleteItem’s start',
      [acquire(100, 'h', 'id-1'), putState(120, 'h'), release(200, 'h')],
      [{ run: 'h', acquiredAt: 105, releasedAt: 200, lockInfoId: 'id-1', operation: 'OperationTypeApply', client: 'terraform', acquireSeq: 0, releasedBy: { run: 'h', client: 'terraform', conditional: false, at: 200 } }],
    ],
    [
      'still held at the end (a killed holder)',
      [acquire(100, 'h', 'id-1')],
      [{ run: 'h', acquiredAt: 105, lockInfoId: 'id-1', operation: 'OperationTypeApply', client: 'terraform', acquireSeq: 0 }],
    ],
    [
      'refused and failed PutItems, unconditional PutItems and other LockIDs do not acquire',
      [
        refused(50, 'x'),
        { ...acquire(60, 'x', 'e'), status: 500, errorType: 'InternalServerError' },
        { ...acquire(70, 'x', 'u'), conditional: false },
        { ...acquire(80, 'x', 'd'), lockId: DIGEST },
        { ...acquire(90, 'x', 's3'), service: 's3' as const },
      ],
      [],
    ],
    [
      'a force-unlock by another run (the AWS CLI) closes it; a DeleteItem with nothing held changes nothing',
      [release(10, 'c2'), acquire(100, 'h', 'id-1'), release(300, 'c2:recover.sh', { client: 'aws-cli', conditional: true }), acquire(400, 'h', 'id-2', { client: 'tofu', item: { LockID: LOCK, Info: info('id-2', 'OperationTypePlan') } })],
      [
        { run: 'h', acquiredAt: 105, releasedAt: 300, lockInfoId: 'id-1', operation: 'OperationTypeApply', client: 'terraform', acquireSeq: 1, releasedBy: { run: 'c2:recover.sh', client: 'aws-cli', conditional: true, at: 300 } },
        { run: 'h', acquiredAt: 405, lockInfoId: 'id-2', operation: 'OperationTypePlan', client: 'tofu', acquireSeq: 3 },
      ],
    ],
    [
      'a failed DeleteItem releases nothing',
      [acquire(100, 'h', 'id-1'), release(150, 'x', { status: 400, errorType: 'ConditionalCheckFailedException', conditional: true })],
      [{ run: 'h', acquiredAt: 105, lockInfoId: 'id-1', operation: 'OperationTypeApply', client: 'terraform', acquireSeq: 0 }],
    ],
    [
      'Info that is not JSON (learner-written), or JSON without ID',
      [acquire(100, 'l', '', { item: { LockID: LOCK, Info: 'held by me' } }), release(110, 'l'), acquire(200, 'l', '', { item: { LockID: LOCK, Info: '{"ID":7,"Operation":"mine"}' } }), release(210, 'l'), acquire(300, 'l', '', { item: { LockID: LOCK } })],
      [
        { run: 'l', acquiredAt: 105, releasedAt: 110, client: 'terraform', acquireSeq: 0, releasedBy: { run: 'l', client: 'terraform', conditional: false, at: 110 } },
        { run: 'l', acquiredAt: 205, releasedAt: 210, operation: 'mine', client: 'terraform', acquireSeq: 2, releasedBy: { run: 'l', client: 'terraform', conditional: false, at: 210 } },
        { run: 'l', acquiredAt: 305, client: 'terraform', acquireSeq: 4 },
      ],
    ],
    [
      'a second acquire while one is open closes the first there, without a releaser (removed unseen)',
      [acquire(100, 'a', 'id-a'), acquire(200, 'b', 'id-b')],
      [
        { run: 'a', acquiredAt: 105, releasedAt: 205, lockInfoId: 'id-a', operation: 'OperationTypeApply', client: 'terraform', acquireSeq: 0 },
        { run: 'b', acquiredAt: 205, lockInfoId: 'id-b', operation: 'OperationTypeApply', client: 'terraform', acquireSeq: 1 },
      ],
    ],
    [
      'log order (by response end) does not matter: events are ordered by time',
      [release(200, 'a', { endAt: 900 }), acquire(100, 'a', 'id-a')],
      [{ run: 'a', acquiredAt: 105, releasedAt: 200, lockInfoId: 'id-a', operation: 'OperationTypeApply', client: 'terraform', acquireSeq: 1, releasedBy: { run: 'a', client: 'terraform', conditional: false, at: 200 } }],
    ],
  ])('%s', (_name, steps, expected) => {
    expect(lockEpisodes(log(steps), LOCK)).toEqual(expected);
  });
});

describe('lockAttempts', () => {
  test.each([
    [
      'contention: refused ~1 s and 2 s apart, then acquired',
      [acquire(0, 'a', 'a'), refused(100, 'b'), refused(1100, 'b'), release(2000, 'a'), acquire(3100, 'b', 'b')],
      'b',
      [
        { seq: 1, at: 100, endAt: 105, outcome: 'refused', conditional: true, status: 400, errorType: 'ConditionalCheckFailedException', client: 'terraform' },
        { seq: 2, at: 1100, endAt: 1105, outcome: 'refused', conditional: true, status: 400, errorType: 'ConditionalCheckFailedException', client: 'terraform' },
        { seq: 4, at: 3100, endAt: 3105, outcome: 'acquired', conditional: true, status: 200, client: 'terraform' },
      ],
    ],
    [
      'errors that are not a refusal; digest PutItems and other runs are not attempts',
      [{ ...acquire(10, 'b', 'x'), status: 502, errorType: 'RelayError' }, { ...acquire(20, 'b', 'x'), status: 400, errorType: 'ValidationException' }, putDigest(30, 'b'), acquire(40, 'a', 'a')],
      'b',
      [
        { seq: 0, at: 10, endAt: 15, outcome: 'error', conditional: true, status: 502, errorType: 'RelayError', client: 'terraform' },
        { seq: 1, at: 20, endAt: 25, outcome: 'error', conditional: true, status: 400, errorType: 'ValidationException', client: 'terraform' },
      ],
    ],
    [
      'an unconditional overwrite counts as acquired (conditional: false tells it apart)',
      [{ ...acquire(10, 'l', 'x', { client: 'aws-cli' }), conditional: false }],
      'l',
      [{ seq: 0, at: 10, endAt: 15, outcome: 'acquired', conditional: false, status: 200, client: 'aws-cli' }],
    ],
  ])('%s', (_name, steps, run, expected) => {
    expect(lockAttempts(log(steps), LOCK, run)).toEqual(expected);
  });
});

describe('holderAt', () => {
  const steps = log([acquire(100, 'a', 'a'), release(200, 'a'), acquire(300, 'b', 'b')]);
  test.each([
    [50, undefined],
    [104, undefined], // the PutItem has not answered yet
    [105, 'a'],
    [199, 'a'],
    [200, undefined], // the release was asked for
    [250, undefined],
    [305, 'b'],
    [10_000, 'b'], // never released
  ])('at %d → %s', (at, run) => {
    expect(holderAt(steps, LOCK, at)).toBe(run);
  });
});

describe('stateWrites', () => {
  const target = { bucket: BUCKET, key: KEY, digestLockId: DIGEST };
  test.each([
    [
      'a locked apply: state and digest written under its own lock',
      [acquire(100, 'h', 'h'), { at: 110, run: 'h', operation: 'GetObject', bucket: BUCKET, key: KEY }, putState(120, 'h'), putDigest(130, 'h'), release(200, 'h')],
      [
        { seq: 2, at: 120, run: 'h', client: 'terraform', target: 'state', operation: 'PutObject', status: 200, succeeded: true, lockedByWriter: true },
        { seq: 3, at: 130, run: 'h', client: 'terraform', target: 'digest', operation: 'PutItem', status: 200, succeeded: true, lockedByWriter: true },
      ],
    ],
    [
      '-lock=false while another run holds the lock; a learner overwriting with the AWS CLI',
      [acquire(100, 'a', 'a'), putState(150, 'b'), release(200, 'a'), putState(300, 'c2', { client: 'aws-cli' }), { at: 310, run: 'c2', operation: 'UpdateItem', lockId: DIGEST, client: 'aws-cli' as const }],
      [
        { seq: 1, at: 150, run: 'b', client: 'terraform', target: 'state', operation: 'PutObject', status: 200, succeeded: true, lockedByWriter: false },
        { seq: 3, at: 300, run: 'c2', client: 'aws-cli', target: 'state', operation: 'PutObject', status: 200, succeeded: true, lockedByWriter: false },
        { seq: 4, at: 310, run: 'c2', client: 'aws-cli', target: 'digest', operation: 'UpdateItem', status: 200, succeeded: true, lockedByWriter: false },
      ],
    ],
    [
      'copy and delete of the state count, failed writes are listed as failed; other keys and buckets do not count',
      [
        { at: 10, run: 'x', operation: 'CopyObject', bucket: BUCKET, key: KEY },
        { at: 20, run: 'x', operation: 'DeleteObject', bucket: BUCKET, key: KEY, status: 403, errorType: 'AccessDenied' },
        putState(30, 'x', { key: `${KEY}.tflock` }),
        putState(40, 'x', { bucket: 'other' }),
        { at: 50, run: 'x', operation: 'DeleteItem', lockId: DIGEST },
        { at: 60, run: 'x', operation: 'GetItem', lockId: DIGEST },
      ],
      [
        { seq: 0, at: 10, run: 'x', client: 'terraform', target: 'state', operation: 'CopyObject', status: 200, succeeded: true, lockedByWriter: false },
        { seq: 1, at: 20, run: 'x', client: 'terraform', target: 'state', operation: 'DeleteObject', status: 403, succeeded: false, lockedByWriter: false },
        { seq: 4, at: 50, run: 'x', client: 'terraform', target: 'digest', operation: 'DeleteItem', status: 200, succeeded: true, lockedByWriter: false },
      ],
    ],
    [
      'a write after the holder was force-unlocked is not under its lock',
      [acquire(100, 'h', 'h'), release(150, 'c2'), putState(160, 'h'), acquire(200, 'c2', 'c'), putState(210, 'c2')],
      [
        { seq: 2, at: 160, run: 'h', client: 'terraform', target: 'state', operation: 'PutObject', status: 200, succeeded: true, lockedByWriter: false },
        { seq: 4, at: 210, run: 'c2', client: 'terraform', target: 'state', operation: 'PutObject', status: 200, succeeded: true, lockedByWriter: true },
      ],
    ],
  ])('%s', (_name, steps, expected) => {
    expect(stateWrites(log(steps), target)).toEqual(expected);
  });

  test('a workspace key: the lock is "<bucket>/<key>" unless lockId is given', () => {
    const key = 'env:/dev/lab/terraform.tfstate';
    const lock = `${BUCKET}/${key}`;
    const steps = log([
      { ...acquire(100, 'h', 'h'), lockId: lock },
      putState(120, 'h', { key }),
      { ...release(200, 'h'), lockId: lock },
    ]);
    expect(stateWrites(steps, { bucket: BUCKET, key, digestLockId: `${lock}-md5` })[0]?.lockedByWriter).toBe(true);
    expect(stateWrites(steps, { bucket: BUCKET, key, digestLockId: `${lock}-md5`, lockId: LOCK })[0]?.lockedByWriter).toBe(false);
  });
});
