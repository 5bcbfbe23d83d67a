// `lockgrader grade-many`: grades many submissions at once, each as its own
// `lockgrader grade` child process with its own embedded emulators (one per
// challenge) and its own sandbox: a hostile submission cannot reach the
// buckets and tables of the gradings next to it, a crash takes one grading
// down, and the batch is not serialised through one backend process.
import { parseLimitOptions } from '../learner/limits.ts';
import { lockgraderCommand } from '../cli-command.ts';
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { LockgraderError } from '../errors.ts';
import { COMMANDS, parseArgsOptions } from './option-tables.ts';
import { parseCommandArgs } from './parse-command-args.ts';
import { parseChallenges } from '../grading/checks.ts';
import type { GradeResult } from '../grading/types.ts';
import { locateTerraform } from '../terraform/locate.ts';

export const DEFAULT_OUT_DIR = path.join('reports', 'grade-many');

/** What happened to one submission. */
export interface GradingOutcome {
  /** The results file's name without ".json" (the folder's name, made unique). */
  name: string;
  /** The submission folder, absolute. */
  dir: string;
  /** graded / error as in the results file; missing = not a readable folder, skipped. */
  status: 'graded' | 'error' | 'missing';
  score?: number;
  max_score?: number;
  /** Wall time of this grading (its child process), 0 when skipped. */
  seconds: number;
  /** The results JSON, when the grading wrote one. */
  resultsFile?: string;
  /** Why it is an error or was skipped. */
  message?: string;
}

export interface BatchSummary {
  submissions: number;
  graded: number;
  errors: number;
  missing: number;
  wallSeconds: number;
  /** Gradings completed (graded or error) per minute of wall time. */
  gradingsPerMinute: number;
}

// ---- pure parts (unit-tested in grade-many.test.ts) ----

/** A --list file: one folder per line; blank lines and lines starting with # are ignored. */
export function parseListText(text: string): string[] {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * Results file names, one per folder and in the same order: the folder's own
 * name (characters outside [A-Za-z0-9._-] become "_"); a name already taken
 * gets "-2", "-3", ... so two folders never share a results file.
 */
export function resultNames(dirs: readonly string[]): string[] {
  return uniqueNames(dirs.map((dir) => path.basename(path.resolve(dir)).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '') || 'submission'));
}

/** The names in order, a repeated one suffixed "-2", "-3", ... */
export function uniqueNames(bases: readonly string[]): string[] {
  const taken = new Set<string>();
  return bases.map((base) => {
    let name = base;
    for (let n = 2; taken.has(name); n += 1) name = `${base}-${n}`;
    taken.add(name);
    return name;
  });
}

/** --concurrency: a whole number >= 1; the default is the machine's parallelism. */
export function parseConcurrency(value: string | undefined, fallback: number): number {
  if (value === undefined) return Math.max(1, fallback);
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new LockgraderError('USAGE', `--concurrency takes a whole number >= 1 (got "${value}")`, { flag: '--concurrency', value });
  return number;
}

/** --script-timeout: seconds >= 0, passed on to every grading. */
export function parseScriptTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new LockgraderError('USAGE', `--script-timeout takes a number >= 0 (got "${value}")`, { flag: '--script-timeout', value });
  return number;
}

/** One line per submission: status, score, seconds, name (and why, when not graded). */
export function formatOutcome(outcome: GradingOutcome): string {
  const score = outcome.score === undefined ? '-' : `${outcome.score}/${outcome.max_score ?? '?'}`;
  const seconds = outcome.status === 'missing' ? '-' : `${outcome.seconds.toFixed(1)} s`;
  const why = outcome.message ? `  — ${outcome.message.split('\n')[0]}` : '';
  return `${outcome.status.padEnd(7)} ${score.padStart(7)} ${seconds.padStart(8)}  ${outcome.name}${why}`;
}

