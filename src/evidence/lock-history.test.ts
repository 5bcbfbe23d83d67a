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
const putDigest = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ at, run, operation: 'PutItem', lockId: DIGEST, item: { LockID: DIGEST, Digest: 'abc' }, ...extra });

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
      'a multipart upload writes the state when it completes; a browser-form upload (PostObject) of the key, or of a key not read, may be the state (c3-cheat-multipart-state)',
      [
        { at: 10, run: 'x', operation: 'CreateMultipartUpload', service: 's3' as const, bucket: BUCKET, key: KEY, client: 'aws-cli' as const },
        { at: 20, run: 'x', operation: 'UploadPart', service: 's3' as const, bucket: BUCKET, key: KEY, client: 'aws-cli' as const },
        { at: 30, run: 'x', operation: 'CompleteMultipartUpload', service: 's3' as const, bucket: BUCKET, key: KEY, client: 'aws-cli' as const },
        { at: 40, run: 'x', operation: 'PostObject', service: 's3' as const, bucket: BUCKET, key: KEY, client: 'other' as const },
        { at: 50, run: 'x', operation: 'PostObject', service: 's3' as const, bucket: BUCKET, client: 'other' as const },
        { at: 60, run: 'x', operation: 'PostObject', service: 's3' as const, bucket: BUCKET, key: 'other', client: 'other' as const },
      ],
      [
        { seq: 2, at: 30, run: 'x', client: 'aws-cli', target: 'state', operation: 'CompleteMultipartUpload', status: 200, succeeded: true, lockedByWriter: false },
        { seq: 3, at: 40, run: 'x', client: 'other', target: 'state', operation: 'PostObject', status: 200, succeeded: true, lockedByWriter: false },
        { seq: 4, at: 50, run: 'x', client: 'other', target: 'state', operation: 'PostObject', status: 200, succeeded: true, lockedByWriter: false },
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
    [
      'traced connections: a state write sent by another process of the run while its terraform holds the lock is not the holder\'s',
      [
        acquire(100, 'r', 'r', { sender: { terraform: true, pid: 41, detail: 'terraform (pid 41)' } }),
        putState(120, 'r', { client: 'tofu', sender: { terraform: false, pid: 57, detail: 'curl (pid 57)' } }),
        putState(130, 'r', { sender: { terraform: true, pid: 41, detail: 'terraform (pid 41)' } }),
        putDigest(140, 'r', { sender: { terraform: false, detail: 'a process the grader could not trace (the client had closed its connection)' } }),
        release(200, 'r', { sender: { terraform: true, pid: 41, detail: 'terraform (pid 41)' } }),
      ],
      [
        {
          seq: 1, at: 120, run: 'r', client: 'tofu', target: 'state', operation: 'PutObject', status: 200, succeeded: true, lockedByWriter: false,
          notTheHolder: { writer: 'curl (pid 57)', holder: 'terraform (pid 41)' },
        },
        { seq: 2, at: 130, run: 'r', client: 'terraform', target: 'state', operation: 'PutObject', status: 200, succeeded: true, lockedByWriter: true },
        {
          seq: 3, at: 140, run: 'r', client: 'terraform', target: 'digest', operation: 'PutItem', status: 200, succeeded: true, lockedByWriter: false,
          notTheHolder: { writer: 'a process the grader could not trace (the client had closed its connection)', holder: 'terraform (pid 41)' },
        },
      ],
    ],
  ])('%s', (_name, steps, expected) => {
    expect(stateWrites(log(steps), target)).toEqual(expected);
  });

  test('a workspace key: the lock is "<bucket>/<key>" unless locks are given', () => {
    const key = 'env:/dev/lab/terraform.tfstate';
    const lock = `${BUCKET}/${key}`;
    const steps = log([
      { ...acquire(100, 'h', 'h'), lockId: lock },
      putState(120, 'h', { key }),
      { ...release(200, 'h'), lockId: lock },
    ]);
    expect(stateWrites(steps, { bucket: BUCKET, key, digestLockId: `${lock}-md5` })[0]?.lockedByWriter).toBe(true);
    expect(stateWrites(steps, { bucket: BUCKET, key, digestLockId: `${lock}-md5`, locks: [LOCK] })[0]?.lockedByWriter).toBe(false);
  });
});

