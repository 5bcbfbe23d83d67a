// `lockgrader worker` and `enqueue` against a real redis-server: garbage and
// hostile jobs fail at once with what is wrong and harm nothing; S3-pointer
// jobs are read from the embedded backend's S3; a harness fault is retried
// with backoff; SIGTERM finishes or hands back running gradings and exits 0.
import { randomBytes } from 'node:crypto';
import { access, cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Queue, type Job } from 'bullmq';
import { startEmbeddedBackend } from '../../src/backend/embedded.ts';
import type { StartedBackend } from '../../src/backend/types.ts';
import type { GradeResult } from '../../src/grading/types.ts';
import { repoPath } from '../../src/paths.ts';
import { locateTerraform } from '../../src/terraform/locate.ts';
import { packSubmission } from '../../src/queue/archive-pack.ts';
import type { JobProgress } from '../../src/queue/process-job.ts';
import { waitFor } from '../../src/util/wait.ts';
import { runCli } from '../support/cli.ts';
import { rawArchive } from '../support/raw-archive.ts';
import { processesMatching } from '../support/leftovers.ts';
import { startWorker, type RunningWorker } from '../support/queue-worker.ts';
import { startRedisServer, type StartedRedis } from '../support/redis-server.ts';
import { describeWithRedis } from '../support/redis-tests.ts';

let root: string;
let redis: StartedRedis;
let backend: StartedBackend;
let s3: S3Client;
const queues: Queue[] = [];
const BUCKET = 'uploads';

function queueOf(name: string): Queue {
  const queue = new Queue(name, { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null } });
  queues.push(queue);
  return queue;
}

/** Waits until the job is completed or failed, then reads it fresh. */
async function finished(queue: Queue, id: string, timeoutMs = 240_000): Promise<Job> {
  return waitFor(
    async () => {
      const state = await queue.getJobState(id);
      return state === 'completed' || state === 'failed' ? queue.getJob(id) : undefined;
    },
    { what: `job ${id} to finish`, timeoutMs, intervalMs: 100 },
  );
}

async function workerFolders(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith('lgw-'));
}