export function summarize(outcomes: readonly GradingOutcome[], wallMs: number): BatchSummary {
  const graded = outcomes.filter((o) => o.status === 'graded').length;
  const errors = outcomes.filter((o) => o.status === 'error').length;
  const missing = outcomes.filter((o) => o.status === 'missing').length;
  const wallSeconds = wallMs / 1000;
  const done = graded + errors;
  return { submissions: outcomes.length, graded, errors, missing, wallSeconds, gradingsPerMinute: wallSeconds > 0 ? (done * 60) / wallSeconds : 0 };
}

export function formatSummary(summary: BatchSummary, concurrency: number, outDir: string): string {
  return (
    `grade-many: ${summary.submissions} submission${summary.submissions === 1 ? '' : 's'} — ${summary.graded} graded, ${summary.errors} error, ${summary.missing} missing — ` +
    `${summary.wallSeconds.toFixed(1)} s wall at concurrency ${concurrency}: ${summary.gradingsPerMinute.toFixed(1)} gradings/minute; results in ${outDir}`
  );
}

/**
 * The batch's exit status: 2 when any folder was missing or unreadable (it was
 * listed and skipped; the others were still graded) — the caller's input is
 * wrong, and 2 wins over 3 so a retry loop does not retry a typo forever;
 * else 3 when any grading ended with status "error"; else 0.
 */
export function batchExitCode(outcomes: readonly GradingOutcome[]): number {
  if (outcomes.some((o) => o.status === 'missing')) return 2;
  if (outcomes.some((o) => o.status === 'error')) return 3;
  return 0;
}

// ---- running ----

interface ChildRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  ms: number;
}

const STDERR_KEEP = 8 * 1024;

function lastLines(text: string, lines = 3): string {
  return text.trim().split('\n').slice(-lines).join(' | ');
}

function displayPath(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? dir : relative;
}

async function folderProblem(dir: string): Promise<string | undefined> {
  try {
    if (!(await stat(dir)).isDirectory()) return `${dir} is not a folder`;
    return undefined;
  } catch {
    return `${dir} does not exist`;
  }
}

function runGradeChild(args: string[], env: NodeJS.ProcessEnv, children: Set<ReturnType<typeof spawn>>): Promise<ChildRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(...lockgraderCommand(['grade', ...args]), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });
    const done = (exitCode: number | null, signal: NodeJS.Signals | null, extra = ''): void => {
      children.delete(child);
      resolve({ exitCode, signal, stderr: stderr + extra, ms: performance.now() - started });
    };
    child.once('error', (error) => done(null, null, String(error)));
    child.once('close', (code, signal) => done(code, signal));
  });
}

async function readResult(file: string): Promise<GradeResult | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as GradeResult;
  } catch {
    return undefined;
  }
}

async function gradeOne(
  submission: { dir: string; name: string },
  options: { outDir: string; gradeArgs: string[]; env: NodeJS.ProcessEnv; children: Set<ReturnType<typeof spawn>> },
): Promise<GradingOutcome> {
  const resultsFile = path.join(options.outDir, `${submission.name}.json`);
  // A results file left by an earlier batch must never pass for this one's.
  await rm(resultsFile, { force: true });
  const run = await runGradeChild([submission.dir, ...options.gradeArgs, '--json', resultsFile, '--quiet'], options.env, options.children);
  const base = { name: submission.name, dir: submission.dir, seconds: run.ms / 1000 };
  if (run.exitCode === 2) return { ...base, status: 'missing', message: lastLines(run.stderr) || 'unreadable submission (exit 2)' };
  const result = await readResult(resultsFile);
  if (!result) {
    const how = run.signal ? `ended by ${run.signal}` : `exit ${run.exitCode}`;
    return { ...base, status: 'error', message: `no results (grade ${how}): ${lastLines(run.stderr) || 'no output'}` };
  }
  const outcome: GradingOutcome = { ...base, status: result.status, score: result.score, max_score: result.max_score, resultsFile };
  if (result.status === 'error') outcome.message = result.error?.message ?? (lastLines(run.stderr) || 'the grading could not complete');
  else if (run.exitCode !== 0) {
    outcome.status = 'error';
    outcome.message = `grade ${run.signal ? `ended by ${run.signal}` : `exited ${run.exitCode}`} after writing results: ${lastLines(run.stderr)}`;
  }
  return outcome;
}