// The S3 lock object (use_lockfile): <key>.tflock, taken by a PutObject with
// If-None-Match: *, read with GetObject, released with DeleteObject — the same
// episodes as the DynamoDB item, from the S3 requests.
describe('the .tflock object (lockfile variants)', () => {
  const OBJECT = { kind: 'object' as const, bucket: BUCKET, key: `${KEY}.tflock` };
  const ITEM = { kind: 'item' as const, lockId: LOCK };
  const take = (at: number, run: string, id: string, extra: Partial<BackendRequest> = {}): Step => ({
    at,
    run,
    operation: 'PutObject',
    bucket: BUCKET,
    key: `${KEY}.tflock`,
    conditional: true,
    body: info(id),
    ...extra,
  });
  const taken412 = (at: number, run: string): Step => ({ ...take(at, run, 'x'), status: 412, errorType: 'PreconditionFailed' });
  const read = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ at, run, operation: 'GetObject', bucket: BUCKET, key: `${KEY}.tflock`, ...extra });
  const drop = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ at, run, operation: 'DeleteObject', bucket: BUCKET, key: `${KEY}.tflock`, ...extra });
  const released = (run: string, at: number, client: ClientKind = 'terraform') => ({ run, client, conditional: false, at });

  test.each([
    [
      'an apply: If-None-Match put takes it (at the response end), DeleteObject releases it (at the request start); the body is the Lock Info',
      [take(100, 'h', 'id-1'), putState(120, 'h'), read(150, 'h'), drop(160, 'h')],
      [{ run: 'h', acquiredAt: 105, releasedAt: 160, lockInfoId: 'id-1', operation: 'OperationTypeApply', client: 'terraform', acquireSeq: 0, releasedBy: released('h', 160) }],
    ],
    [
      'a refused put (412 PreconditionFailed), a 409 conflict, an unconditional put (aws s3 cp) and the state key itself do not acquire',
      [
        taken412(50, 'x'),
        { ...take(60, 'x', 'c'), status: 409, errorType: 'ConditionalRequestConflict' },
        { ...take(70, 'x', 'u', { client: 'aws-cli' }), conditional: false },
        { ...take(80, 'x', 's'), key: KEY },
        { ...take(90, 'x', 'b'), bucket: 'other' },
      ],
      [],
    ],
    [
      'the AWS CLI deleting the object (aws s3 rm) releases the orphan: releasedBy names it',
      [take(100, 'h', 'orphan'), read(200, 'c2', { client: 'aws-cli' }), drop(210, 'c2', { client: 'aws-cli' })],
      [{ run: 'h', acquiredAt: 105, releasedAt: 210, lockInfoId: 'orphan', operation: 'OperationTypeApply', client: 'terraform', acquireSeq: 0, releasedBy: released('c2', 210, 'aws-cli') }],
    ],
    [
      'a batch DeleteObjects naming the .tflock releases it; one not naming it, a failed delete and a DynamoDB DeleteItem do not',
      [
        take(100, 'h', 'id-1'),
        { at: 110, run: 'x', service: 's3' as const, operation: 'DeleteObjects', bucket: BUCKET, keys: [KEY] },
        drop(120, 'x', { status: 403, errorType: 'AccessDenied' }),
        release(130, 'x'),
        { at: 140, run: 'c2', service: 's3' as const, operation: 'DeleteObjects', bucket: BUCKET, keys: [KEY, `${KEY}.tflock`], client: 'aws-cli' as const },
      ],
      [{ run: 'h', acquiredAt: 105, releasedAt: 140, lockInfoId: 'id-1', operation: 'OperationTypeApply', client: 'terraform', acquireSeq: 0, releasedBy: released('c2', 140, 'aws-cli') }],
    ],
    [
      'a body that is not Lock Info (a conditional put by a learner), then tofu',
      [take(100, 'l', '', { client: 'aws-cli', body: 'mine' }), drop(110, 'l', { client: 'aws-cli' }), take(200, 'h', 'id-2', { client: 'tofu' })],
      [
        { run: 'l', acquiredAt: 105, releasedAt: 110, client: 'aws-cli', acquireSeq: 0, releasedBy: released('l', 110, 'aws-cli') },
        { run: 'h', acquiredAt: 205, lockInfoId: 'id-2', operation: 'OperationTypeApply', client: 'tofu', acquireSeq: 2 },
      ],
    ],
  ])('%s', (_name, steps, expected) => {
    expect(lockEpisodes(log(steps), OBJECT)).toEqual(expected);
  });

  test('DynamoDB requests never touch the object, S3 requests never touch the item', () => {
    const steps = log([take(100, 'h', 'o'), acquire(110, 'h', 'i')]);
    expect(lockEpisodes(steps, OBJECT).map((e) => e.lockInfoId)).toEqual(['o']);
    expect(lockEpisodes(steps, ITEM).map((e) => e.lockInfoId)).toEqual(['i']);
  });

  test('lockAttempts: 412 is a refusal, a relay error is not', () => {
    const steps = log([take(0, 'a', 'a'), taken412(100, 'b'), { ...take(200, 'b', 'b'), status: 502, errorType: 'RelayError' }, drop(900, 'a'), take(1100, 'b', 'b')]);
    expect(lockAttempts(steps, OBJECT, 'b').map((a) => a.outcome)).toEqual(['refused', 'error', 'acquired']);
  });

  test('holderAt follows the object', () => {
    const steps = log([take(100, 'a', 'a'), drop(200, 'a')]);
    expect([holderAt(steps, OBJECT, 150), holderAt(steps, OBJECT, 200), holderAt(steps, LOCK, 150)]).toEqual(['a', undefined, undefined]);
  });

  describe('stateWrites: a write is locked only when its run held every lock of the variant', () => {
    const lockfile = { bucket: BUCKET, key: KEY, locks: [OBJECT] };
    const both = { bucket: BUCKET, key: KEY, digestLockId: DIGEST, locks: [OBJECT, ITEM] };
    test.each([
      ['lockfile: under the object', lockfile, [take(100, 'h', 'h'), putState(120, 'h'), drop(200, 'h')], [true]],
      ['lockfile: -lock=false while another run holds the object', lockfile, [take(100, 'a', 'a'), putState(120, 'b'), drop(200, 'a')], [false]],
      ['lockfile: no digest target, so a digest PutItem is not a state write', lockfile, [take(100, 'h', 'h'), putDigest(130, 'h'), drop(200, 'h')], []],
      ['both: under the object and the item', both, [take(100, 'h', 'h'), acquire(110, 'h', 'h'), putState(120, 'h'), putDigest(130, 'h'), drop(200, 'h'), release(210, 'h')], [true, true]],
      ['both: a hand-put item without the object is not a locked write', both, [acquire(100, 'l', 'l', { client: 'aws-cli' }), putState(120, 'l')], [false]],
      ['both: the object alone (the item held by another run) is not a locked write', both, [acquire(90, 'a', 'a'), take(100, 'l', 'l'), putState(120, 'l')], [false]],
      ['a DeleteObjects naming the state is a state write', lockfile, [{ at: 100, run: 'x', service: 's3' as const, operation: 'DeleteObjects', bucket: BUCKET, keys: [KEY], client: 'aws-cli' as const }], [false]],
    ])('%s', (_name, target, steps, locked) => {
      expect(stateWrites(log(steps), target).map((w) => w.lockedByWriter)).toEqual(locked);
    });
  });
});
