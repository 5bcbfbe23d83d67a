// Who held the state lock when, and who wrote the state, read from a
// BackendLog's requests. Pure functions (no I/O) so each rule has a table test.
// A lock is a LockTarget (lock-target.ts): the DynamoDB item or the S3
// .tflock object, read alike; a plain string is the item's LockID.
//
// Timing rule: the backend acts somewhere between a request's `at` and its
// `endAt`; the relay cannot see exactly when. A lock therefore counts as held
// from the END of the conditional put that took it (the holder learnt it had
// it) until the START of the delete that released it (the releaser gave it up
// when it asked). This is the narrower, certain interval: a write inside it was
// surely made under the lock. A write is placed at its request's `at`.
import type { BackendRequest, ClientKind, RequestSender } from './backend-log.ts';
import { isAcquire, isRefusal, isRelease, lockAction, lockInfoText, succeeded, type LockTarget } from './lock-target.ts';

/** A lock: a LockTarget, or the DynamoDB item's LockID. */
export type LockRef = LockTarget | string;

export function lockTarget(ref: LockRef): LockTarget {
  return typeof ref === 'string' ? { kind: 'item', lockId: ref } : ref;
}

export interface LockEpisode {
  run: string;
  /** endAt of the conditional put (PutItem, PutObject If-None-Match) that took the lock. */
  acquiredAt: number;
  /** at of the delete that released it; undefined while still held at the end of the log. */
  releasedAt?: number;
  /** ID inside the Lock Info the holder wrote (undefined when it is not JSON or has no ID). */
  lockInfoId?: string;
  /** Operation inside that Info (OperationTypeApply, ...). */
  operation?: string;
  client: ClientKind;
  /**
   * The delete that released it. Undefined when the episode is still open,
   * or when it ended without a delete through a relay (a later acquire
   * proves the lock went away unseen: then releasedAt is that acquire's time).
   */
  releasedBy?: { run: string; client: ClientKind; conditional: boolean; at: number };
  /** seq of the acquiring put. */
  acquireSeq: number;
  /** The process that sent the acquiring put, where the run's connections were traced (BackendRequest.sender). */
  sender?: RequestSender;
}

export type AttemptOutcome = 'acquired' | 'refused' | 'error';

export interface LockAttempt {
  seq: number;
  at: number;
  endAt: number;
  outcome: AttemptOutcome;
  conditional: boolean;
  status: number;
  errorType?: string;
  client: ClientKind;
}

export interface StateWrite {
  seq: number;
  at: number;
  run: string;
  client: ClientKind;
  /** 'state': the S3 state object; 'digest': the DynamoDB "-md5" item (where a table exists). */
  target: 'state' | 'digest';
  operation: string;
  status: number;
  succeeded: boolean;
  /**
   * The writer held every lock of the lab when it sent the write (per lockEpisodes): its run did, and where the
   * run's connections were traced, the very process that took each lock sent the write (a program writing the
   * state while a terraform of the same run holds the lock is not the holder).
   */
  lockedByWriter: boolean;
  /** Set when the writer's run held the locks but another of its processes took them: who sent the write, and who took the lock. */
  notTheHolder?: { writer: string; holder: string };
}

