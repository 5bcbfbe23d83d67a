// What a learner script's environment says about the lab's locks, per variant
// (contract, "Lab variants"): LAB_LOCK_OBJECT in the lockfile variants,
// LAB_LOCK_TABLE only where a table exists.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { LabStore } from '../backend/lab-store.ts';
import type { LabVariant } from '../backend/lab-variant.ts';
import { prepareLearnerEnvironment } from './environment.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'lockgrader-env-test-'));
  await mkdir(path.join(root, 'ws'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function store(variant: LabVariant): LabStore {
  const backend = {
    kind: 'moto' as const,
    endpoints: { s3: 'http://127.0.0.1:1', dynamodb: 'http://127.0.0.1:1', single: 'http://127.0.0.1:1' },
    credentials: { accessKeyId: 'test', secretAccessKey: 'test', region: 'us-east-1' },
    description: 'test',
    startMs: 0,
    capabilities: { s3ConditionalWrites: true },
    stop: async () => undefined,
  };
  const key = 'lab/terraform.tfstate';
  return {
    backend,
    variant,
    bucket: 'b',
    key,
    lockId: `b/${key}`,
    ...(variant !== 'lockfile' ? { table: 't', digestId: `b/${key}-md5` } : {}),
    ...(variant !== 'dynamodb' ? { lockObjectKey: `${key}.tflock` } : {}),
  };
}

test.each([
  ['dynamodb', 't', undefined],
  ['lockfile', undefined, 's3://b/lab/terraform.tfstate.tflock'],
  ['both', 't', 's3://b/lab/terraform.tfstate.tflock'],
] as const)('%s: LAB_LOCK_TABLE %s, LAB_LOCK_OBJECT %s', async (variant, table, object) => {
  const env = await prepareLearnerEnvironment({
    root: path.join(root, variant),
    store: store(variant),
    workspaceDir: path.join(root, 'ws'),
    submissionCopy: root,
    terraformBinary: '/bin/true',
  });
  expect(env.env.LAB_LOCK_TABLE).toBe(table);
  expect(env.env.LAB_LOCK_OBJECT).toBe(object);
  expect(Object.keys(env.env).filter((name) => name.startsWith('LAB_'))).toEqual(
    expect.arrayContaining(['LAB_STATE_BUCKET', 'LAB_STATE_KEY', 'LAB_SUBMISSION_DIR', ...(table ? ['LAB_LOCK_TABLE'] : []), ...(object ? ['LAB_LOCK_OBJECT'] : [])]),
  );
  expect('LAB_LOCK_TABLE' in env.env).toBe(table !== undefined);
}, 60_000);
