// Runs `lockgrader worker` as a real child process for tests: started with its
// own environment, ready when it says so, stopped by PID (SIGTERM, or SIGKILL
// to play a crashed machine).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { lockgraderCommand } from '../../src/cli-command.ts';
import { repoPath } from '../../src/paths.ts';

export interface RunningWorker {
  child: ChildProcess;
  pid: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the first output line matching. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM (or the given signal), then its exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startWorker(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunningWorker> {
  const child = spawn(...lockgraderCommand(['worker', ...args]), { cwd: repoPath(), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const waiter of waiters) waiter();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const waitForLine = (pattern: RegExp, timeoutMs = 60_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const line = output.split('\n').find((text) => pattern.test(text));
        if (line !== undefined) finish(() => resolve(line));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`worker ${child.pid}: no line matching ${pattern} after ${timeoutMs} ms; output:\n${output}`))), timeoutMs);
      const finish = (then: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        then();
      };
      void exited.then(() => setImmediate(() => waiters.has(check) && finish(() => reject(new Error(`worker ${child.pid} exited; output:\n${output}`)))));
      waiters.add(check);
      check();
    });
  const worker: RunningWorker = {
    child,
    pid: child.pid as number,
    output: () => output,
    waitForLine,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, signal);
      return exited;
    },
  };
  await waitForLine(/^worker: ready: /, 120_000);
  return worker;
}
