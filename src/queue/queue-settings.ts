// The queue's fixed settings in one place: its default name, how long BullMQ
// keeps finished jobs (which is also how long enqueueing the same submission
// again is a no-op), and the retry policy a job is added with.
import type { JobsOptions } from 'bullmq';

export const DEFAULT_QUEUE_NAME = 'lockgrader';

/** Completed jobs (their results) are kept a day, at most 10,000; failed ones a week. */
export const KEEP_COMPLETED = { age: 24 * 60 * 60, count: 10_000 } as const;
export const KEEP_FAILED = { age: 7 * 24 * 60 * 60, count: 10_000 } as const;

export const DEFAULT_TRIES = 3;
export const DEFAULT_BACKOFF_SECONDS = 30;

/** BullMQ options of one grading job. */
export function gradingJobOptions(jobId: string, tries = DEFAULT_TRIES, backoffSeconds = DEFAULT_BACKOFF_SECONDS): JobsOptions {
  return {
    jobId,
    attempts: tries,
    backoff: { type: 'exponential', delay: backoffSeconds * 1000 },
    removeOnComplete: { ...KEEP_COMPLETED },
    removeOnFail: { ...KEEP_FAILED },
  };
}
