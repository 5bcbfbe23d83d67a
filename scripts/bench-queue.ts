// npm run bench:queue [-- --copies N] [--json FILE]
//
// Measures the BullMQ queue on one machine against a real redis-server (the
// tests' helper starts it on a loopback port and stops it by PID):
//   - the queue's own cost per job: 300 no-op jobs through a BullMQ Worker
//     with the worker's settings (add -> completed), and packing + unpacking
//     the reference submission;
//   - gradings per minute with real `lockgrader worker` processes and
//     `lockgrader enqueue --wait`: 1 worker at concurrency 2, 1 at 4, and
//     2 workers at 2 each, on --copies copies of the reference (all three
//     challenges), plus each job's time in the worker outside `grade`'s own
//     grading (child start-up, unpacking, result handling);
//   - the same copies through `grade-many --concurrency 4` right after, as the
//     control (the machine is shared: compare within one run of this script).
// Numbers are printed, never asserted; the last line is the report as JSON.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { execa } from 'execa';
import { lockgraderCommand } from '../src/cli-command.ts';
import type { GradeResult } from '../src/grading/types.ts';
import { repoPath } from '../src/paths.ts';
import { packSubmission } from '../src/queue/archive-pack.ts';
import { unpackSubmission } from '../src/queue/archive-unpack.ts';
import { startWorker, type RunningWorker } from '../test/support/queue-worker.ts';
import { locateRedisServer, startRedisServer, type StartedRedis } from '../test/support/redis-server.ts';
import { median } from './bench/model.ts';

const { values } = parseArgs({ options: { copies: { type: 'string', default: '8' }, json: { type: 'string' } } });
const copies = Number(values.copies);

async function queueOverhead(redis: StartedRedis, jobs: number): Promise<{ addMs: number; roundTripMs: number; perJobMs: number }> {
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const queue = new Queue('bench-noop', { connection });
  const events = new QueueEvents('bench-noop', { connection });
  await events.waitUntilReady();
  const worker = new Worker('bench-noop', async () => ({ ok: true }), { connection, concurrency: 1, lockDuration: 30_000 });
  await worker.waitUntilReady();
  const roundTrips: number[] = [];
  const adds: number[] = [];
  const started = performance.now();
  for (let n = 0; n < jobs; n += 1) {
    const t0 = performance.now();
    const job = await queue.add('noop', { n, archive: 'A'.repeat(4000) }, { jobId: `noop-${n}`, removeOnComplete: { age: 3600, count: 10_000 } });
    adds.push(performance.now() - t0);
    await job.waitUntilFinished(events);
    roundTrips.push(performance.now() - t0);
  }
  const total = performance.now() - started;
  await worker.close();
  await events.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { addMs: median(adds), roundTripMs: median(roundTrips), perJobMs: total / jobs };
}

async function packing(): Promise<{ packMs: number; unpackMs: number; archiveBytes: number }> {
  const packs: number[] = [];
  const unpacks: number[] = [];
  let archiveBytes = 0;
  for (let n = 0; n < 20; n += 1) {
    const t0 = performance.now();
    const packed = await packSubmission(repoPath('fixtures/submissions/reference'));
    packs.push(performance.now() - t0);
    archiveBytes = packed.archive.length;
    const dest = await mkdtemp(path.join(tmpdir(), 'lockgrader-bench-unpack-'));
    const t1 = performance.now();
    await unpackSubmission(packed.archive, path.join(dest, 'sub'));
    unpacks.push(performance.now() - t1);
    await rm(dest, { recursive: true, force: true });
  }
  return { packMs: median(packs), unpackMs: median(unpacks), archiveBytes };
}

interface Throughput {
  label: string;
  workers: number;
  concurrency: number;
  gradings: number;
  wallSeconds: number;
  perMinute: number;
  /** Median of (time the job spent in the worker) - (grade's own duration_ms). */
  workerOverheadMs: number;
  allMax: boolean;
  /** Checks that did not pass, "check: status", over all gradings of the run. */
  notPassed: string[];
}

