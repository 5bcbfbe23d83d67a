// Builds BackendRequest lists for judge table tests: each step is one request
// at a given ms, lasting 5 ms; seq is its position.
import { createHash } from 'node:crypto';
import { stateObject } from '../../src/backend/lab-store.ts';
import type { BackendRequest, ClientKind } from '../../src/evidence/backend-log.ts';
import type { StoreNames } from '../../src/evidence/store-names.ts';

export const BUCKET = 'lab-bucket';
export const KEY = 'lab/terraform.tfstate';
export const LOCK = `${BUCKET}/${KEY}`;
export const DIGEST = `${LOCK}-md5`;
export const OBJECT_KEY = `${KEY}.tflock`;
/** The store names of the three lab variants (primary lock first). */
export const NAMES: StoreNames = { variant: 'dynamodb', bucket: BUCKET, key: KEY, table: 'locks', lockId: LOCK, digestId: DIGEST, locks: [{ kind: 'item', lockId: LOCK }] };
export const NAMES_LOCKFILE: StoreNames = { variant: 'lockfile', bucket: BUCKET, key: KEY, lockId: LOCK, locks: [{ kind: 'object', bucket: BUCKET, key: OBJECT_KEY }] };
export const NAMES_BOTH: StoreNames = { ...NAMES, variant: 'both', locks: [{ kind: 'object', bucket: BUCKET, key: OBJECT_KEY }, { kind: 'item', lockId: LOCK }] };

export type Step = Partial<BackendRequest> & { at: number; run: string; operation: string };

export function requests(steps: Step[]): BackendRequest[] {
  return steps.map((step, seq) => {
    const client: ClientKind = step.client ?? 'terraform';
    return {
      seq,
      endAt: step.at + 5,
      connection: seq,
      service: step.service ?? (['PutObject', 'GetObject', 'CopyObject', 'DeleteObject', 'DeleteObjects', 'HeadObject'].includes(step.operation) ? 's3' : 'dynamodb'),
      conditional: false,
      status: 200,
      userAgent: client,
      client,
      ...step,
    };
  });
}

export const lockInfo = (id: string, operation = 'OperationTypeApply') =>
  JSON.stringify({ ID: id, Operation: operation, Info: '', Who: 'u@h', Version: '1.11.4', Created: '2026-11-27T10:00:00Z', Path: LOCK });

export const acquire = (at: number, run: string, id: string, operation = 'OperationTypeApply', extra: Partial<BackendRequest> = {}): Step => ({
  at,
  run,
  operation: 'PutItem',
  lockId: LOCK,
  conditional: true,
  condition: 'attribute_not_exists(LockID)',
  item: { LockID: LOCK, Info: lockInfo(id, operation) },
  ...extra,
});
export const refused = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ ...acquire(at, run, 'x'), status: 400, errorType: 'ConditionalCheckFailedException', ...extra });
export const readLock = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ at, run, operation: 'GetItem', lockId: LOCK, ...extra });
export const release = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ at, run, operation: 'DeleteItem', lockId: LOCK, conditional: true, condition: 'Info = :info', ...extra });
export const putState = (at: number, run: string, body: string, extra: Partial<BackendRequest> = {}): Step => ({ at, run, operation: 'PutObject', bucket: BUCKET, key: KEY, body, ...extra });
export const putDigest = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ at, run, operation: 'PutItem', lockId: DIGEST, item: { LockID: DIGEST }, ...extra });

/** A terraform apply by `run`: take the lock, write the state and digest, release. */
export function apply(at: number, run: string, id: string, body: string, extra: Partial<BackendRequest> = {}): Step[] {
  return [acquire(at, run, id, 'OperationTypeApply', extra), putState(at + 20, run, body, extra), putDigest(at + 30, run, extra), readLock(at + 40, run, extra), release(at + 50, run, extra)];
}

export const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

export const state = stateObject;

/** A state document: the lab's deployment (id `dep-<release>` unless given) and its release output. */
export const stateBody = (serial: number, release: string, lineage = 'L1', id = `dep-${release}`) =>
  JSON.stringify({
    version: 4,
    serial,
    lineage,
    outputs: { release: { value: release, type: 'string' } },
    resources: [{ mode: 'managed', type: 'terraform_data', name: 'deployment', instances: [{ attributes: { id, input: release, triggers_replace: release } }] }],
  });

// The S3 lock object (lockfile variants): terraform takes it with a conditional PutObject (If-None-Match: *),
// reads it with GetObject, releases it with DeleteObject.
export const acquireObject = (at: number, run: string, id: string, operation = 'OperationTypeApply', extra: Partial<BackendRequest> = {}): Step => ({
  at,
  run,
  operation: 'PutObject',
  bucket: BUCKET,
  key: OBJECT_KEY,
  conditional: true,
  body: lockInfo(id, operation),
  ...extra,
});
export const refusedObject = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ ...acquireObject(at, run, 'x'), status: 412, errorType: 'PreconditionFailed', ...extra });
export const readObject = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ at, run, operation: 'GetObject', bucket: BUCKET, key: OBJECT_KEY, ...extra });
export const releaseObject = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ at, run, operation: 'DeleteObject', bucket: BUCKET, key: OBJECT_KEY, status: 204, ...extra });

/** A terraform apply of the lockfile variant: take the .tflock, write the state (no digest), read and release the .tflock. */
export function applyLockfile(at: number, run: string, id: string, body: string, extra: Partial<BackendRequest> = {}): Step[] {
  return [acquireObject(at, run, id, 'OperationTypeApply', extra), putState(at + 20, run, body, extra), readObject(at + 40, run, extra), releaseObject(at + 50, run, extra)];
}

/** A terraform apply of the both variant: the .tflock first, then the item; state and digest; both released. */
export function applyBoth(at: number, run: string, id: string, body: string, extra: Partial<BackendRequest> = {}): Step[] {
  return [
    acquireObject(at, run, id, 'OperationTypeApply', extra),
    acquire(at + 5, run, id, 'OperationTypeApply', extra),
    putState(at + 20, run, body, extra),
    putDigest(at + 30, run, extra),
    readObject(at + 40, run, extra),
    releaseObject(at + 45, run, extra),
    readLock(at + 50, run, extra),
    release(at + 55, run, extra),
  ];
}

/**
 * The same history on the lockfile variant's store: every request on the lock item becomes the same request on
 * the .tflock object (PutItem -> PutObject with the Info as body, refused -> 412 PreconditionFailed, GetItem ->
 * GetObject, DeleteItem -> DeleteObject); digest requests go (there is no table). Judges must agree on both.
 */
export function toLockfile(steps: Step[]): Step[] {
  return steps.flatMap((step): Step[] => {
    if (step.lockId === DIGEST) return [];
    if (step.lockId !== LOCK) return [step];
    const { lockId: _lockId, item, condition: _condition, table: _table, ...rest } = step;
    const object = { ...rest, service: 's3' as const, bucket: BUCKET, key: OBJECT_KEY };
    switch (step.operation) {
      case 'PutItem':
        return [{ ...object, operation: 'PutObject', ...(item?.Info !== undefined ? { body: item.Info } : {}), ...(step.errorType === 'ConditionalCheckFailedException' ? { status: 412, errorType: 'PreconditionFailed' } : {}) }];
      case 'GetItem':
        return [{ ...object, operation: 'GetObject', conditional: false }];
      case 'DeleteItem':
        return [{ ...object, operation: 'DeleteObject', conditional: false, status: step.status ?? 204 }];
      default:
        return [{ ...object, operation: `Other:${step.operation}` }];
    }
  });
}
