import { describe, expect, test } from '@jest/globals';
import type { BackendRequest } from './backend-log.ts';
import { isAcquire, isRefusal, isRelease, labLockTargets, lockAction, type LockTarget } from './lock-target.ts';

const OBJECT: LockTarget = { kind: 'object', bucket: 'b', key: 'lab/terraform.tfstate.tflock' };
const ITEM: LockTarget = { kind: 'item', lockId: 'b/lab/terraform.tfstate' };

function request(fields: Partial<BackendRequest> & { operation: string }): BackendRequest {
  return { seq: 0, at: 0, endAt: 1, run: 'r', connection: 1, service: 's3', conditional: false, status: 200, userAgent: '', client: 'terraform', ...fields };
}
const s3 = (operation: string, extra: Partial<BackendRequest> = {}) => request({ operation, bucket: 'b', key: 'lab/terraform.tfstate.tflock', ...extra });
const ddb = (operation: string, extra: Partial<BackendRequest> = {}) => request({ operation, service: 'dynamodb', lockId: 'b/lab/terraform.tfstate', ...extra });

describe('labLockTargets: the primary lock (the one terraform takes first) first', () => {
  test.each([
    ['dynamodb', [ITEM]],
    ['lockfile', [OBJECT]],
    ['both', [OBJECT, ITEM]],
  ] as const)('%s', (variant, expected) => {
    expect(labLockTargets(variant, 'b', 'lab/terraform.tfstate')).toEqual(expected);
  });
});

describe('lockAction', () => {
  test.each([
    ['PutObject of the .tflock', s3('PutObject'), OBJECT, 'put'],
    ['CopyObject onto the .tflock', s3('CopyObject'), OBJECT, 'put'],
    ['a multipart upload completed onto the .tflock', s3('CompleteMultipartUpload'), OBJECT, 'put'],
    ['a browser-form upload (PostObject) of the .tflock', s3('PostObject'), OBJECT, 'put'],
    ['a part of a multipart upload writes nothing yet', s3('UploadPart'), OBJECT, undefined],
    ['GetObject of the .tflock', s3('GetObject'), OBJECT, 'read'],
    ['HeadObject reads no Lock Info', s3('HeadObject'), OBJECT, undefined],
    ['DeleteObject of the .tflock', s3('DeleteObject'), OBJECT, 'delete'],
    ['DeleteObjects naming it', s3('DeleteObjects', { key: undefined, keys: ['x', 'lab/terraform.tfstate.tflock'] }), OBJECT, 'delete'],
    ['DeleteObjects not naming it', s3('DeleteObjects', { key: undefined, keys: ['lab/terraform.tfstate'] }), OBJECT, undefined],
    ['DeleteObjects whose body was not read', s3('DeleteObjects', { key: undefined }), OBJECT, undefined],
    ['the state object', s3('PutObject', { key: 'lab/terraform.tfstate' }), OBJECT, undefined],
    ['another bucket', s3('PutObject', { bucket: 'c' }), OBJECT, undefined],
    ['a DynamoDB PutItem is not the object', ddb('PutItem'), OBJECT, undefined],
    ['PutItem of the item', ddb('PutItem'), ITEM, 'put'],
    ['GetItem of the item', ddb('GetItem'), ITEM, 'read'],
    ['DeleteItem of the item', ddb('DeleteItem'), ITEM, 'delete'],
    ['the digest item', ddb('PutItem', { lockId: 'b/lab/terraform.tfstate-md5' }), ITEM, undefined],
    ['an S3 object is not the item', s3('PutObject'), ITEM, undefined],
  ])('%s', (_name, req, target, expected) => {
    expect(lockAction(req, target)).toBe(expected);
  });
});

describe('acquire, release, refusal', () => {
  test.each([
    ['If-None-Match put, 200: acquire', s3('PutObject', { conditional: true }), true, false],
    ['unconditional put (aws s3 cp): not an acquire', s3('PutObject'), false, false],
    ['412: not an acquire', s3('PutObject', { conditional: true, status: 412, errorType: 'PreconditionFailed' }), false, false],
    ['DeleteObject 204: release', s3('DeleteObject', { status: 204 }), false, true],
    ['DeleteObject 403: not a release', s3('DeleteObject', { status: 403, errorType: 'AccessDenied' }), false, false],
  ])('%s', (_name, req, acquire, release) => {
    expect([isAcquire(req, OBJECT), isRelease(req, OBJECT)]).toEqual([acquire, release]);
  });

  test.each([
    ['ConditionalCheckFailedException', ddb('PutItem', { status: 400, errorType: 'ConditionalCheckFailedException' }), true],
    ['PreconditionFailed', s3('PutObject', { status: 412, errorType: 'PreconditionFailed' }), true],
    ['ConditionalRequestConflict', s3('PutObject', { status: 409, errorType: 'ConditionalRequestConflict' }), true],
    ['a bare 412 without an error document', s3('PutObject', { status: 412 }), true],
    ['AccessDenied', s3('PutObject', { status: 403, errorType: 'AccessDenied' }), false],
    ['RelayError', s3('PutObject', { status: 502, errorType: 'RelayError' }), false],
  ])('%s refused: %s', (_name, req, expected) => {
    expect(isRefusal(req)).toBe(expected);
  });
});
