// moto's server (PyPI `moto[server]`, Apache-2.0) as a backend: S3 and
// DynamoDB on one loopback port, S3 honouring If-None-Match: * (what
// use_lockfile needs, and the embedded s3rver does not). It runs from a
// private virtual environment that scripts/install-moto.sh builds (./dev and
// .ci/run call it), pinned by scripts/moto-requirements.txt. Each server is a
// child process of this one, started on an ephemeral port it binds itself
// (src/backend/moto-server.py), stopped by its PID; it also ends when this
// process dies (its stdin pipe closes; PR_SET_PDEATHSIG).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { LockgraderError } from '../errors.ts';
import { repoPath } from '../paths.ts';
import { registerExitCleanup } from '../util/exit-cleanup.ts';
import type { BackendAvailability, StartedBackend } from './types.ts';
import { exists } from '../util/exists.ts';

/** moto accepts any key pair; these are the emulators' usual ones. */
export const MOTO_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test', region: 'us-east-1' } as const;
const REQUIREMENTS = repoPath('scripts/moto-requirements.txt');
const LAUNCHER = repoPath('src/backend/moto-server.py');
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 2_000;

export interface MotoInstallation {
  /** The venv's python (or LOCKGRADER_MOTO_PYTHON). */
  python: string;
  /** The pinned moto version (scripts/moto-requirements.txt). */
  version: string;
  /** The venv folder scripts/install-moto.sh made. */
  dir: string;
}

/** The pinned version and the venv folder, computed exactly as scripts/install-moto.sh does. */
export async function motoPin(env: NodeJS.ProcessEnv = process.env): Promise<{ version: string; dir: string }> {
  const text = await readFile(REQUIREMENTS, 'utf8');
  const version = /^moto(?:\[[a-z,]*\])?==([^\s;]+)/m.exec(text)?.[1];
  if (!version) throw new LockgraderError('INTERNAL', `${REQUIREMENTS} has no moto==VERSION line`);
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 12);
  const cacheRoot = env.LOCKGRADER_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'lockgrader');
  return { version, dir: path.join(cacheRoot, 'moto', `${version}-${digest}`) };
}

/** Where moto is installed, or why it is not. */
export async function findMoto(env: NodeJS.ProcessEnv = process.env): Promise<MotoInstallation | { problem: string }> {
  const { version, dir } = await motoPin(env);
  if (env.LOCKGRADER_MOTO_PYTHON) return { python: env.LOCKGRADER_MOTO_PYTHON, version, dir: path.dirname(path.dirname(env.LOCKGRADER_MOTO_PYTHON)) };
  const python = path.join(dir, 'venv', 'bin', 'python');
  if ((await exists(path.join(dir, 'installed'))) && (await exists(python))) return { python, version, dir };
  return { problem: `moto ${version} is not installed in ${dir} (scripts/install-moto.sh installs it; ./dev runs it)` };
}

export async function motoAvailability(env: NodeJS.ProcessEnv = process.env): Promise<BackendAvailability> {
  const found = await findMoto(env);
  if ('problem' in found) return { kind: 'moto', available: false, reason: found.problem };
  return { kind: 'moto', available: true, reason: `moto ${found.version} (moto_server from ${found.dir}), a private server per challenge on loopback` };
}

/** The first stdout line of the launcher: the port it bound. */
function readAnnouncement(child: ChildProcess, stderr: () => string): Promise<{ port: number; moto: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => fail(`it did not announce its port within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const done = () => {
      clearTimeout(timer);
      lines.close();
      child.off('exit', onExit);
      child.off('error', onError);
    };
    const fail = (why: string) => {
      done();
      reject(new Error(`${why}${stderr() ? `; its stderr: ${stderr().trim().split('\n').slice(-8).join(' | ')}` : ''}`));
    };
    const onExit = (code: number | null, signal: string | null) => fail(`it exited (${code ?? signal}) before announcing its port`);
    const onError = (error: Error) => fail(error.message);
    child.once('exit', onExit);
    child.once('error', onError);
    lines.once('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { port?: unknown; moto?: unknown; pid?: unknown };
        if (typeof parsed.port !== 'number') throw new Error('no port');
        done();
        resolve({ port: parsed.port, moto: String(parsed.moto), pid: Number(parsed.pid) });
      } catch {
        fail(`its first line was not the port announcement: ${line.slice(0, 200)}`);
      }
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

// Starts one moto server on 127.0.0.1 (an ephemeral port it binds itself)
// and resolves once it answers; stop() ends it by its PID (SIGTERM, then
// SIGKILL after 2 s) and waits until it has exited.
export async function startMotoBackend(env: NodeJS.ProcessEnv = process.env): Promise<StartedBackend> {
  const started = performance.now();
  const found = await findMoto(env);
  if ('problem' in found) throw new LockgraderError('BACKEND_UNAVAILABLE', `the moto backend cannot run here: ${found.problem}`, { kind: 'moto' });
  // Nothing of the grader's environment reaches the server: it needs none of it.
  const child = spawn(found.python, [LAUNCHER], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: homedir(), LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1', LOCKGRADER_PARENT_PID: String(process.pid) },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += chunk.toString('utf8');
  });
  child.stdin!.on('error', () => undefined);
  const unregister = registerExitCleanup(() => {
    child.kill('SIGKILL');
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      unregister();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const grace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited(child);
        clearTimeout(grace);
      }
      child.stdin!.destroy();
    })();
    return stopping;
  };
  try {
    const announced = await readAnnouncement(child, () => stderr);
    child.stdout!.resume();
    const url = `http://127.0.0.1:${announced.port}`;
    return {
      kind: 'moto',
      endpoints: { s3: url, dynamodb: url, single: url },
      credentials: { ...MOTO_CREDENTIALS },
      description: `moto ${announced.moto} (moto_server, pid ${child.pid}, ${url})`,
      startMs: performance.now() - started,
      capabilities: { s3ConditionalWrites: true },
      stop,
    };
  } catch (error) {
    await stop();
    throw new LockgraderError('BACKEND_FAILED', `moto's server did not start: ${(error as Error).message}`, { kind: 'moto', python: found.python }, { cause: error });
  }
}
