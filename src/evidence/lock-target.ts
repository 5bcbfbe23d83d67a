// Where terraform keeps a state lock, and what each backend request does to
// it. The DynamoDB item (LockID "<bucket>/<key>", its Info attribute the Lock
// Info) and the S3 object "<key>.tflock" (use_lockfile; its body the Lock Info)
// are the same protocol on two stores (lock-protocol.md §2, §3):
//
//   | action  | item (DynamoDB)                         | object (S3)                                   |
//   |---------|-----------------------------------------|-----------------------------------------------|
//   | put     | PutItem on the LockID                   | PutObject, CopyObject, CompleteMultipartUpload or PostObject onto the key |
//   | acquire | a put with ConditionExpression          | a put with If-None-Match (or If-Match)        |
//   | refused | ConditionalCheckFailedException         | PreconditionFailed (412), ConditionalRequestConflict (409) |
//   | read    | GetItem                                 | GetObject (what reads the Lock Info)          |
//   | delete  | DeleteItem                              | DeleteObject, or DeleteObjects naming the key |
//
// Pure: no I/O, so each rule has a table test (lock-target.test.ts).
import { hasLockObject, hasLockTable, type LabVariant } from '../backend/lab-variant.ts';
import type { BackendRequest } from './backend-log.ts';

export type LockTarget =
  /** The DynamoDB lock item: LockID "<bucket>/<key>" (in the lab's table). */
  | { kind: 'item'; lockId: string }
  /** The S3 lock object "<key>.tflock" (use_lockfile), next to the state. */
  | { kind: 'object'; bucket: string; key: string };

export type LockAction = 'put' | 'read' | 'delete';

/** The suffix terraform/tofu add to the state key for the lock object. */
export const LOCK_OBJECT_SUFFIX = '.tflock';

/**
 * Every lock terraform takes in a variant, the one it takes first (the
 * primary) first: with use_lockfile the S3 object, then (both) the DynamoDB
 * item — lock-protocol.md §3, "both tools take the S3 lock first".
 */
export function labLockTargets(variant: LabVariant, bucket: string, key: string): LockTarget[] {
  const targets: LockTarget[] = [];
  if (hasLockObject(variant)) targets.push({ kind: 'object', bucket, key: `${key}${LOCK_OBJECT_SUFFIX}` });
  if (hasLockTable(variant)) targets.push({ kind: 'item', lockId: `${bucket}/${key}` });
  return targets;
}

/** How feedback names a lock: "the lock item" / "the lock object". */
export function lockNoun(target: LockTarget): string {
  return target.kind === 'item' ? 'the lock item' : 'the lock object';
}

/** "the lock item b/k" / "the lock object s3://b/k.tflock". */
export function describeLockTarget(target: LockTarget): string {
  return target.kind === 'item' ? `the lock item ${target.lockId}` : `the lock object s3://${target.bucket}/${target.key}`;
}

/** How a deletion of the lock is named in feedback: "DynamoDB DeleteItem" / "S3 DeleteObject". */
export function deletionName(request: BackendRequest): string {
  return `${request.service === 'dynamodb' ? 'DynamoDB' : 'S3'} ${request.operation}`;
}

const OBJECT_ACTIONS: Readonly<Record<string, LockAction>> = {
  PutObject: 'put',
  CopyObject: 'put',
  // A multipart upload or a browser-form upload onto the .tflock writes it too (never terraform's way: by hand).
  CompleteMultipartUpload: 'put',
  PostObject: 'put',
  GetObject: 'read',
  DeleteObject: 'delete',
};
const ITEM_ACTIONS: Readonly<Record<string, LockAction>> = { PutItem: 'put', GetItem: 'read', DeleteItem: 'delete' };

/** What a request does to the lock target (undefined: nothing). Failed requests included: see succeeded(). */
export function lockAction(request: BackendRequest, target: LockTarget): LockAction | undefined {
  if (target.kind === 'item') {
    return request.service === 'dynamodb' && request.lockId === target.lockId ? ITEM_ACTIONS[request.operation] : undefined;
  }
  if (request.service !== 's3' || request.bucket !== target.bucket) return undefined;
  if (request.operation === 'DeleteObjects') return request.keys?.includes(target.key) ? 'delete' : undefined;
  return request.key === target.key ? OBJECT_ACTIONS[request.operation] : undefined;
}

export function succeeded(request: BackendRequest): boolean {
  return request.status >= 200 && request.status < 300;
}

/** A successful conditional put: the lock was taken (a conditional write only succeeds when nobody held it). */
export function isAcquire(request: BackendRequest, target: LockTarget): boolean {
  return succeeded(request) && request.conditional && lockAction(request, target) === 'put';
}

/** A successful delete of the lock. */
export function isRelease(request: BackendRequest, target: LockTarget): boolean {
  return succeeded(request) && lockAction(request, target) === 'delete';
}

/** The store refused a conditional put because the lock was held. */
export function isRefusal(request: BackendRequest): boolean {
  return (
    request.errorType === 'ConditionalCheckFailedException' ||
    request.errorType === 'PreconditionFailed' ||
    request.errorType === 'ConditionalRequestConflict' ||
    (request.service === 's3' && (request.status === 412 || request.status === 409) && request.errorType === undefined)
  );
}

/**
 * What a read of the lock found: true (a lock), false (none: DynamoDB GetItem
 * answered without an Item, S3 GetObject answered 404), undefined (the answer
 * is not known: failed otherwise, or its body was not kept).
 */
export function readFoundLock(request: BackendRequest): boolean | undefined {
  if (request.service === 's3') return succeeded(request) ? true : request.status === 404 ? false : undefined;
  if (!succeeded(request) || request.responseBody === undefined) return undefined;
  try {
    const body = JSON.parse(request.responseBody) as { Item?: unknown } | null;
    return typeof body === 'object' && body !== null && body.Item !== undefined;
  } catch {
    return undefined;
  }
}

/** The Lock Info text a put wrote: the item's Info attribute, or the object's body. */
export function lockInfoText(request: BackendRequest, target: LockTarget): string | undefined {
  return target.kind === 'item' ? request.item?.Info : request.body;
}
