import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { LockgraderError } from '../errors.ts';
import { exists } from './exists.ts';

export interface FileWaitOptions {
  /** What is being waited for, for the timeout error. */
  what: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Settles the wait early: its rejection is the wait's (a process that exited before it wrote the file). */
  unless?: Promise<never>;
}

// Waits for `file` to exist, woken by the kernel (inotify on its folder), not
// by polling: the folder is watched before the first look, so a file created
// in between is not missed. Fails with WAIT_TIMEOUT naming what it waited for.
export async function waitForFile(file: string, options: FileWaitOptions): Promise<void> {
  const { what, timeoutMs, signal } = options;
  signal?.throwIfAborted();
  const name = path.basename(file);
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const look = () => void exists(file).then((found) => found && resolve(), reject);
      watcher = watch(path.dirname(file), (_event, changed) => {
        if (changed === null || changed === name) look();
      });
      watcher.on('error', reject);
      timer = setTimeout(() => reject(new LockgraderError('WAIT_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`, { what, timeoutMs })), timeoutMs);
      onAbort = () => reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      options.unless?.catch(reject);
      look();
    });
  } finally {
    watcher?.close();
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
