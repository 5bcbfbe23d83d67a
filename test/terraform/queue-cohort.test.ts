// Issue 16's "done when": two `lockgrader worker` processes on a real
// redis-server grade 24 jobs — copies of the reference, known-bad fixtures and
// one unreadable upload (an S3 object that is not an archive) — enqueued by
// `lockgrader enqueue --wait`. One worker is SIGKILLed mid-grading; the other
// takes its jobs over. Every job ends exactly once, with the verdicts the
// fixtures' expected.json give (what `grade` gives them), the unreadable one
// fails without retries, and no process, temp folder or Redis key of a
// finished job is left (BullMQ's retention of finished jobs aside).
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { execa, type ResultPromise } from 'execa';
import { Redis } from 'ioredis';
import { startEmbeddedBackend } from '../../src/backend/embedded.ts';
import type { StartedBackend } from '../../src/backend/types.ts';
import { lockgraderCommand } from '../../src/cli-command.ts';
import type { GradeResult } from '../../src/grading/types.ts';
import { readExpectation } from '../../src/grading/verify.ts';
import { repoPath } from '../../src/paths.ts';
import type { JobProgress } from '../../src/queue/process-job.ts';
import { validateResults } from '../../src/report/schema-validation.ts';
import { waitFor } from '../../src/util/wait.ts';
import { processesMatching } from '../support/leftovers.ts';
import { startWorker, type RunningWorker } from '../support/queue-worker.ts';
import { startRedisServer, type StartedRedis } from '../support/redis-server.ts';
import { describeWithRedis } from '../support/redis-tests.ts';

const QUEUE = 'cohort';
const CHALLENGES = '1,2';
const BAD = ['c1-wrong-lock-id', 'c1-missing', 'c1-not-json', 'c2-unlock-only', 'c2-lock-false', 'c2-raw-delete', 'c2-missing', 'c2-hardcoded-id'];
const REFERENCE_COPIES = 15;
const UNREADABLE = 's3://uploads/learner-42/broken-upload.tar.gz';

let root: string;
let out: string;
let redis: StartedRedis;
let backend: StartedBackend;
let client: Redis;
let queue: Queue;
let killed: { workerPid: number; jobId: string };
let enqueueRun: { exitCode?: number; stdout: string; stderr: string };
const workerOutputs: string[] = [];
/** Results name -> the fixture whose expected.json it must match. */
const fixtureOf: Record<string, string> = {};

const ownProcesses = () => processesMatching(new RegExp(`${tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/lgw-`));

