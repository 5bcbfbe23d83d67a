import { setTimeout as delay } from 'node:timers/promises';
import { LockgraderError } from '../errors.ts';

export interface WaitOptions {
  /** What is being waited for, for the timeout error. */
  what: string;
  timeoutMs: number;
  /** How often the condition is polled. */
  intervalMs?: number;
  signal?: AbortSignal;
}

// Polls `probe` until it returns a value other than undefined, or fails with
// WAIT_TIMEOUT naming what it waited for. This is an event wait (the lock item
// appearing, a marker file being written), not a fixed sleep: it returns as
// soon as the condition holds.
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, options: WaitOptions): Promise<T> {
  const { what, timeoutMs, intervalMs = 25, signal } = options;
  const started = performance.now();
  for (;;) {
    signal?.throwIfAborted();
    const value = await probe();
    if (value !== undefined) return value;
    const elapsedMs = performance.now() - started;
    if (elapsedMs >= timeoutMs) {
      throw new LockgraderError('WAIT_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`, { what, timeoutMs });
    }
    await delay(Math.min(intervalMs, timeoutMs - elapsedMs), undefined, { signal });
  }
}
