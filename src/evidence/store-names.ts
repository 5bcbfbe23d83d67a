// The names a challenge's evidence carries about its store: where the state,
// the locks of the lab variant and the digest live. Judges read these; they
// never see the store itself.
import type { LabStore } from '../backend/lab-store.ts';
import type { LabVariant } from '../backend/lab-variant.ts';
import type { StateTarget } from './lock-history.ts';
import { labLockTargets, type LockTarget } from './lock-target.ts';

export interface StoreNames {
  variant: LabVariant;
  bucket: string;
  key: string;
  /** The lock table (dynamodb and both variants). */
  table?: string;
  /** "<bucket>/<key>": the lock item's LockID, and the Path of every Lock Info. */
  lockId: string;
  /** The digest item's LockID (bucket/key-md5), where a table exists. */
  digestId?: string;
  /** Every lock terraform takes in the variant, the one it takes first (the primary) first. */
  locks: LockTarget[];
}

export function storeNames(store: LabStore): StoreNames {
  return {
    variant: store.variant,
    bucket: store.bucket,
    key: store.key,
    lockId: store.lockId,
    locks: labLockTargets(store.variant, store.bucket, store.key),
    ...(store.table !== undefined ? { table: store.table } : {}),
    ...(store.digestId !== undefined ? { digestId: store.digestId } : {}),
  };
}

/** The lock terraform takes first: the one contention, attempts and holders are read from. */
export function primaryLock(names: StoreNames): LockTarget {
  const [primary] = names.locks;
  if (!primary) throw new Error(`variant ${names.variant} has no lock`);
  return primary;
}

/** The state, its digest (where a table exists) and every lock of the variant, for stateWrites. */
export function stateTarget(names: StoreNames): StateTarget {
  return { bucket: names.bucket, key: names.key, locks: names.locks, ...(names.digestId !== undefined ? { digestLockId: names.digestId } : {}) };
}