async function throughput(redis: StartedRedis, root: string, workers: number, concurrency: number, run: number): Promise<Throughput> {
  const queueName = `bench-${run}`;
  const dirs: string[] = [];
  for (let n = 0; n < copies; n += 1) {
    const dir = path.join(root, `run${run}`, `learner-${n}`);
    await cp(repoPath('fixtures/submissions/reference'), dir, { recursive: true });
    await writeFile(path.join(dir, 'NOTES.txt'), `run ${run} copy ${n}\n`);
    dirs.push(dir);
  }
  const running: RunningWorker[] = [];
  for (let n = 0; n < workers; n += 1) running.push(await startWorker(['--redis', redis.url, '--queue', queueName, '--concurrency', String(concurrency)]));
  const started = performance.now();
  const enqueue = await execa(...lockgraderCommand(['enqueue', ...dirs, '--redis', redis.url, '--queue', queueName, '--wait', '--out', path.join(root, `out${run}`)]), { reject: false });
  const wallSeconds = (performance.now() - started) / 1000;
  for (const worker of running) await worker.stop('SIGTERM');
  const queue = new Queue(queueName, { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null } });
  const jobs = await queue.getJobs(['completed']);
  const overheads = jobs.map((job) => (job.finishedOn ?? 0) - (job.processedOn ?? 0) - (job.returnvalue as GradeResult).duration_ms);
  const allMax = jobs.length === copies && jobs.every((job) => (job.returnvalue as GradeResult).score === (job.returnvalue as GradeResult).max_score);
  const notPassed = jobs.flatMap((job) => (job.returnvalue as GradeResult).checks.filter((check) => check.status !== 'pass').map((check) => `${check.id}: ${check.status}`));
  const failed = await queue.getJobs(['failed']);
  notPassed.push(...failed.map((job) => `job ${job.id} failed: ${job.failedReason}`));
  await queue.obliterate({ force: true });
  await queue.close();
  if (enqueue.exitCode !== 0) process.stderr.write(`enqueue exited ${enqueue.exitCode}: ${String(enqueue.stdout)}\n${String(enqueue.stderr)}\n`);
  return { label: `${workers} worker${workers > 1 ? 's' : ''} x concurrency ${concurrency}`, workers, concurrency, gradings: jobs.length, wallSeconds, perMinute: (jobs.length * 60) / wallSeconds, workerOverheadMs: median(overheads), allMax, notPassed };
}

// The same copies through `grade-many --concurrency N` (no queue), in the same minutes: the control.
async function gradeManyControl(root: string, concurrency: number, run: number): Promise<{ label: string; gradings: number; wallSeconds: number; perMinute: number; notPassed: string[] }> {
  const dirs: string[] = [];
  for (let n = 0; n < copies; n += 1) {
    const dir = path.join(root, `run${run}`, `learner-${n}`);
    await cp(repoPath('fixtures/submissions/reference'), dir, { recursive: true });
    dirs.push(dir);
  }
  const out = path.join(root, `out${run}`);
  const started = performance.now();
  await execa(...lockgraderCommand(['grade-many', ...dirs, '--concurrency', String(concurrency), '--out', out]), { reject: false });
  const wallSeconds = (performance.now() - started) / 1000;
  const results = await Promise.all(dirs.map((dir) => readFile(path.join(out, `${path.basename(dir)}.json`), 'utf8').then((text) => JSON.parse(text) as GradeResult, () => undefined)));
  const graded = results.filter((result): result is GradeResult => result !== undefined);
  const notPassed = graded.flatMap((result) => result.checks.filter((check) => check.status !== 'pass').map((check) => `${check.id}: ${check.status}`));
  return { label: `grade-many --concurrency ${concurrency} (no queue)`, gradings: graded.length, wallSeconds, perMinute: (graded.length * 60) / wallSeconds, notPassed };
}

const found = await locateRedisServer();
if (!('binary' in found)) {
  console.error(`bench:queue: ${found.reason}`);
  process.exit(2);
}
const redis = await startRedisServer(found.binary);
const root = await mkdtemp(path.join(tmpdir(), 'lockgrader-bench-queue-'));
try {
  console.log(`bench:queue: redis-server ${found.binary} on ${redis.url}; ${copies} reference copies per configuration, all three challenges; load average ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}`);
  const overhead = await queueOverhead(redis, 300);
  console.log(`  queue alone (300 no-op jobs, one at a time): add ${overhead.addMs.toFixed(2)} ms, add -> completed ${overhead.roundTripMs.toFixed(2)} ms (median), ${overhead.perJobMs.toFixed(2)} ms per job`);
  const pack = await packing();
  console.log(`  reference archive: ${pack.archiveBytes} bytes; pack ${pack.packMs.toFixed(1)} ms, unpack ${pack.unpackMs.toFixed(1)} ms (median of 20)`);
  const runs: Throughput[] = [];
  for (const [index, [workers, concurrency]] of ([[1, 2], [1, 4], [2, 2]] as const).entries()) {
    const result = await throughput(redis, root, workers, concurrency, index);
    runs.push(result);
    const load = (await readFile('/proc/loadavg', 'utf8')).split(' ')[0];
    console.log(`  ${result.label.padEnd(28)} ${result.gradings} gradings in ${result.wallSeconds.toFixed(1)} s: ${result.perMinute.toFixed(1)} gradings/min; worker time outside grade's grading ${result.workerOverheadMs.toFixed(0)} ms/job (median); load ${load}; all 100/100: ${result.allMax ? 'yes' : `NO (${result.notPassed.join('; ')})`}`);
  }
  const control = await gradeManyControl(root, 4, 9);
  console.log(`  ${control.label.padEnd(28)} ${control.gradings} gradings in ${control.wallSeconds.toFixed(1)} s: ${control.perMinute.toFixed(1)} gradings/min; load ${(await readFile('/proc/loadavg', 'utf8')).split(' ')[0]}; all pass: ${control.notPassed.length === 0 ? 'yes' : `NO (${control.notPassed.join('; ')})`}`);
  const report = { copies, overhead, pack, runs, control };
  if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report));
} finally {
  await redis.stop();
  await rm(root, { recursive: true, force: true });
}
