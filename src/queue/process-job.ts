// The worker's processor: one job = read its data, get the archive (carried
// or in S3), unpack it into the job's folder, grade it in a `grade` child,
// report challenge progress, and turn how the child ended into queue
// semantics (queue-outcome.ts). The job's folder is removed whatever happens.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { EXIT_STATUS, errorRecord } from '../errors.ts';
import type { GradeProgress } from '../grading/grade.ts';
import type { GradeResult } from '../grading/types.ts';
import { unpackSubmission } from './archive-unpack.ts';
import { runGradeChild } from './grade-child.ts';
import { parseJobData, type JobPayload } from './job-payload.ts';
import { queueOutcome, type ChildEnd } from './queue-outcome.ts';
import type { S3ArchiveReader } from './s3-source.ts';
import { sweepDeadWorkerFolders, type WorkerFolder } from './worker-folder.ts';
import { SANDBOX_HIDE_VARIABLE } from '../paths.ts';

/** Why the worker aborts a job's signal (worker.cancelJob / cancelAllJobs reasons). */
export const STOP_REASONS = { shutdown: 'shutdown', lockLost: 'lock-lost' } as const;

export interface ProcessorOptions {
  folder: WorkerFolder;
  /** The `grade` children's environment (without the worker's secrets). */
  env: NodeJS.ProcessEnv;
  readS3: S3ArchiveReader;
  /** A grading's time limit; past it the child is stopped and the job retried. */
  timeLimitMs: number;
  log: (line: string) => void;
}

export type GradingJob = Job<unknown, GradeResult>;

/** The job's progress value: the last challenge event and how many challenges are done. */
export interface JobProgress extends GradeProgress {
  done: number;
  of: number;
}

function stoppedFor(signal: AbortSignal): ChildEnd['stoppedFor'] {
  if (!signal.aborted) return undefined;
  if (signal.reason === STOP_REASONS.shutdown) return 'shutdown';
  if (signal.reason === STOP_REASONS.lockLost) return 'lock-lost';
  return 'time-limit';
}

async function readResults(file: string): Promise<GradeResult | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as GradeResult;
  } catch {
    return undefined;
  }
}

async function archiveOf(payload: JobPayload, readS3: S3ArchiveReader): Promise<Buffer> {
  return 'archive' in payload.source ? payload.source.archive : readS3(payload.source.s3);
}

function describeError(error: unknown): string {
  const { code, message } = errorRecord(error);
  return `${code}: ${message}`;
}

// A failure before grading (bad data, bad archive, storage down): unrecoverable when its code means "the input is wrong".
function failBeforeGrading(error: unknown): never {
  if (EXIT_STATUS[errorRecord(error).code] === 2) throw new UnrecoverableError(describeError(error));
  throw new Error(describeError(error));
}

export function gradingProcessor(options: ProcessorOptions) {
  return async (job: GradingJob, token: string | undefined, signal: AbortSignal | undefined): Promise<GradeResult> => {
    const jobSignal = signal ?? new AbortController().signal;
    const label = `job ${job.id} (try ${job.attemptsMade + 1}/${job.opts.attempts ?? 1})`;
    for (const dir of await sweepDeadWorkerFolders(path.dirname(options.folder.root))) options.log(`removed ${dir} (its worker is gone)`);
    let payload: JobPayload;
    let archive: Buffer;
    try {
      payload = parseJobData(job.data, job.name);
      archive = await archiveOf(payload, options.readS3);
    } catch (error) {
      options.log(`failed  ${label}: ${describeError(error)}`);
      failBeforeGrading(error);
    }
    const dir = await options.folder.jobDir();
    try {
      const submissionDir = path.join(dir, 'sub');
      try {
        await unpackSubmission(archive, submissionDir);
      } catch (error) {
        options.log(`failed  ${label} ${payload.name}: ${describeError(error)}`);
        failBeforeGrading(error);
      }
      const resultsFile = path.join(dir, 'results.json');
      const of = payload.challenges?.length ?? 3;
      let done = 0;
      const gradeSignal = AbortSignal.any([jobSignal, AbortSignal.timeout(options.timeLimitMs)]);
      const child = await runGradeChild({
        submissionDir,
        resultsFile,
        challenges: payload.challenges,
        scriptTimeoutSeconds: payload.scriptTimeoutSeconds,
        // The job folder is inside the worker's folder, inside the worker's TMPDIR: the sandbox hides all of it (other jobs too).
        env: { ...options.env, TMPDIR: dir, [SANDBOX_HIDE_VARIABLE]: path.dirname(path.dirname(dir)) },
        signal: gradeSignal,
        onProgress: (progress) => {
          if (progress.event === 'challenge-finished') done += 1;
          const value: JobProgress = { ...progress, done, of };
          job.updateProgress(value).catch(() => undefined);
        },
      });
      const outcome = queueOutcome({ ...child, result: await readResults(resultsFile), stoppedFor: stoppedFor(gradeSignal) });
      const seconds = `${(child.durationMs / 1000).toFixed(1)} s`;
      switch (outcome.kind) {
        case 'complete':
          options.log(`graded  ${label} ${payload.name}: ${outcome.result.score}/${outcome.result.max_score} in ${seconds}`);
          return outcome.result;
        case 'unrecoverable':
          options.log(`failed  ${label} ${payload.name}: ${outcome.reason}`);
          throw new UnrecoverableError(outcome.reason);
        case 'retry':
          options.log(`retry   ${label} ${payload.name}: ${outcome.reason}`);
          throw new Error(outcome.reason);
        case 'hand-back':
          await job.moveToWait(token);
          options.log(`handed back ${label} ${payload.name} after ${seconds}: ${outcome.reason}`);
          throw new WaitingError();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
