import { describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitForFile } from './wait-for-file.ts';

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wait-file-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('waiting for a file, woken by the kernel', () => {
  test('returns once the file is written, and at once when it already exists', () =>
    withDir(async (dir) => {
      const file = path.join(dir, 'gate.entered');
      const waiting = waitForFile(file, { what: 'the marker', timeoutMs: 60_000 });
      let done = false;
      void waiting.then(() => (done = true));
      await writeFile(path.join(dir, 'other'), '');
      await new Promise((resolve) => setImmediate(resolve));
      expect(done).toBe(false);
      await writeFile(file, '');
      await waiting;
      await waitForFile(file, { what: 'the marker', timeoutMs: 1 });
    }));

  test('a process that ends first ends the wait with its error; so does a timeout, naming what was awaited', () =>
    withDir(async (dir) => {
      const file = path.join(dir, 'never');
      const exited = Promise.reject(new Error('the apply exited (1) before it held the lock'));
      await expect(waitForFile(file, { what: 'the marker', timeoutMs: 60_000, unless: exited })).rejects.toThrow('exited (1)');
      await expect(waitForFile(file, { what: 'the marker', timeoutMs: 30 })).rejects.toMatchObject({ code: 'WAIT_TIMEOUT', message: expect.stringContaining('the marker') });
    }));

  test('an abort ends the wait with its reason', () =>
    withDir(async (dir) => {
      const controller = new AbortController();
      const waiting = waitForFile(path.join(dir, 'never'), { what: 'the marker', timeoutMs: 60_000, signal: controller.signal });
      controller.abort(new Error('grading stopped'));
      await expect(waiting).rejects.toThrow('grading stopped');
    }));
});
