// The data of a lockgrader queue job, and the one function that reads it from
// whatever is in Redis. A job carries the submission (a base64 tar.gz) or
// points at it in object storage ({"s3": {"bucket", "key"}}, how platforms
// keep uploads). Anything else — not an object, unknown fields, wrong types,
// both or neither source — is JOB_INVALID with what is wrong (exit 2 in queue
// terms: retrying cannot help).
import { LockgraderError } from '../errors.ts';
import type { ChallengeNumber } from '../grading/types.ts';
import { MAX_ARCHIVE_BYTES } from './archive-rules.ts';

export const JOB_FORMAT_VERSION = 1;

export type SubmissionSource = { archive: Buffer } | { s3: { bucket: string; key: string } };

export interface JobPayload {
  /** The results file's name (DIR/<name>.json) and the name in logs. */
  name: string;
  /** The learner's attempt (>= 1): part of the job id, so a resubmission is graded again. */
  attempt: number;
  /** Challenges to grade; all when absent. */
  challenges?: ChallengeNumber[];
  /** A learner script's time limit, seconds (grade's default when absent). */
  scriptTimeoutSeconds?: number;
  source: SubmissionSource;
}

/** The job data as stored in Redis (JSON). */
export interface JobData {
  v?: number;
  name?: string;
  attempt?: number;
  challenges?: number[];
  script_timeout_s?: number;
  archive?: string;
  s3?: { bucket: string; key: string };
}

const KNOWN = new Set(['v', 'name', 'attempt', 'challenges', 'script_timeout_s', 'archive', 's3']);
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function invalid(message: string, fields: Record<string, unknown> = {}): LockgraderError {
  return new LockgraderError('JOB_INVALID', `not a lockgrader job: ${message}`, fields);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}` : `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}

/** A results-file name from anything (a folder's or object's name): [A-Za-z0-9._-], not starting with a dot. */
export function safeName(text: string): string {
  const name = text.replace(/\.tar\.gz$|\.tgz$/, '').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[.-]+/, '').slice(0, 128);
  return name || 'submission';
}

function readSource(data: Record<string, unknown>): SubmissionSource {
  const { archive, s3 } = data;
  if ((archive === undefined) === (s3 === undefined)) throw invalid('it needs exactly one of "archive" (a base64 tar.gz) and "s3" ({"bucket", "key"})');
  if (archive !== undefined) {
    if (typeof archive !== 'string' || !BASE64.test(archive) || archive.length % 4 !== 0) throw invalid(`"archive" must be a base64 string (got ${describe(archive)})`, { field: 'archive' });
    if (archive.length > Math.ceil(MAX_ARCHIVE_BYTES / 3) * 4) throw invalid(`"archive" holds more than ${MAX_ARCHIVE_BYTES} bytes (the 1 MiB limit)`, { field: 'archive', limit_bytes: MAX_ARCHIVE_BYTES });
    return { archive: Buffer.from(archive, 'base64') };
  }
  if (typeof s3 !== 'object' || s3 === null || Array.isArray(s3)) throw invalid(`"s3" must be {"bucket": ..., "key": ...} (got ${describe(s3)})`, { field: 's3' });
  const { bucket, key, ...rest } = s3 as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw invalid(`"s3" has unknown fields ${Object.keys(rest).join(', ')}`, { field: 's3' });
  if (typeof bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,62}$/.test(bucket)) throw invalid(`"s3.bucket" must be a bucket name (got ${describe(bucket)})`, { field: 's3.bucket' });
  if (typeof key !== 'string' || key === '' || key.length > 1024) throw invalid(`"s3.key" must be an object key (got ${describe(key)})`, { field: 's3.key' });
  return { s3: { bucket, key } };
}

/** Reads a job's data (a job without "name" is named after its object key, else `fallbackName`); JOB_INVALID naming the first thing that is wrong. */
export function parseJobData(data: unknown, fallbackName = 'submission'): JobPayload {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw invalid(`its data must be a JSON object (got ${describe(data)})`);
  const record = data as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0) throw invalid(`unknown fields ${unknown.map((key) => JSON.stringify(key)).join(', ')} (known: ${[...KNOWN].join(', ')})`, { fields: unknown });
  if (record.v !== undefined && record.v !== JOB_FORMAT_VERSION) throw invalid(`format version ${describe(record.v)} (this worker reads version ${JOB_FORMAT_VERSION})`, { field: 'v' });
  const source = readSource(record);
  const attempt = record.attempt ?? 1;
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1) throw invalid(`"attempt" must be a whole number >= 1 (got ${describe(attempt)})`, { field: 'attempt' });
  const name = record.name ?? ('s3' in source ? safeName(source.s3.key.split('/').pop() ?? '') : safeName(fallbackName));
  if (typeof name !== 'string' || !NAME.test(name)) throw invalid(`"name" must be 1-128 characters of A-Z a-z 0-9 . _ - (got ${describe(name)})`, { field: 'name' });
  const payload: JobPayload = { name, attempt, source };
  if (record.challenges !== undefined) {
    const list = record.challenges;
    if (!Array.isArray(list) || list.length === 0 || list.some((n) => n !== 1 && n !== 2 && n !== 3)) throw invalid(`"challenges" must be a list of 1, 2, 3 (got ${describe(list)})`, { field: 'challenges' });
    payload.challenges = [...new Set(list as ChallengeNumber[])].sort();
  }
  if (record.script_timeout_s !== undefined) {
    const seconds = record.script_timeout_s;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > 3600) throw invalid(`"script_timeout_s" must be seconds from 0 to 3600 (got ${describe(seconds)})`, { field: 'script_timeout_s' });
    payload.scriptTimeoutSeconds = seconds;
  }
  return payload;
}

/** The job data for a payload (what enqueue stores). */
export function toJobData(payload: JobPayload): JobData {
  return {
    v: JOB_FORMAT_VERSION,
    name: payload.name,
    attempt: payload.attempt,
    ...(payload.challenges ? { challenges: payload.challenges } : {}),
    ...(payload.scriptTimeoutSeconds !== undefined ? { script_timeout_s: payload.scriptTimeoutSeconds } : {}),
    ...('archive' in payload.source ? { archive: payload.source.archive.toString('base64') } : { s3: payload.source.s3 }),
  };
}