await describeWithRedis('issue 16: two workers, 24 jobs, one worker SIGKILLed', (binary) => {
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'lockgrader-test-cohort-'));
    out = path.join(root, 'results');
    redis = await startRedisServer(binary);
    client = new Redis(redis.url);
    queue = new Queue(QUEUE, { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null } });
    backend = await startEmbeddedBackend();
    const s3 = new S3Client({ endpoint: backend.endpoints.s3, forcePathStyle: true, region: backend.credentials.region, credentials: backend.credentials });
    await s3.send(new CreateBucketCommand({ Bucket: 'uploads' }));
    await s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'learner-42/broken-upload.tar.gz', Body: 'this upload was cut off by a flaky network' }));
    s3.destroy();

    const dirs: string[] = [];
    for (let n = 1; n <= REFERENCE_COPIES; n += 1) {
      const dir = path.join(root, 'subs', `learner-${String(n).padStart(2, '0')}`);
      await cp(repoPath('fixtures/submissions/reference'), dir, { recursive: true });
      await writeFile(path.join(dir, 'NOTES.txt'), `learner ${n}\n`); // each learner's copy is its own content
      dirs.push(dir);
      fixtureOf[path.basename(dir)] = repoPath('fixtures/submissions/reference');
    }
    for (const name of BAD) {
      dirs.push(repoPath('fixtures/submissions', name));
      fixtureOf[name] = repoPath('fixtures/submissions', name);
    }

    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: backend.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: backend.credentials.secretAccessKey,
      AWS_REGION: backend.credentials.region,
    };
    const workerArgs = ['--redis', redis.url, '--queue', QUEUE, '--concurrency', '2', '--stalled-seconds', '8', '--s3-endpoint', backend.endpoints.s3];
    const workers: RunningWorker[] = [await startWorker(workerArgs, env), await startWorker(workerArgs, env)];
    const [victim, survivor] = workers as [RunningWorker, RunningWorker];

    const enqueue: ResultPromise = execa(...lockgraderCommand(['enqueue', ...dirs, UNREADABLE, '--redis', redis.url, '--queue', QUEUE, '--challenges', CHALLENGES, '--wait', '--out', out]), { reject: false, cwd: repoPath() });

    // Mid-grading: a challenge of a job the victim holds has started.
    const jobId = await waitFor(
      async () => {
        const active = await queue.getJobs(['active']);
        return active.find((job) => job.processedBy === `${hostname()}:${victim.pid}` && (job.progress as JobProgress | undefined)?.event === 'challenge-started')?.id;
      },
      { what: 'the victim worker to be mid-grading', timeoutMs: 180_000, intervalMs: 50 },
    );
    process.kill(victim.pid, 'SIGKILL');
    killed = { workerPid: victim.pid, jobId: jobId as string };
    workerOutputs.push(victim.output());

    const result = await enqueue;
    enqueueRun = { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
    process.stdout.write(`${enqueueRun.stdout}\n${enqueueRun.stderr}\n`);
    expect(await survivor.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    workerOutputs.push(survivor.output());
    process.stdout.write(`${workerOutputs.join('\n')}\n`);
  }, 900_000);

  afterAll(async () => {
    await queue?.close();
    client?.disconnect();
    await backend?.stop();
    await redis?.stop();
    await rm(root, { recursive: true, force: true });
  });

  test('enqueue --wait printed 24 outcomes: 23 graded, the unreadable upload refused; exit 2', () => {
    const lines = enqueueRun.stdout.split('\n');
    expect(lines.filter((line) => /^queued {2}\S+-a1 {2}\S+$/.test(line))).toHaveLength(24);
    expect(lines.filter((line) => line.startsWith('graded '))).toHaveLength(23);
    const refused = lines.filter((line) => line.startsWith('missing '));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/broken-upload {2}— SUBMISSION_UNREADABLE: the submission is not a gzip-compressed tar archive/);
    expect(enqueueRun.exitCode).toBe(2);
  });

  test('every job ended exactly once: one completed (or, for the upload, one failed) event per job, and nothing else final', async () => {
    const events = (await client.xrange(`bull:${QUEUE}:events`, '-', '+')).map(([, fields]) => Object.fromEntries(fields.reduce<string[][]>((pairs, value, index) => (index % 2 ? pairs : [...pairs, [value, fields[index + 1] as string]]), [])));
    const jobs = await queue.getJobs(['completed', 'failed']);
    expect(jobs).toHaveLength(24);
    for (const job of jobs) {
      const finals = events.filter((event) => event.jobId === job.id && (event.event === 'completed' || event.event === 'failed')).map((event) => event.event);
      expect([job.name, finals]).toEqual([job.name, [job.name === 'broken-upload' ? 'failed' : 'completed']]);
      // Progress events: each challenge started and finished (a graded job's last grading at least).
      const progress = events.filter((event) => event.jobId === job.id && event.event === 'progress').map((event) => JSON.parse(event.data as string) as JobProgress);
      const seen = new Set(progress.map((p) => `${p.event} ${p.challenge}`));
      const expected = job.name === 'broken-upload' ? [] : ['challenge-started 1', 'challenge-started 2', 'challenge-finished 1', 'challenge-finished 2'];
      expect([job.name, [...seen].filter((entry) => expected.includes(entry)).sort()]).toEqual([job.name, expected.sort()]);
    }
  });

  test('the killed worker\'s job was taken over by the other worker and completed once', async () => {
    const job = await queue.getJob(killed.jobId);
    expect(await job?.getState()).toBe('completed');
    expect(job?.processedBy).not.toBe(`${hostname()}:${killed.workerPid}`);
    expect(job?.stalledCounter).toBe(1);
    expect(job?.attemptsStarted).toBeGreaterThanOrEqual(2);
    expect((job?.returnvalue as GradeResult).status).toBe('graded');
  });

  test('the unreadable upload failed at once, without retries', async () => {
    const [job] = (await queue.getJobs(['failed'])).filter((j) => j.name === 'broken-upload');
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(/^SUBMISSION_UNREADABLE: the submission is not a gzip-compressed tar archive/);
  });

  test('verdicts are those grade gives (the fixtures\' expected.json); every reference copy scores the maximum', async () => {
    const completed = await queue.getJobs(['completed']);
    expect(completed).toHaveLength(23);
    for (const job of completed) {
      const result = job.returnvalue as GradeResult;
      expect([job.name, validateResults(result)]).toEqual([job.name, []]);
      expect([job.name, result.status]).toEqual([job.name, 'graded']);
      const expectation = await readExpectation(fixtureOf[job.name] as string);
      const asked = Object.entries(expectation.checks).filter(([id]) => ['1', '2'].includes(id.slice(1, 2)));
      expect(asked.length).toBeGreaterThan(0);
      const got = Object.fromEntries(asked.map(([id]) => [id, result.checks.find((check) => check.id === id)?.status]));
      expect([job.name, got]).toEqual([job.name, Object.fromEntries(asked)]);
      if (job.name.startsWith('learner-')) expect([job.name, result.score]).toEqual([job.name, result.max_score]);
    }
  });

  test('one results file per graded job, whole and equal to the job\'s return value; nothing half-written', async () => {
    const files = (await readdir(out)).sort();
    const completed = await queue.getJobs(['completed']);
    expect(files).toEqual(completed.map((job) => `${job.name}.json`).sort());
    for (const job of completed) expect(JSON.parse(await readFile(path.join(out, `${job.name}.json`), 'utf8'))).toEqual(job.returnvalue);
  });

  test('no process and no temp folder of either worker is left (the survivor removed the killed one\'s)', async () => {
    const left = await waitFor(async () => {
      const found = await ownProcesses();
      return found.length === 0 ? found : undefined;
    }, { what: 'the gradings of the workers to be gone', timeoutMs: 30_000, intervalMs: 100 }).catch(async () => ownProcesses());
    expect(left).toEqual([]);
    expect((await readdir(tmpdir())).filter((name) => name.startsWith('lgw-'))).toEqual([]);
    expect(workerOutputs[1]).toMatch(new RegExp(`removed \\S+/lgw-${killed.workerPid}-\\w+ \\(its worker is gone\\)`));
  });

  test('Redis holds only the queue and the retained finished jobs: no locks, nothing waiting, active, delayed or stalled', async () => {
    const keys = (await client.keys('*')).sort();
    const ids = new Set((await queue.getJobs(['completed', 'failed'])).map((job) => job.id));
    const structure = new Set(['id', 'meta', 'events', 'completed', 'failed', 'stalled-check', 'marker', 'stalled', 'wait', 'active', 'delayed', 'prioritized', 'paused', 'pc', 'metrics', 'limiter']);
    const unexpected = keys.filter((key) => {
      const rest = key.slice(`bull:${QUEUE}:`.length);
      return !key.startsWith(`bull:${QUEUE}:`) || !(structure.has(rest) || ids.has(rest));
    });
    expect(unexpected).toEqual([]);
    expect(keys.filter((key) => key.endsWith(':lock'))).toEqual([]);
    expect(await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children')).toEqual({ wait: 0, active: 0, delayed: 0, prioritized: 0, 'waiting-children': 0 });
    expect(await client.llen(`bull:${QUEUE}:stalled`)).toBe(0);
    expect(await client.exists(`bull:${QUEUE}:stalled`)).toBe(0);
    // The retention the jobs were added with (queue-settings.ts): kept a day / a week, at most 10,000.
    const [someJob] = await queue.getJobs(['completed']);
    expect(someJob?.opts.removeOnComplete).toEqual({ age: 86_400, count: 10_000 });
    expect(someJob?.opts.removeOnFail).toEqual({ age: 604_800, count: 10_000 });
  });
});
