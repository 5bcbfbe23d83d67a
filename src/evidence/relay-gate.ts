// A gate on one run's lock writes, at that run's relay. While it is closed, a
// request that would take a lock (DynamoDB PutItem, S3 PutObject of a
// .tflock) waits at the relay, not yet forwarded; opening the gate forwards
// the waiting requests in the order they arrived. To the client this is only a
// slow answer.
//
// Challenge 3 closes it while another apply lets go of the lock: terraform
// gives up at once, whatever its -lock-timeout, when the lock it was refused
// is gone before it reads it (lock-protocol.md §4). With the gate closed no
// new attempt of the pipeline can be refused while the lock goes, and the
// grader waits, before the release, for the read that follows an attempt
// refused before the gate closed (challenge3/scenario.ts). Pausing the
// pipeline's processes instead left a request sent just before the pause to
// arrive, and be refused, after it: a put answered during the release.
import type { BackendService } from './backend-log.ts';

/** What the relay knows of a request from its head, before reading its body. */
export interface RequestHead {
  service: BackendService;
  /** DynamoDB: the X-Amz-Target operation; S3: the operation its method and URL make. */
  operation: string | undefined;
  /** S3: the object key. */
  key?: string;
}

/** A request that writes a lock: a DynamoDB PutItem (the lock item, or the digest terraform writes with it), or a PutObject of a .tflock. */
export function isLockWrite(head: RequestHead): boolean {
  if (head.service === 'dynamodb') return head.operation === 'PutItem';
  return head.operation === 'PutObject' && (head.key ?? '').endsWith('.tflock');
}

export class LockWriteGate {
  private opened: Promise<void> | undefined;
  private openNow: (() => void) | undefined;
  /** Requests held so far (for the timeline). */
  heldCount = 0;

  get closed(): boolean {
    return this.opened !== undefined;
  }

  close(): void {
    if (this.opened) return;
    this.opened = new Promise((resolve) => (this.openNow = resolve));
  }

  open(): void {
    this.openNow?.();
    this.opened = this.openNow = undefined;
  }

  /** For the relay: undefined to forward the request now, or a promise to forward it once it resolves. */
  hold(head: RequestHead): Promise<void> | undefined {
    if (!this.opened || !isLockWrite(head)) return undefined;
    this.heldCount += 1;
    return this.opened;
  }
}
