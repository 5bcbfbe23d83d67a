// The S3 backend block per lab variant: the DynamoDB table only where one
// exists, use_lockfile where the lock is the .tflock object.
import { expect, test } from '@jest/globals';
import type { LabStore } from '../backend/lab-store.ts';
import { renderBackendConfig } from './backend-config.ts';

const backend = {
  kind: 'moto' as const,
  endpoints: { s3: 'http://127.0.0.1:1', dynamodb: 'http://127.0.0.1:1' },
  credentials: { accessKeyId: 'test', secretAccessKey: 'test', region: 'us-east-1' },
  description: 'test',
  startMs: 0,
  capabilities: { s3ConditionalWrites: true },
  stop: async () => undefined,
};
const base = { backend, bucket: 'b', key: 'lab/terraform.tfstate', lockId: 'b/lab/terraform.tfstate' };

test.each([
  ['dynamodb', { ...base, variant: 'dynamodb', table: 't', digestId: 'b/lab/terraform.tfstate-md5' }, true, false],
  ['lockfile', { ...base, variant: 'lockfile', lockObjectKey: 'lab/terraform.tfstate.tflock' }, false, true],
  ['both', { ...base, variant: 'both', table: 't', digestId: 'x', lockObjectKey: 'lab/terraform.tfstate.tflock' }, true, true],
] as Array<[string, LabStore, boolean, boolean]>)('%s', (_variant, store, table, lockfile) => {
  const hcl = renderBackendConfig(store);
  expect(hcl.includes('dynamodb_table = "t"')).toBe(table);
  expect(/^use_lockfile\s+= true$/m.test(hcl)).toBe(lockfile);
  expect(hcl).toMatch(/^bucket\s+= "b"$/m);
  expect(hcl).not.toMatch(/endpoint|access_key|secret_key/);
});
