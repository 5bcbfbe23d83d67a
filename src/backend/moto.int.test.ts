// moto's server as lockgrader runs it: on a loopback ephemeral port, stopped
// by its PID, and gone when the process that started it dies (even by SIGKILL).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, test } from '@jest/globals';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { repoPath } from '../paths.ts';
import { waitFor } from '../util/wait.ts';
import { createClients } from './lab-store.ts';
import { findMoto, startMotoBackend } from './moto.ts';
import { inCi } from '../../test/support/ci.ts';

const found = await findMoto();
const unavailable = 'problem' in found ? found.problem : undefined;
if (unavailable) process.stdout.write(`moto SKIPPED: ${unavailable}\n`);
const maybe = unavailable && !inCi() ? describe.skip : describe;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

maybe('moto backend', () => {
  test('serves S3 and DynamoDB on one loopback port it bound itself; stop() ends the process by its PID', async () => {
    const backend = await startMotoBackend();
    const pid = Number(/pid (\d+)/.exec(backend.description)?.[1]);
    try {
      expect(backend.endpoints.single).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(backend.endpoints.s3).toBe(backend.endpoints.dynamodb);
      expect(portOf(backend.endpoints.s3)).toBeGreaterThan(1023);
      expect(backend.capabilities.s3ConditionalWrites).toBe(true);
      expect(alive(pid)).toBe(true);
      const { s3, ddb } = createClients(backend);
      await expect(s3.send(new ListBucketsCommand({}))).resolves.toBeDefined();
      s3.destroy();
      ddb.destroy();
      process.stdout.write(`moto started in ${Math.round(backend.startMs)} ms (pid ${pid})\n`);
    } finally {
      await backend.stop();
    }
    expect(alive(pid)).toBe(false);
  }, 90_000);

  test('two servers get two ports', async () => {
    const [a, b] = await Promise.all([startMotoBackend(), startMotoBackend()]);
    try {
      expect(a.endpoints.s3).not.toBe(b.endpoints.s3);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 90_000);

  test('a grader killed with SIGKILL leaves no moto server behind', async () => {
    // A separate node process starts moto, prints its pid, and is then SIGKILLed: nothing of it may run on.
    const program = `
      const { startMotoBackend } = await import(${JSON.stringify(repoPath('src/backend/moto.ts'))});
      const backend = await startMotoBackend();
      console.log(/pid (\\d+)/.exec(backend.description)[1]);
      setInterval(() => undefined, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (line) => resolve(Number(line)));
      child.once('exit', (code) => reject(new Error(`the grader process exited (${code}) before moto started`)));
    });
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    await waitFor(() => (alive(pid) ? undefined : true), { what: `moto (pid ${pid}) to end after its parent was SIGKILLed`, timeoutMs: 10_000, intervalMs: 20 });
    expect(alive(pid)).toBe(false);
  }, 90_000);
});
