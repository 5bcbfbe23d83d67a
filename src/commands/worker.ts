// `lockgrader worker`: a BullMQ Worker on Redis that grades one job per slot,
// each in its own `lockgrader grade` child with its own backend and sandbox
// (src/queue/process-job.ts). SIGTERM (or SIGINT): take no new job, give the
// running gradings --grace seconds to finish, hand the rest back to the queue,
// exit 0. A second signal hands back at once.
import { hostname, availableParallelism } from 'node:os';
import { Worker } from 'bullmq';
import { chooseSandbox } from '../grading/session.ts';
import { locateTerraform } from '../terraform/locate.ts';
import { gradingProcessor, STOP_REASONS, type GradingJob } from '../queue/process-job.ts';
import { assertRedisReachable, redactRedisUrl, redisOptionsFromUrl, redisUrlFrom } from '../queue/redis-connection.ts';
import { DEFAULT_QUEUE_NAME } from '../queue/queue-settings.ts';
import { s3ArchiveReader } from '../queue/s3-source.ts';
import { openWorkerFolder, sweepDeadWorkerFolders } from '../queue/worker-folder.ts';
import type { GradeResult } from '../grading/types.ts';
import { secondsOption, wholeNumberOption } from './number-options.ts';
import { COMMANDS, parseArgsOptions } from './option-tables.ts';
import { parseCommandArgs } from './parse-command-args.ts';
import { LockgraderError } from '../errors.ts';

/** Variables a learner-facing `grade` child never needs: the worker's storage and queue credentials. */
export function childEnvironment(env: NodeJS.ProcessEnv, terraformPath: string): NodeJS.ProcessEnv {
  const kept = Object.entries(env).filter(([name]) => !/^AWS_/.test(name) && name !== 'LOCKGRADER_REDIS_URL');
  return { ...Object.fromEntries(kept), LOCKGRADER_TERRAFORM: terraformPath };
}

function log(line: string): void {
  console.log(`worker: ${line}`);
}

export async function workerCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, parseArgsOptions(COMMANDS.worker.options));
  if (positionals.length > 0) throw new LockgraderError('USAGE', `worker takes no positional arguments (got ${positionals.join(' ')})`);
  const url = redisUrlFrom(values.redis);
  const connection = redisOptionsFromUrl(url);
  const concurrency = wholeNumberOption('--concurrency', values.concurrency, availableParallelism());
  const graceMs = secondsOption('--grace', values.grace, 20) * 1000;
  const stalledMs = Math.max(1000, secondsOption('--stalled-seconds', values['stalled-seconds'], 30) * 1000);
  const timeLimitMs = Math.max(1000, secondsOption('--time-limit', values['time-limit'], 720) * 1000);
  const queueName = values.queue ?? DEFAULT_QUEUE_NAME;

  // Found once, handed to every grading. A machine without terraform or a
  // sandbox takes no jobs (exit 3) rather than burn every job's tries.
  const terraform = await locateTerraform();
  await chooseSandbox(false);
  await assertRedisReachable(url);
  for (const dir of await sweepDeadWorkerFolders()) log(`removed ${dir} (its worker is gone)`);
  const folder = await openWorkerFolder();
  const s3 = s3ArchiveReader({ endpoint: values['s3-endpoint'] });

  const worker = new Worker<unknown, GradeResult>(
    queueName,
    gradingProcessor({ folder, env: childEnvironment(process.env, terraform.path), readS3: s3.read, timeLimitMs, log }) as (job: GradingJob, token?: string, signal?: AbortSignal) => Promise<GradeResult>,
    {
      connection,
      concurrency,
      name: `${hostname()}:${process.pid}`,
      lockDuration: stalledMs,
      stalledInterval: stalledMs,
      maxStalledCount: 1,
      autorun: false,
    },
  );
  worker.on('error', (error) => log(`error: ${error.message}`));
  // Another worker took a job over (this one stalled): stop grading it, its result would be refused anyway.
  worker.on('lockRenewalFailed', (jobIds: string[]) => {
    for (const id of jobIds) worker.cancelJob(id, STOP_REASONS.lockLost);
  });

  let signals = 0;
  let handBackTimer: NodeJS.Timeout | undefined;
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals === 1) {
        log(`${signal}: taking no new jobs; running gradings have ${graceMs / 1000} s to finish, then go back to the queue`);
        handBackTimer = setTimeout(() => worker.cancelAllJobs(STOP_REASONS.shutdown), graceMs);
        resolve(signal);
      } else {
        log(`${signal} again: handing the running jobs back now`);
        worker.cancelAllJobs(STOP_REASONS.shutdown);
      }
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });

  const running = worker.run();
  await worker.waitUntilReady();
  log(`ready: queue "${queueName}" at ${redactRedisUrl(url)}, concurrency ${concurrency}, ${terraform.flavour} ${terraform.version}`);
  await Promise.race([stopped, running]);
  await worker.close();
  clearTimeout(handBackTimer);
  await running.catch(() => undefined);
  s3.close();
  await folder.close();
  for (const dir of await sweepDeadWorkerFolders()) log(`removed ${dir} (its worker is gone)`);
  log('stopped');
  return 0;
}
