// Job data in and out of Redis, and job ids from content + attempt.
import { describe, expect, test } from '@jest/globals';
import { isLockgraderError } from '../errors.ts';
import { jobIdFor } from './job-id.ts';
import { parseJobData, safeName, toJobData, type JobPayload } from './job-payload.ts';

describe('job ids', () => {
  const base = { content: 'a'.repeat(64), attempt: 1 };
  test('the same content and attempt give the same id; anything graded differently gives another', () => {
    const id = jobIdFor(base);
    expect(id).toMatch(/^[0-9a-f]{32}-a1$/);
    expect(jobIdFor({ ...base })).toBe(id);
    expect(jobIdFor({ ...base, challenges: [1, 2, 3] })).toBe(id);
    const others = [
      jobIdFor({ ...base, attempt: 2 }),
      jobIdFor({ ...base, content: 'b'.repeat(64) }),
      jobIdFor({ ...base, challenges: [1, 2] }),
      jobIdFor({ ...base, scriptTimeoutSeconds: 30 }),
      jobIdFor({ content: 's3://bucket/key', attempt: 1 }),
    ];
    expect(new Set([id, ...others]).size).toBe(6);
    expect(jobIdFor({ ...base, challenges: [2, 1] })).toBe(jobIdFor({ ...base, challenges: [1, 2] }));
  });
});

describe('job data', () => {
  const archive = Buffer.from('not really a tar.gz, but bytes');
  const payload: JobPayload = { name: 'ref-1', attempt: 3, challenges: [1, 2], scriptTimeoutSeconds: 30, source: { archive } };

  test('round-trips through the JSON stored in Redis', () => {
    const stored = JSON.parse(JSON.stringify(toJobData(payload)));
    expect(stored).toEqual({ v: 1, name: 'ref-1', attempt: 3, challenges: [1, 2], script_timeout_s: 30, archive: archive.toString('base64') });
    expect(parseJobData(stored)).toEqual(payload);
  });

  test('an S3 pointer job as a platform writes it: the name comes from the key, attempt 1', () => {
    expect(parseJobData({ s3: { bucket: 'uploads', key: 'lab/u123/sub 7.tar.gz' } })).toEqual({ name: 'sub_7', attempt: 1, source: { s3: { bucket: 'uploads', key: 'lab/u123/sub 7.tar.gz' } } });
  });

  const garbage: Array<[string, unknown, RegExp]> = [
    ['null', null, /its data must be a JSON object \(got null\)/],
    ['a string', 'hello', /its data must be a JSON object \(got the string "hello"\)/],
    ['an array', [1, 2], /got an array/],
    ['an empty object', {}, /exactly one of "archive" .* and "s3"/],
    ['both sources', { archive: 'AAAA', s3: { bucket: 'b', key: 'k' } }, /exactly one of/],
    ['unknown fields', { archive: 'AAAA', archve: 'x', rm: '-rf /' }, /unknown fields "archve", "rm"/],
    ['archive not base64', { archive: '$(reboot)' }, /"archive" must be a base64 string/],
    ['archive a number', { archive: 42 }, /"archive" must be a base64 string \(got number 42\)/],
    ['archive over 1 MiB', { archive: 'A'.repeat(1_400_004) }, /more than 1048576 bytes/],
    ['s3 a string', { s3: 's3://b/k' }, /"s3" must be \{"bucket": \.\.\., "key": \.\.\.\}/],
    ['s3 bucket bad', { s3: { bucket: '../etc', key: 'k' } }, /"s3.bucket" must be a bucket name/],
    ['s3 key empty', { s3: { bucket: 'bucket', key: '' } }, /"s3.key" must be an object key/],
    ['s3 extra field', { s3: { bucket: 'bucket', key: 'k', endpoint: 'http://evil' } }, /"s3" has unknown fields endpoint/],
    ['attempt 0', { archive: 'AAAA', attempt: 0 }, /"attempt" must be a whole number >= 1/],
    ['attempt a string', { archive: 'AAAA', attempt: '1' }, /"attempt" must be a whole number >= 1/],
    ['name with a slash', { archive: 'AAAA', name: '../../etc/passwd' }, /"name" must be 1-128 characters/],
    ['name starting with a dot', { archive: 'AAAA', name: '.hidden' }, /"name" must be/],
    ['challenges 4', { archive: 'AAAA', challenges: [1, 4] }, /"challenges" must be a list of 1, 2, 3/],
    ['challenges empty', { archive: 'AAAA', challenges: [] }, /"challenges" must be a list/],
    ['script timeout negative', { archive: 'AAAA', script_timeout_s: -1 }, /"script_timeout_s" must be seconds from 0 to 3600/],
    ['a future format version', { archive: 'AAAA', v: 2 }, /format version number 2/],
  ];
  test.each(garbage)('garbage: %s is JOB_INVALID with what is wrong', (_name, data, message) => {
    const error = (() => {
      try {
        parseJobData(data);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(isLockgraderError(error, 'JOB_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/^not a lockgrader job: /);
    expect((error as Error).message).toMatch(message);
  });

  test.each([
    ['reference', 'reference'],
    ['sub.tar.gz', 'sub'],
    ['a b/c', 'a_b_c'],
    ['..', 'submission'],
    ['.hidden.tgz', 'hidden'],
  ])('safeName(%j) = %j', (text, name) => {
    expect(safeName(text)).toBe(name);
  });
});
