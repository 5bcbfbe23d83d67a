import { constants } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LabStoreReader, type LockInfo } from '../backend/lab-store.ts';
import { LockgraderError } from '../errors.ts';
import { waitFor } from '../util/wait.ts';
import type { Workspace } from '../workspace/workspace.ts';
import { applyArgs } from './args.ts';
import type { CommandResult } from './command-result.ts';
import type { RunningCommand } from './run.ts';
import { waitForFile } from '../util/wait-for-file.ts';

/** An apply that holds the state lock inside its deploy step until released or killed; disposing kills it if it still runs. */
export interface LockHolder extends AsyncDisposable {
  process: RunningCommand;
  /** The holder's lock, as read from the lock table once it appeared. */
  lock: LockInfo;
  /** Raw Info JSON of the lock item. */
  lockRaw: string;
  /** When the lock item was first seen (epoch ms). */
  heldAt: number;
  /** Opens the gate: the apply finishes and releases the lock. */
  release(): Promise<CommandResult>;
  /** SIGKILLs the terraform process itself (nothing of it runs on), then its children. */
  kill(): Promise<CommandResult>;
}

export interface StartHolderOptions {
  vars?: Record<string, string>;
  /** How long to wait for the lock item and the deploy step (default 60 s). */
  timeoutMs?: number;
  /** Hold the lock under this host name (its Who is then not the machine's user@host). */
  hostname?: string;
  signal?: AbortSignal;
}

// Starts `apply` with the gate armed, then waits for two events: the lock
// item exists in the table, and the deploy step has started (its marker file).
// Fails with REPLAY_FAILED, carrying the apply's output, if the apply exits first.
export async function startLockHolder(workspace: Workspace, options: StartHolderOptions = {}): Promise<LockHolder> {
  const gate = path.join(workspace.root, `gate-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
  const running = workspace.start(applyArgs({ vars: options.vars }), { env: { LOCKGRADER_GATE: gate }, hostname: options.hostname, signal: options.signal });
  const reader = new LabStoreReader(workspace.store);
  const exitedFirst = running.result.then((result): never => {
    throw new LockgraderError('REPLAY_FAILED', `the holder's apply exited (${result.exitCode}) before it held the lock`, {
      exitCode: result.exitCode,
      output: result.all.slice(-4000),
    });
  });
  try {
    // Terraform takes the lock before it runs the deploy step, so once the step has begun the lock is there.
    await waitForFile(`${gate}.entered`, {
      what: 'the holding apply to take the lock and enter its deploy step',
      timeoutMs: options.timeoutMs ?? 60_000,
      signal: options.signal,
      unless: exitedFirst,
    });
    const lock = await waitFor(
      async () => {
        const item = await reader.readLock();
        return item?.info ? { info: item.info, raw: item.raw } : undefined;
      },
      { what: "the holding apply's lock (its deploy step has begun)", timeoutMs: 5_000, intervalMs: 20, signal: options.signal },
    );
    const heldAt = Date.now();
    return {
      process: running,
      lock: lock.info,
      lockRaw: lock.raw,
      heldAt,
      async release() {
        await writeFile(gate, '');
        await wake(`${gate}.wake`);
        return running.result;
      },
      async kill() {
        running.signal('SIGKILL');
        const result = await running.result;
        running.killAll();
        return result;
      },
      async [Symbol.asyncDispose]() {
        if (!running.exited()) {
          running.signal('SIGKILL');
          await running.result;
        }
        running.killAll();
      },
    };
  } catch (error) {
    running.killAll();
    await running.result;
    throw error;
  } finally {
    reader.close();
  }
}

// The deploy step waits on a FIFO (terraform/main.tf) instead of forking a
// `sleep` every 20 ms: a byte written here wakes it at once. Opened read-write
// a FIFO never blocks, and the step holds it open, so the byte waits for its
// read. Without the FIFO (a step that could not make one polls the gate file)
// there is nothing to wake.
async function wake(fifo: string): Promise<void> {
  try {
    const handle = await open(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      await handle.write('x');
    } finally {
      await handle.close();
    }
  } catch {
    // no FIFO: the step sees the gate file within its next poll
  }
}