// The Info attribute or .tflock body is terraform's LockInfo JSON, but a
// learner may write anything there (or nothing); only string fields are taken.
function parseInfo(info: string | undefined): { id?: string; operation?: string } {
  if (info === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(info);
    if (typeof parsed !== 'object' || parsed === null) return {};
    const { ID, Operation } = parsed as Record<string, unknown>;
    return {
      ...(typeof ID === 'string' ? { id: ID } : {}),
      ...(typeof Operation === 'string' ? { operation: Operation } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * The lock's episodes in time order: a successful conditional put of the lock
 * opens one, a successful delete of it closes the open one. A delete with no
 * open episode (nothing held) changes nothing.
 */
export function lockEpisodes(requests: readonly BackendRequest[], lock: LockRef): LockEpisode[] {
  const target = lockTarget(lock);
  type Event = { time: number; seq: number; kind: 'acquire' | 'release'; request: BackendRequest };
  const events: Event[] = [];
  for (const request of requests) {
    if (isAcquire(request, target)) {
      events.push({ time: request.endAt, seq: request.seq, kind: 'acquire', request });
    } else if (isRelease(request, target)) {
      events.push({ time: request.at, seq: request.seq, kind: 'release', request });
    }
  }
  events.sort((a, b) => a.time - b.time || a.seq - b.seq);

  const episodes: LockEpisode[] = [];
  let open: LockEpisode | undefined;
  for (const { time, kind, request } of events) {
    if (kind === 'release') {
      if (!open) continue;
      open.releasedAt = time;
      open.releasedBy = { run: request.run, client: request.client, conditional: request.conditional, at: request.at };
      open = undefined;
      continue;
    }
    // A second acquire while one is open: the lock was removed where no relay
    // saw it (the backend's own console, an expired table...). Close the old
    // episode at the new acquire, without a releaser.
    if (open) open.releasedAt = time;
    const info = parseInfo(lockInfoText(request, target));
    open = {
      run: request.run,
      acquiredAt: time,
      client: request.client,
      acquireSeq: request.seq,
      ...(request.sender !== undefined ? { sender: request.sender } : {}),
      ...(info.id !== undefined ? { lockInfoId: info.id } : {}),
      ...(info.operation !== undefined ? { operation: info.operation } : {}),
    };
    episodes.push(open);
  }
  return episodes;
}

/** Every put of the lock sent through run, oldest first, with what came of it. */
export function lockAttempts(requests: readonly BackendRequest[], lock: LockRef, run: string): LockAttempt[] {
  const target = lockTarget(lock);
  return requests
    .filter((request) => request.run === run && lockAction(request, target) === 'put')
    .sort((a, b) => a.at - b.at || a.seq - b.seq)
    .map((request) => {
      const outcome: AttemptOutcome = succeeded(request) ? 'acquired' : isRefusal(request) ? 'refused' : 'error';
      return {
        seq: request.seq,
        at: request.at,
        endAt: request.endAt,
        outcome,
        conditional: request.conditional,
        status: request.status,
        client: request.client,
        ...(request.errorType !== undefined ? { errorType: request.errorType } : {}),
      };
    });
}

/**
 * Whether the process that sent a request is the one that took a lock: only decided where both were traced
 * (a run whose connections were not traced is judged by its run label alone).
 */
function sameSender(holder: RequestSender | undefined, writer: RequestSender | undefined): boolean {
  if (holder === undefined || writer === undefined) return true;
  return holder.pid !== undefined && holder.pid === writer.pid;
}

function episodeAt(episodes: readonly LockEpisode[], at: number): LockEpisode | undefined {
  return episodes.find((episode) => episode.acquiredAt <= at && (episode.releasedAt === undefined || at < episode.releasedAt));
}

/** The run holding the lock at time `at` (epoch ms), or undefined when nobody held it. */
export function holderAt(requests: readonly BackendRequest[], lock: LockRef, at: number): string | undefined {
  return episodeAt(lockEpisodes(requests, lock), at)?.run;
}

export interface StateTarget {
  bucket: string;
  /** The state object's key (with any workspace prefix). */
  key: string;
  /** The digest item's LockID: "<bucket>/<key>-md5" (only where a lock table exists). */
  digestLockId?: string;
  /** The lab's locks (every one must be held by a writer); the item "<bucket>/<key>" by default (lock-protocol.md §1). */
  locks?: readonly LockRef[];
}

// CompleteMultipartUpload and PostObject write the key too (c3-cheat-multipart-state: an unlocked state uploaded in
// parts was no write at all to the evidence). A PostObject whose key was not read (its form not kept) may be the state.
const STATE_WRITES = new Set(['PutObject', 'CopyObject', 'DeleteObject', 'CompleteMultipartUpload', 'PostObject']);
const DIGEST_WRITES = new Set(['PutItem', 'DeleteItem', 'UpdateItem']);

/**
 * Every write of the state object (S3 PutObject/CopyObject/DeleteObject/CompleteMultipartUpload/PostObject on
 * the key, DeleteObjects naming it, a PostObject whose key is not known) and of the digest item (PutItem/DeleteItem/
 * UpdateItem on its LockID), failed ones included, each judged: did the
 * writer's run hold every lock of the lab then? (In the `both` variant a
 * write under only one of the two locks is not a locked write.)
 */
export function stateWrites(requests: readonly BackendRequest[], target: StateTarget): StateWrite[] {
  const locks = target.locks ?? [`${target.bucket}/${target.key}`];
  const episodes = locks.map((lock) => lockEpisodes(requests, lock));
  const writes: StateWrite[] = [];
  for (const request of requests) {
    let kind: StateWrite['target'] | undefined;
    if (
      request.service === 's3' &&
      request.bucket === target.bucket &&
      ((request.key === target.key && STATE_WRITES.has(request.operation)) ||
        (request.operation === 'DeleteObjects' && request.keys?.includes(target.key) === true) ||
        (request.operation === 'PostObject' && request.key === undefined))
    ) {
      kind = 'state';
    } else if (target.digestLockId !== undefined && request.service === 'dynamodb' && request.lockId === target.digestLockId && DIGEST_WRITES.has(request.operation)) {
      kind = 'digest';
    }
    if (!kind) continue;
    const held = episodes.map((list) => episodeAt(list, request.at));
    const byRun = episodes.length > 0 && held.every((episode) => episode?.run === request.run);
    const other = byRun ? held.find((episode) => !sameSender(episode?.sender, request.sender)) : undefined;
    writes.push({
      seq: request.seq,
      at: request.at,
      run: request.run,
      client: request.client,
      target: kind,
      operation: request.operation,
      status: request.status,
      succeeded: succeeded(request),
      lockedByWriter: byRun && other === undefined,
      ...(other ? { notTheHolder: { writer: request.sender?.detail ?? 'another process', holder: other.sender?.detail ?? 'another process' } } : {}),
    });
  }
  return writes.sort((a, b) => a.at - b.at || a.seq - b.seq);
}

const READS = new Set(['GetObject', 'HeadObject', 'ListObjects', 'ListBuckets', 'HeadBucket', 'ListParts', 'Other:GET', 'Other:HEAD']);

/**
 * An S3 write the relay refused for its Host header (BackendRequest.hostRefused): a Host the relay cannot read the
 * bucket from as the backend does. Honest clients use the endpoint they were given; a write sent that way is a write
 * around the evidence (c3-cheat-host-header-bucket wrote the state unseen before the relay refused such requests).
 */
export function isHostRefusedWrite(request: BackendRequest): boolean {
  return request.hostRefused !== undefined && request.service === 's3' && !READS.has(request.operation);
}