await describeWithRedis('queue worker and enqueue (real redis-server)', (binary) => {
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'lockgrader-test-queue-'));
    redis = await startRedisServer(binary);
    backend = await startEmbeddedBackend();
    s3 = new S3Client({ endpoint: backend.endpoints.s3, forcePathStyle: true, region: backend.credentials.region, credentials: backend.credentials });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  }, 60_000);

  afterAll(async () => {
    for (const queue of queues) await queue.close();
    s3?.destroy();
    await backend?.stop();
    await redis?.stop();
    await rm(root, { recursive: true, force: true });
  });

  describe('garbage, hostile and S3-pointer jobs (one worker)', () => {
    let worker: RunningWorker;
    let queue: Queue;
    beforeAll(async () => {
      queue = queueOf('garbage');
      worker = await startWorker(['--redis', redis.url, '--queue', 'garbage', '--concurrency', '2', '--s3-endpoint', backend.endpoints.s3], {
        ...process.env,
        AWS_ACCESS_KEY_ID: backend.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: backend.credentials.secretAccessKey,
        AWS_REGION: backend.credentials.region,
      });
    }, 120_000);
    afterAll(async () => {
      expect(await worker?.stop()).toEqual({ code: 0, signal: null });
    }, 60_000);

    test('each fails at once (no retries) with a clear reason, writes nothing outside, and the worker goes on grading', async () => {
      const escapeTarget = path.join(root, 'escaped.sh');
      const traversal = `${'../'.repeat(24)}${escapeTarget.slice(1)}`;
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'big.tar.gz', Body: randomBytes(2 * 1024 * 1024) }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ok/reference.tar.gz', Body: (await packSubmission(repoPath('fixtures/submissions/reference'))).archive }));
      const cases: Array<[string, unknown, RegExp]> = [
        ['null', null, /^JOB_INVALID: not a lockgrader job: its data must be a JSON object \(got null\)$/],
        ['a string', 'rm -rf /', /^JOB_INVALID: not a lockgrader job: its data must be a JSON object \(got the string "rm -rf \/"\)$/],
        ['unknown fields', { archive: 'AAAA', exec: 'reboot' }, /^JOB_INVALID: not a lockgrader job: unknown fields "exec"/],
        ['not base64', { archive: '$(reboot)' }, /^JOB_INVALID: .*"archive" must be a base64 string/],
        ['over 1 MiB inline', { archive: randomBytes(1024 * 1024 + 10).toString('base64') }, /^JOB_INVALID: .*"archive" holds more than 1048576 bytes/],
        ['not an archive', { archive: Buffer.from('hello there').toString('base64') }, /^SUBMISSION_UNREADABLE: the submission is not a gzip-compressed tar archive/],
        ['path traversal', { archive: (await rawArchive([{ name: traversal, data: 'echo owned', mode: 0o755 }])).toString('base64') }, /^SUBMISSION_UNREADABLE: archive entry "(\.\.\/){24}.*" climbs out of the submission with "\.\."$/],
        ['a symlink', { archive: (await rawArchive([{ name: 'challenge1/identify.sh', type: 'symlink', linkname: '/etc/shadow' }])).toString('base64') }, /^SUBMISSION_UNREADABLE: archive entry "challenge1\/identify\.sh" is a symbolic link \(to "\/etc\/shadow"\)/],
        ['a missing upload', { s3: { bucket: BUCKET, key: 'nobody/uploaded-this.tar.gz' } }, /^SUBMISSION_UNREADABLE: the upload s3:\/\/uploads\/nobody\/uploaded-this\.tar\.gz does not exist/],
        ['an upload over 1 MiB', { s3: { bucket: BUCKET, key: 'big.tar.gz' } }, /^SUBMISSION_UNREADABLE: the upload s3:\/\/uploads\/big\.tar\.gz is 2\.0 MiB \(2097152 bytes\); a submission archive may be at most 1\.0 MiB$/],
      ];
      for (const [name, data] of cases) await queue.add(name, data, { jobId: `bad-${name.replace(/\W+/g, '-')}`, attempts: 3, backoff: { type: 'fixed', delay: 100 } });
      await queue.add('good', { s3: { bucket: BUCKET, key: 'ok/reference.tar.gz' }, challenges: [1] }, { jobId: 'good-s3', attempts: 1 });
      for (const [name, , reason] of cases) {
        const job = await finished(queue, `bad-${name.replace(/\W+/g, '-')}`);
        expect([name, await job.getState(), job.attemptsMade, job.failedReason]).toEqual([name, 'failed', 1, expect.stringMatching(reason)]);
      }
      const good = await finished(queue, 'good-s3');
      expect(await good.getState()).toBe('completed');
      const result = good.returnvalue as GradeResult;
      expect(result.status).toBe('graded');
      expect(result.checks.filter((check) => check.challenge === 1).map((check) => check.status)).toEqual(['pass', 'pass', 'pass', 'pass']);
      expect((good.progress as JobProgress)).toMatchObject({ event: 'challenge-finished', challenge: 1, done: 1, of: 1 });
      await expect(access(escapeTarget)).rejects.toThrow(/ENOENT/);
      // Nothing of any job is left in the worker's folder (only its owner file).
      const [folder] = await workerFolders();
      expect(await readdir(path.join(tmpdir(), folder as string))).toEqual(['owner.json']);
    }, 300_000);
  });

  test('a harness fault (exit 3: terraform fails, by injection) is retried with backoff, then fails with its code', async () => {
    const queue = queueOf('fault');
    // Fault injection: the real binary answers `version` (the worker starts), every other command fails.
    const broken = path.join(root, 'broken-terraform');
    // The binary the grader would use here (LOCKGRADER_TERRAFORM, else terraform or tofu on PATH, else the cached build).
    const real = (await locateTerraform()).path;
    await writeFile(broken, `#!/bin/sh\nif [ "$1" = version ]; then exec '${real}' "$@"; fi\necho "injected fault: terraform unavailable" >&2\nexit 1\n`, { mode: 0o755 });
    const worker = await startWorker(['--redis', redis.url, '--queue', 'fault', '--concurrency', '1'], { ...process.env, LOCKGRADER_TERRAFORM: broken });
    try {
      const { archive } = await packSubmission(repoPath('fixtures/submissions/reference'));
      await queue.add('ref', { archive: archive.toString('base64'), challenges: [1] }, { jobId: 'fault-1', attempts: 2, backoff: { type: 'fixed', delay: 200 } });
      const job = await finished(queue, 'fault-1');
      expect([await job.getState(), job.attemptsMade]).toEqual(['failed', 2]);
      expect(job.failedReason).toBe('REPLAY_FAILED: terraform init failed (exit 1): injected fault: terraform unavailable');
      expect(worker.output().match(/^worker: retry .*fault-1 \(try \d\/2\) ref: REPLAY_FAILED/gm)).toHaveLength(2);
    } finally {
      expect(await worker.stop()).toEqual({ code: 0, signal: null });
    }
  }, 180_000);

  test('a machine without a sandbox takes no jobs: the worker exits 3 (SANDBOX_UNAVAILABLE) at start', async () => {
    const run = await runCli(['worker', '--redis', redis.url, '--queue', 'nosandbox'], { env: { ...process.env, LOCKGRADER_BWRAP: path.join(root, 'no-bwrap-here') } as Record<string, string> });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(/^lockgrader: SANDBOX_UNAVAILABLE: learner scripts must run in a sandbox and none can run here/m);
  }, 60_000);

  describe('SIGTERM', () => {
    // The learner script of a grading of this test's workers (others may be grading the same fixture on this machine).
    const learnerScript = new RegExp(`^/bin/bash ${tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/lgw-\\d+-\\w+/\\S*(challenge2/recover|normalized-recover)\\.sh$`);

    test('with no grace: the running grading is stopped and its job handed back (not an attempt); exit 0, nothing left', async () => {
      const queue = queueOf('handback');
      const worker = await startWorker(['--redis', redis.url, '--queue', 'handback', '--concurrency', '1', '--grace', '0']);
      const { archive } = await packSubmission(repoPath('fixtures/hostile/never-ends'));
      await queue.add('never-ends', { archive: archive.toString('base64'), challenges: [2] }, { jobId: 'forever', attempts: 3 });
      await waitFor(async () => ((await processesMatching(learnerScript)).length > 0 ? true : undefined), { what: 'recover.sh to run', timeoutMs: 120_000, intervalMs: 50 });
      expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      expect(worker.output()).toMatch(/^worker: handed back job forever \(try 1\/3\) never-ends after [\d.]+ s: the worker is shutting down$/m);
      const job = await queue.getJob('forever');
      expect([await job?.getState(), job?.attemptsMade]).toEqual(['waiting', 0]);
      expect(await processesMatching(learnerScript)).toEqual([]);
      expect(await workerFolders()).toEqual([]);
      await queue.obliterate({ force: true });
    }, 180_000);

    test('with grace: the running grading finishes, its job completes, then exit 0', async () => {
      const queue = queueOf('finish');
      const worker = await startWorker(['--redis', redis.url, '--queue', 'finish', '--concurrency', '1']);
      const { archive } = await packSubmission(repoPath('fixtures/submissions/reference'));
      await queue.add('ref', { archive: archive.toString('base64'), challenges: [1] }, { jobId: 'finish-1', attempts: 3 });
      await waitFor(async () => ((await queue.getJob('finish-1'))?.progress as JobProgress | undefined)?.event === 'challenge-started' || undefined, { what: 'the grading to start', timeoutMs: 120_000, intervalMs: 50 });
      expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      const job = await queue.getJob('finish-1');
      expect(await job?.getState()).toBe('completed');
      expect((job?.returnvalue as GradeResult).status).toBe('graded');
      expect(await workerFolders()).toEqual([]);
    }, 180_000);
  });

  describe('enqueue', () => {
    test('refuses a folder over 1 MiB, one with a symlink and a missing one, with the reason; queues nothing; exit 2', async () => {
      const big = path.join(root, 'big-submission');
      await mkdir(big);
      await writeFile(path.join(big, 'terraform.tfstate.backup'), randomBytes(1536 * 1024));
      const linked = path.join(root, 'linked-submission');
      await cp(repoPath('fixtures/submissions/reference'), linked, { recursive: true });
      await symlink('/etc/passwd', path.join(linked, 'challenge1', 'answers.json'));
      const run = await runCli(['enqueue', big, linked, path.join(root, 'nope'), '--redis', redis.url, '--queue', 'refused']);
      expect(run.exitCode).toBe(2);
      expect(run.stdout).toContain(`big-submission  — submission ${big} packs to 1.5 MiB (tar.gz,`);
      expect(run.stdout).toContain('a queued submission may be at most 1.0 MiB');
      expect(run.stdout).toContain(`linked-submission  — challenge1/answers.json in ${linked} is a symbolic link`);
      expect(run.stdout).toContain(`nope  — submission ${path.join(root, 'nope')} does not exist; not queued`);
      expect(Object.values(await queueOf('refused').getJobCounts()).every((count) => count === 0)).toBe(true);
    }, 60_000);

    test('the same submission twice is one job; another attempt is another', async () => {
      const queue = queueOf('dedup');
      const first = await runCli(['enqueue', repoPath('fixtures/submissions/reference'), '--redis', redis.url, '--queue', 'dedup']);
      const again = await runCli(['enqueue', repoPath('fixtures/submissions/reference'), '--redis', redis.url, '--queue', 'dedup']);
      const attempt2 = await runCli(['enqueue', repoPath('fixtures/submissions/reference'), '--redis', redis.url, '--queue', 'dedup', '--attempt', '2']);
      expect([first.exitCode, again.exitCode, attempt2.exitCode]).toEqual([0, 0, 0]);
      const id = /^queued {2}(\S+) {2}reference$/m.exec(first.stdout)?.[1];
      expect(id).toMatch(/-a1$/);
      expect(again.stdout).toContain(`already ${id}  reference (same content and attempt; waiting)`);
      expect(attempt2.stdout).toMatch(/^queued {2}\S+-a2 {2}reference$/m);
      expect((await queue.getJobCounts()).waiting).toBe(2);
    }, 60_000);

    test('no Redis given is a usage error (2); an unreachable one is QUEUE_UNAVAILABLE (3)', async () => {
      const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'LOCKGRADER_REDIS_URL')) as Record<string, string>;
      const none = await runCli(['enqueue', repoPath('fixtures/submissions/reference')], { env });
      expect(none.exitCode).toBe(2);
      expect(none.stderr).toContain('no Redis: pass --redis redis://HOST:PORT or set LOCKGRADER_REDIS_URL');
      const closed = await runCli(['enqueue', repoPath('fixtures/submissions/reference'), '--redis', 'redis://:secret@127.0.0.1:1']);
      expect(closed.exitCode).toBe(3);
      expect(closed.stderr).toContain('cannot reach Redis at redis://:***@127.0.0.1:1');
      expect(closed.stderr).not.toContain('secret');
    }, 60_000);
  });
});