async function collectSubmissions(positionals: string[], listFile: string | undefined): Promise<string[]> {
  const dirs = [...positionals];
  if (listFile) {
    let text: string;
    try {
      text = await readFile(listFile, 'utf8');
    } catch (error) {
      throw new LockgraderError('USAGE', `cannot read --list ${listFile}: ${(error as Error).message}`, { file: listFile });
    }
    // Relative lines are relative to the current folder, like the positional folders
    // (so `ls -d subs/* > list.txt` works from where it was run).
    dirs.push(...parseListText(text));
  }
  return dirs.map((dir) => path.resolve(dir));
}

export async function gradeManyCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, parseArgsOptions(COMMANDS['grade-many'].options));
  const { values, positionals } = parsed;
  const concurrency = parseConcurrency(values.concurrency, availableParallelism());
  const scriptTimeout = parseScriptTimeout(values['script-timeout']);
  if (values.challenges !== undefined) parseChallenges(values.challenges); // usage errors before anything starts
  parseLimitOptions(values);
  const dirs = await collectSubmissions(positionals, values.list);
  if (dirs.length === 0) throw new LockgraderError('USAGE', 'grade-many needs at least one SUBMISSION_DIR (as arguments or lines of --list FILE)');
  const outDir = path.resolve(values.out ?? DEFAULT_OUT_DIR);
  const names = resultNames(dirs);

  const started = performance.now();
  const outcomes: GradingOutcome[] = [];
  const queue: Array<{ dir: string; name: string }> = [];
  for (const [index, dir] of dirs.entries()) {
    const name = names[index] as string;
    const problem = await folderProblem(dir);
    if (problem) {
      const outcome: GradingOutcome = { name, dir, status: 'missing', seconds: 0, message: `${problem}; skipped` };
      outcomes.push(outcome);
      console.log(formatOutcome(outcome));
    } else queue.push({ dir, name });
  }

  await mkdir(outDir, { recursive: true });
  const gradeArgs: string[] = [];
  if (values.challenges !== undefined) gradeArgs.push('--challenges', values.challenges);
  if (scriptTimeout !== undefined) gradeArgs.push('--script-timeout', String(scriptTimeout));
  for (const flag of ['script-memory', 'script-disk', 'script-processes', 'script-cpu'] as const) {
    const value = values[flag];
    if (value !== undefined) gradeArgs.push(`--${flag}`, value);
  }

  if (queue.length > 0) {
    // Found once, handed to every grading: they all use the same binary.
    const terraform = await locateTerraform();
    const children = new Set<ReturnType<typeof spawn>>();
    let stopping: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      stopping ??= signal;
      console.error(`grade-many: ${signal}: no new gradings; stopping ${children.size} running`);
      for (const child of children) child.kill(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, LOCKGRADER_TERRAFORM: terraform.path };
      // Every grading has its own embedded emulators (one per challenge, in its
      // own process): no grading can reach another's buckets or tables, and no
      // single backend process serialises the whole batch.
      const childArgs = ['--backend', 'embedded', ...gradeArgs];
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < queue.length && !stopping) {
          const submission = queue[next++] as { dir: string; name: string };
          const outcome = await gradeOne(submission, { outDir, gradeArgs: childArgs, env, children });
          outcomes.push(outcome);
          console.log(formatOutcome(outcome));
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (stopping) {
      console.error(`grade-many: stopped by ${stopping}; ${queue.length - outcomes.filter((o) => o.status !== 'missing').length} submission(s) not graded`);
      return stopping === 'SIGINT' ? 130 : 143;
    }
  }

  console.log(formatSummary(summarize(outcomes, performance.now() - started), concurrency, displayPath(outDir)));
  return batchExitCode(outcomes);
}
