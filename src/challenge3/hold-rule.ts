// When the challenge-3 holder may let go at its time bound. The bound (HOLD_AT_MOST_MS after the pipeline
// started) exists for a pipeline that first waits for the lock to clear by looking at it (polling the lock item or
// the .tflock): it must not be deadlocked against the holder. A pipeline that does not look at the lock at all —
// `sleep 12; terraform apply` with no -lock-timeout — must not be let through by it: before this rule the lock went
// at 8 s whatever the pipeline did, and such a pipeline's apply found it free and passed
// c3.waits-through-contention without ever waiting on the lock (c3-cheat-sleep-past-holder, 30/35).
// Pure: the scenario (scenario.ts) feeds it the backend log.
import type { BackendRequest } from '../evidence/backend-log.ts';
import { lockAction } from '../evidence/lock-target.ts';
import { possibleSenders } from '../evidence/request-senders.ts';
import type { StoreNames } from '../evidence/store-names.ts';

/** A poller looks at the lock at least this often (the honest poll fixture: every 2 s, plus the AWS CLI's start). */
export const POLLING_WINDOW_MS = 5_000;

/**
 * Whether a request of `run` looks at the lock: a put, read or delete of a lock of the variant, any request on the
 * lock table (GetItem, Scan, Query...), or, where the lock is an object, any request on it (HeadObject) and a
 * listing of its bucket (`aws s3 ls s3://bucket/key.tflock`).
 */
export function looksAtLock(request: BackendRequest, names: StoreNames, run: string): boolean {
  if (request.run !== run) return false;
  if (names.locks.some((lock) => lockAction(request, lock) !== undefined)) return true;
  if (request.service === 'dynamodb') return names.table !== undefined && request.table === names.table;
  return names.locks.some((lock) => lock.kind === 'object' && request.bucket === lock.bucket && (request.key === lock.key || request.operation === 'ListObjects'));
}

/** At the bound: whether `run` is looking at the lock, a request of its looking at it started within POLLING_WINDOW_MS before `now`. */
export function pollingAt(requests: readonly BackendRequest[], names: StoreNames, run: string, now: number): boolean {
  return requests.some((request) => request.at >= now - POLLING_WINDOW_MS && looksAtLock(request, names, run));
}

/**
 * Whether terraform/tofu sent a request: its client kind, and where the run is watched a real terraform process that
 * can have sent it (its traced sender). Only terraform's refused attempts and reads count towards the release rule:
 * the AWS CLI playing terraform's part (two refused conditional put-items and a get-item, then an apply with no
 * -lock-timeout a moment later) made the holder let go at once and passed c3.waits-through-contention
 * (c3-cheat-fake-refusals, 25/35).
 */
export function sentByTerraform(request: BackendRequest): boolean {
  if (request.client !== 'terraform' && request.client !== 'tofu') return false;
  const senders = possibleSenders(request);
  return senders === undefined || senders.length > 0;
}
