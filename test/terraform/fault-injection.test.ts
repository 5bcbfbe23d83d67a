// Infrastructure faults are not learner faults: the backend is killed in the
// middle of a grading; the run must end with status "error", exit code 3, and
// no learner check may be "fail" (nobody loses points for it).
import { lockgraderCommand } from '../../src/cli-command.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, test } from '@jest/globals';
import { DynamoDBClient, GetItemCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { execa } from 'execa';
import type { GradeResult } from '../../src/grading/types.ts';
import { repoPath } from '../../src/paths.ts';
import { waitFor } from '../../src/util/wait.ts';
import { runCli } from '../support/cli.ts';
import { lockgraderTempDirs } from '../support/leftovers.ts';

let out: string | undefined;

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

test('killing the backend mid-grading gives status error, exit 3, and no failed learner check', async () => {
  out = await mkdtemp(path.join(tmpdir(), 'lockgrader-fault-test-'));
  const tempBefore = await lockgraderTempDirs();
  const server = execa(...lockgraderCommand(['serve-backend']), { reject: false, buffer: false });
  const firstLine = await new Promise<string>((resolve) => createInterface({ input: server.stdout! }).once('line', resolve));
  const served = JSON.parse(firstLine) as { endpoint: string; dynamodb: string; AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string; AWS_REGION: string };
  const credentials = { accessKeyId: served.AWS_ACCESS_KEY_ID, secretAccessKey: served.AWS_SECRET_ACCESS_KEY };
  const ddb = new DynamoDBClient({ endpoint: served.dynamodb, region: served.AWS_REGION, credentials });
  const json = path.join(out, 'r.json');
  const grading = runCli(['grade', repoPath('fixtures/submissions/reference'), '--challenges', '2', '--backend', 'endpoint', '--endpoint', served.endpoint, '--json', json], {
    env: { AWS_ACCESS_KEY_ID: served.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: served.AWS_SECRET_ACCESS_KEY, AWS_REGION: served.AWS_REGION },
  });
  // The event: the replay's holding apply has its lock (the baseline apply has
  // already written state, so the -md5 digest item exists). Then the backend dies.
  await waitFor(
    async () => {
      const tables = (await ddb.send(new ListTablesCommand({}))).TableNames ?? [];
      const table = tables.find((name) => name.startsWith('c2-locks-'));
      if (!table) return undefined;
      const lockId = `${table.replace('-locks-', '-state-')}/lab/terraform.tfstate`;
      const get = (id: string) => ddb.send(new GetItemCommand({ TableName: table, Key: { LockID: { S: id } }, ConsistentRead: true }));
      const [lock, digest] = await Promise.all([get(lockId), get(`${lockId}-md5`)]);
      return lock.Item && digest.Item ? true : undefined;
    },
    { what: 'the replay to hold its lock', timeoutMs: 120_000, intervalMs: 10 },
  );
  server.kill('SIGKILL');
  await server;
  ddb.destroy();
  // A SIGKILLed backend cannot remove its s3rver folder: this test does.
  for (const dir of (await lockgraderTempDirs()).filter((d) => d.startsWith('lockgrader-s3-') && !tempBefore.includes(d))) {
    await rm(path.join(tmpdir(), dir), { recursive: true, force: true });
  }

  const run = await grading;
  const result = JSON.parse(await readFile(json, 'utf8')) as GradeResult;
  process.stdout.write(`fault injection: exit ${run.exitCode}, status ${result.status}, error: ${result.error?.message}\n`);
  expect(run.exitCode).toBe(3);
  expect(result.status).toBe('error');
  const learnerChecks = result.checks.filter((check) => check.challenge === 2 && !check.id.includes('.replay.'));
  expect(learnerChecks.map((check) => check.status)).toEqual(learnerChecks.map(() => 'error'));
  expect(result.score).toBe(0);
}, 300_000);
