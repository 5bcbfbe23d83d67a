// A real redis-server (Debian's package) for tests: started on a free loopback
// port with its own folder (no snapshots, no append-only file), stopped by its
// PID. No mock and no in-memory substitute: where redis-server is missing the
// tests that need it are skipped with the reason printed — except in CI, where
// .ci/run installs it and a missing one is a failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findOnPath, isExecutable } from '../../src/util/find-on-path.ts';

export interface StartedRedis extends AsyncDisposable {
  url: string;
  port: number;
  pid: number;
  /** Its working folder (removed at stop). */
  dir: string;
  stop(): Promise<void>;
}

/** The redis-server binary (LOCKGRADER_REDIS_SERVER, else on PATH, else Debian's path), or why there is none. */
export async function locateRedisServer(): Promise<{ binary: string } | { reason: string }> {
  const named = process.env.LOCKGRADER_REDIS_SERVER;
  if (named) return (await isExecutable(named)) ? { binary: named } : { reason: `LOCKGRADER_REDIS_SERVER=${named} is not an executable` };
  const found = (await findOnPath('redis-server', process.env.PATH ?? '')) ?? ((await isExecutable('/usr/bin/redis-server')) ? '/usr/bin/redis-server' : undefined);
  if (found) return { binary: found };
  return { reason: 'redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)' };
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

// Resolves when redis-server says it accepts connections; rejects when it exits first.
function whenReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => finish(new Error(`redis-server not ready after ${timeoutMs} ms: ${output.slice(-500)}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) finish();
    };
    const onExit = (code: number | null): void => finish(new Error(`redis-server exited (${code}) before it was ready: ${output.slice(-500)}`));
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.stdout?.resume(); // keep draining its log
      if (error) reject(error);
      else resolve();
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

async function stopChild(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  process.kill(child.pid as number, 'SIGTERM');
  const timer = setTimeout(() => child.exitCode === null && child.signalCode === null && process.kill(child.pid as number, 'SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

// Starts redis-server on 127.0.0.1 at a free port (a port taken in between is retried).
export async function startRedisServer(binary: string, options: { readyTimeoutMs?: number } = {}): Promise<StartedRedis> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lockgrader-test-redis-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freeLoopbackPort();
    const child = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', '', '--maxmemory-policy', 'noeviction'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stderr?.resume();
    try {
      await whenReady(child, options.readyTimeoutMs ?? 15_000);
    } catch (error) {
      lastError = error;
      await stopChild(child);
      continue;
    }
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> => (stopped ??= (async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    })());
    return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid as number, dir, stop, [Symbol.asyncDispose]: stop };
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}
