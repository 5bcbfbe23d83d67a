// One grading as a `lockgrader grade` child process, exactly as `grade` runs
// (its own embedded backend and sandbox). Its standard input is a lifeline
// (grade --stdin-lifeline): if this process dies, the child stops and cleans
// up. Its progress arrives as JSON lines on stdout. Aborting the signal sends
// SIGTERM (grade ends its processes and removes its folders), then SIGKILL to
// whatever is left after killAfterMs.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { lockgraderCommand } from '../cli-command.ts';
import type { ChallengeNumber } from '../grading/types.ts';
import type { GradeProgress } from '../grading/grade.ts';
import { killDescendants } from '../util/kill-by-token.ts';

export interface GradeChildOptions {
  submissionDir: string;
  resultsFile: string;
  challenges?: readonly ChallengeNumber[];
  scriptTimeoutSeconds?: number;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  onProgress?: (progress: GradeProgress) => void;
  killAfterMs?: number;
}

export interface GradeChildEnd {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines of its stderr, joined with " | ". */
  stderrTail: string;
  durationMs: number;
}

const STDERR_KEEP = 8 * 1024;

/** grade's arguments for one queued grading. */
export function gradeChildArgs(options: Pick<GradeChildOptions, 'submissionDir' | 'resultsFile' | 'challenges' | 'scriptTimeoutSeconds'>): string[] {
  return [
    'grade',
    options.submissionDir,
    '--json',
    options.resultsFile,
    '--quiet',
    '--progress-json',
    '--stdin-lifeline',
    ...(options.challenges ? ['--challenges', options.challenges.join(',')] : []),
    ...(options.scriptTimeoutSeconds !== undefined ? ['--script-timeout', String(options.scriptTimeoutSeconds)] : []),
  ];
}

function parseProgress(line: string): GradeProgress | undefined {
  try {
    const value = JSON.parse(line) as GradeProgress;
    return value && (value.event === 'challenge-started' || value.event === 'challenge-finished') ? value : undefined;
  } catch {
    return undefined;
  }
}

export function runGradeChild(options: GradeChildOptions): Promise<GradeChildEnd> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(...lockgraderCommand(gradeChildArgs(options)), { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    child.stdin.on('error', () => undefined);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const progress = parseProgress(line);
      if (progress) options.onProgress?.(progress);
    });
    const stop = (): void => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => {
        void killDescendants(child.pid).then(() => child.kill('SIGKILL'));
      }, options.killAfterMs ?? 15_000);
    };
    if (options.signal.aborted) stop();
    else options.signal.addEventListener('abort', stop, { once: true });
    const done = (exitCode: number | null, signal: NodeJS.Signals | null, extra = ''): void => {
      clearTimeout(killTimer);
      options.signal.removeEventListener('abort', stop);
      child.stdin.destroy();
      const stderrTail = `${stderr}${extra}`.trim().split('\n').slice(-3).join(' | ');
      resolve({ exitCode, signal, stderrTail, durationMs: performance.now() - started });
    };
    child.once('error', (error) => done(null, null, String(error)));
    child.once('close', (code, signal) => done(code, signal));
  });
}
