// A job's id is derived from what is graded and how: the submission's content
// (the digest of its tar, or the object it points at), the learner's attempt,
// the challenges and the script time limit. Enqueueing the same submission
// twice gives the same id, and BullMQ adds a job id only once (while the job,
// or its completed record, is kept), so it is graded once.
import { createHash } from 'node:crypto';
import type { ChallengeNumber } from '../grading/types.ts';

export interface JobIdentity {
  /** sha256 of the submission's tar, or "s3://bucket/key" for a pointer job. */
  content: string;
  attempt: number;
  challenges?: readonly ChallengeNumber[];
  scriptTimeoutSeconds?: number;
}

/** "<32 hex>-a<attempt>": hex of sha256 over the identity (never all digits, no ":"; BullMQ refuses both). */
export function jobIdFor(identity: JobIdentity): string {
  const canonical = JSON.stringify([identity.content, identity.attempt, identity.challenges ? [...identity.challenges].sort() : [1, 2, 3], identity.scriptTimeoutSeconds ?? null]);
  return `${createHash('sha256').update(canonical).digest('hex').slice(0, 32)}-a${identity.attempt}`;
}
