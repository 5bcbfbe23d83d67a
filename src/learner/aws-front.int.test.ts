// The learner's `aws` (the front before this machine's AWS CLI v2) against the
// embedded backend, with only the variables a learner script gets: every call
// must reach the emulator through AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_DYNAMODB.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { startEmbeddedBackend } from '../backend/embedded.ts';
import { createClients, createLabStore, deleteLabStore, type LabStore } from '../backend/lab-store.ts';
import type { StartedBackend } from '../backend/types.ts';
import { installLearnerTools, resolveAwsCliV2 } from './tools.ts';

const cli = await resolveAwsCliV2();
if (!cli) console.log('aws-front.int.test.ts skipped: no AWS CLI v2 on this machine (./dev installs Debian awscli when run as root; see lockgrader doctor)');
const describeWithCli = cli ? describe : describe.skip;

const STATE = '{"version":4,"serial":7,"lineage":"aws-front-test"}\n';
const INFO = '{"ID":"11111111-2222-3333-4444-555555555555","Operation":"OperationTypeApply","Who":"learner@lab"}';

let dir: string;
let backend: StartedBackend;
let store: LabStore;
let binDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  if (!cli) return;
  dir = await mkdtemp(path.join(tmpdir(), 'lockgrader-aws-front-int-'));
  backend = await startEmbeddedBackend();
  store = await createLabStore(backend);
  const { ddb, s3 } = createClients(backend);
  try {
    await s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: store.key, Body: STATE }));
    await ddb.send(new PutItemCommand({ TableName: store.table, Item: { LockID: { S: store.lockId }, Info: { S: INFO } } }));
  } finally {
    ddb.destroy();
    s3.destroy();
  }
  binDir = path.join(dir, 'bin');
  const home = path.join(dir, 'home');
  await mkdir(binDir);
  await mkdir(home);
  const installed = await installLearnerTools(binDir, home);
  expect(installed.missingTools).not.toContain('aws');
  env = {
    AWS_REGION: backend.credentials.region,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_S3: backend.endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: backend.endpoints.dynamodb,
    HOME: home,
    PATH: `${binDir}:/usr/bin:/bin`,
  };
}, 60_000);

afterAll(async () => {
  if (!cli) return;
  if (store) await deleteLabStore(store);
  await backend?.stop();
  await rm(dir, { recursive: true, force: true });
});

// Runs `bash -c script` as a learner script would (only env, binDir first on PATH).
async function learner(script: string) {
  return execa('bash', ['-c', script], { env, extendEnv: false, reject: false, timeout: 60_000 });
}

describeWithCli(`the learner's aws (${cli?.path ?? 'no AWS CLI v2'} ${cli?.version ?? ''}) against the embedded backend`, () => {
  test('aws dynamodb scan --table-name T finds the lock item', async () => {
    const run = await learner(`aws dynamodb scan --table-name ${store.table}`);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const items = (JSON.parse(run.stdout) as { Items: Array<{ LockID: { S: string } }> }).Items;
    expect(items.map((item) => item.LockID.S)).toEqual([store.lockId]);
  }, 60_000);

  test('aws --no-cli-pager dynamodb get-item, piped to jq, reads the lock Info', async () => {
    const key = JSON.stringify({ LockID: { S: store.lockId } });
    const run = await learner(`aws --no-cli-pager dynamodb get-item --table-name ${store.table} --key '${key}' | jq -r '.Item.Info.S | fromjson | .Who'`);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('learner@lab');
  }, 60_000);

  test('global options before the service: aws --region R --output text dynamodb scan --query', async () => {
    const run = await learner(`aws --region ${backend.credentials.region} --output text --cli-read-timeout 20 dynamodb scan --table-name ${store.table} --query 'Items[].LockID.S'`);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(store.lockId);
  }, 60_000);

  test('aws s3 ls s3://bucket/ (path-style against the loopback endpoint)', async () => {
    const run = await learner(`aws s3 ls s3://${store.bucket}/ --recursive`);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`\\s${STATE.length}\\s+${store.key}$`));
  }, 60_000);

  test('aws s3 ls with the endpoint named localhost (path style from ~/.aws/config on CLIs that would use virtual hosts)', async () => {
    const run = await learner(`AWS_ENDPOINT_URL_S3=${backend.endpoints.s3.replace('127.0.0.1', 'localhost')} aws s3 ls s3://${store.bucket}/ --recursive`);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(store.key);
  }, 60_000);

  test('aws s3 cp s3://bucket/key - prints the state', async () => {
    const run = await learner(`aws s3 cp s3://${store.bucket}/${store.key} - | jq -r .serial`);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('7');
  }, 60_000);

  test('aws s3api get-object writes the state to a file', async () => {
    const out = path.join(dir, 'state.json');
    const run = await learner(`aws s3api get-object --bucket ${store.bucket} --key ${store.key} ${out} --query ContentLength`);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(String(STATE.length));
    expect(await readFile(out, 'utf8')).toBe(STATE);
  }, 60_000);

  test('--profile before the service is skipped as an option', async () => {
    // An explicit --profile makes the CLI ignore credentials from the
    // environment (botocore does), so this call is unsigned.
    const run = await learner(`aws --profile default --no-sign-request s3 ls s3://${store.bucket}/${store.key}`);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('terraform.tfstate');
  }, 60_000);

  test('an explicit --endpoint-url is used as given', async () => {
    const run = await learner(`AWS_MAX_ATTEMPTS=1 aws s3 ls s3://${store.bucket}/ --endpoint-url http://127.0.0.1:9 --cli-connect-timeout 2`);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain('http://127.0.0.1:9/');
  }, 60_000);

  test('the real CLI alone ignores AWS_ENDPOINT_URL_* when older than 2.13 (why the front exists)', async () => {
    const [major, minor] = (cli?.version ?? '0.0').split('.').map(Number);
    if (major !== 2 || (minor ?? 0) >= 13) return;
    const run = await learner(`AWS_MAX_ATTEMPTS=1 ${cli!.path} dynamodb scan --table-name ${store.table} --cli-connect-timeout 2 --cli-read-timeout 2`);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain('amazonaws.com');
  }, 60_000);
});
