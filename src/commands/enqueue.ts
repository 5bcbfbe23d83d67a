// `lockgrader enqueue`: packs each submission folder (tar.gz, at most 1 MiB)
// or takes an s3://BUCKET/KEY pointer, and adds one BullMQ job per
// submission whose id comes from its content and attempt (job-id.ts), so the
// same submission is queued and graded once. With --wait it prints each
// outcome as it arrives and writes DIR/<name>.json, the contract's results
// file (complete or not at all: written beside and renamed).
import path from 'node:path';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { EXIT_STATUS, type ErrorCode, errorRecord } from '../errors.ts';
import { parseChallenges } from '../grading/checks.ts';
import type { GradeResult } from '../grading/types.ts';
import { packSubmission } from '../queue/archive-pack.ts';
import { jobIdFor } from '../queue/job-id.ts';
import { parseJobData, safeName, toJobData, type JobPayload } from '../queue/job-payload.ts';
import { DEFAULT_BACKOFF_SECONDS, DEFAULT_QUEUE_NAME, DEFAULT_TRIES, gradingJobOptions } from '../queue/queue-settings.ts';
import { assertRedisReachable, redisOptionsFromUrl, redisUrlFrom } from '../queue/redis-connection.ts';
import { writeJsonFileAtomically } from '../util/json-file.ts';
import { batchExitCode, formatOutcome, uniqueNames, type GradingOutcome } from './grade-many.ts';
import { secondsOption, wholeNumberOption } from './number-options.ts';
import { COMMANDS, parseArgsOptions } from './option-tables.ts';
import { parseCommandArgs } from './parse-command-args.ts';
import { LockgraderError } from '../errors.ts';

export const DEFAULT_ENQUEUE_OUT = path.join('reports', 'enqueue');

interface Planned {
  name: string;
  /** The folder or s3:// URL as given. */
  source: string;
  payload?: JobPayload;
  id?: string;
  /** Why it was not queued. */
  refused?: string;
}

/** "s3://bucket/a/b.tar.gz" -> {bucket, key}; undefined for anything else. */
export function parseS3Url(text: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(text);
  return match ? { bucket: match[1] as string, key: match[2] as string } : undefined;
}

/** The status a failed job's reason means: unreadable input ("missing", exit 2) or a grading that could not complete. */
export function failedStatus(reason: string): 'missing' | 'error' {
  const code = /^([A-Z_]+): /.exec(reason)?.[1] as ErrorCode | undefined;
  return code !== undefined && EXIT_STATUS[code] === 2 ? 'missing' : 'error';
}

// Packs a folder or reads an s3:// URL into a job (or why it cannot be one).
async function planOne(source: string, name: string, common: { attempt: number; challenges?: JobPayload['challenges']; scriptTimeoutSeconds?: number }): Promise<Planned> {
  const pointer = parseS3Url(source);
  try {
    const base = { name, attempt: common.attempt, ...(common.challenges ? { challenges: common.challenges } : {}), ...(common.scriptTimeoutSeconds !== undefined ? { scriptTimeoutSeconds: common.scriptTimeoutSeconds } : {}) };
    if (pointer) {
      const payload = parseJobData(toJobData({ ...base, source: { s3: pointer } }));
      return { name, source, payload, id: jobIdFor({ ...base, content: `s3://${pointer.bucket}/${pointer.key}` }) };
    }
    const packed = await packSubmission(source);
    return { name, source, payload: { ...base, source: { archive: packed.archive } }, id: jobIdFor({ ...base, content: packed.digest }) };
  } catch (error) {
    return { name, source, refused: errorRecord(error).message };
  }
}

async function waitForOutcome(job: Job, events: QueueEvents, queue: Queue, entry: Planned, outDir: string): Promise<GradingOutcome> {
  const base = { name: entry.name, dir: entry.source };
  const seconds = async (): Promise<number> => {
    const done = await queue.getJob(job.id as string);
    return done?.processedOn && done.finishedOn ? (done.finishedOn - done.processedOn) / 1000 : 0;
  };
  try {
    const result = (await job.waitUntilFinished(events)) as GradeResult;
    const resultsFile = path.join(outDir, `${entry.name}.json`);
    await writeJsonFileAtomically(resultsFile, result);
    return { ...base, status: result.status, score: result.score, max_score: result.max_score, seconds: await seconds(), resultsFile };
  } catch (error) {
    const reason = (error as Error).message;
    return { ...base, status: failedStatus(reason), seconds: await seconds(), message: reason };
  }
}

export async function enqueueCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, parseArgsOptions(COMMANDS.enqueue.options));
  if (positionals.length === 0) throw new LockgraderError('USAGE', 'enqueue needs at least one SUBMISSION_DIR or s3://BUCKET/KEY');
  const url = redisUrlFrom(values.redis);
  const connection = redisOptionsFromUrl(url);
  const queueName = values.queue ?? DEFAULT_QUEUE_NAME;
  const challenges = values.challenges !== undefined ? parseChallenges(values.challenges) : undefined;
  const attempt = wholeNumberOption('--attempt', values.attempt, 1);
  const scriptTimeoutSeconds = secondsOption('--script-timeout', values['script-timeout'], undefined);
  const tries = wholeNumberOption('--tries', values.tries, DEFAULT_TRIES);
  const backoffSeconds = secondsOption('--backoff', values.backoff, DEFAULT_BACKOFF_SECONDS);
  const outDir = path.resolve(values.out ?? DEFAULT_ENQUEUE_OUT);

  const names = uniqueNames(positionals.map((source) => safeName(path.basename(parseS3Url(source)?.key ?? path.resolve(source)))));
  const outcomes: GradingOutcome[] = [];
  let queue: Queue | undefined;
  let events: QueueEvents | undefined;
  const waits: Array<Promise<void>> = [];
  try {
    // One submission at a time, packed and added before the next is read: a cohort's archives are never all in memory.
    for (const [index, source] of positionals.entries()) {
      const entry = await planOne(source, names[index] as string, { attempt, challenges, scriptTimeoutSeconds });
      if (!entry.payload || !entry.id) {
        const outcome: GradingOutcome = { name: entry.name, dir: entry.source, status: 'missing', seconds: 0, message: `${entry.refused}; not queued` };
        outcomes.push(outcome);
        console.log(formatOutcome(outcome));
        continue;
      }
      if (!queue) {
        await assertRedisReachable(url);
        queue = new Queue(queueName, { connection });
        if (values.wait) {
          events = new QueueEvents(queueName, { connection });
          await events.waitUntilReady();
        }
      }
      const before = await queue.getJob(entry.id);
      const job = await queue.add(entry.name, toJobData(entry.payload), gradingJobOptions(entry.id, tries, backoffSeconds));
      console.log(before ? `already ${entry.id}  ${entry.name} (same content and attempt; ${await before.getState()})` : `queued  ${entry.id}  ${entry.name}`);
      job.data = {}; // the archive is in Redis now; waiting needs only the job's id
      if (events) {
        const { name, source: shown } = entry;
        waits.push(
          waitForOutcome(job, events, queue, { name, source: shown }, outDir).then((outcome) => {
            outcomes.push(outcome);
            console.log(formatOutcome(outcome));
          }),
        );
      }
    }
    await Promise.all(waits);
  } finally {
    await events?.close();
    await queue?.close();
  }
  return batchExitCode(outcomes);
}
