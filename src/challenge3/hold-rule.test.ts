import { describe, expect, test } from '@jest/globals';
import type { BackendRequest } from '../evidence/backend-log.ts';
import type { StoreNames } from '../evidence/store-names.ts';
import { POLLING_WINDOW_MS, looksAtLock, pollingAt, sentByTerraform } from './hold-rule.ts';

const dynamodb: StoreNames = { variant: 'dynamodb', bucket: 'b', key: 'lab/terraform.tfstate', table: 'locks', lockId: 'b/lab/terraform.tfstate', digestId: 'b/lab/terraform.tfstate-md5', locks: [{ kind: 'item', lockId: 'b/lab/terraform.tfstate' }] };
const lockfile: StoreNames = { variant: 'lockfile', bucket: 'b', key: 'lab/terraform.tfstate', lockId: 'b/lab/terraform.tfstate', locks: [{ kind: 'object', bucket: 'b', key: 'lab/terraform.tfstate.tflock' }] };

let seq = 0;
const request = (fields: Partial<BackendRequest> & { operation: string }): BackendRequest => ({
  seq: seq++, at: 1_000, endAt: 1_005, run: 'c3:contention', connection: 1, service: 'dynamodb', conditional: false, status: 200, userAgent: '', client: 'aws-cli', ...fields,
});

describe('looksAtLock', () => {
  test.each<[string, StoreNames, BackendRequest, boolean]>([
    ['terraform taking the lock item', dynamodb, request({ operation: 'PutItem', table: 'locks', lockId: 'b/lab/terraform.tfstate', conditional: true, client: 'tofu' }), true],
    ['a poll of the lock item (get-item)', dynamodb, request({ operation: 'GetItem', table: 'locks', lockId: 'b/lab/terraform.tfstate' }), true],
    ['a scan of the lock table', dynamodb, request({ operation: 'Scan', table: 'locks' }), true],
    ['another table', dynamodb, request({ operation: 'Scan', table: 'other' }), false],
    ['a read of the state (terraform init, output)', dynamodb, request({ operation: 'GetObject', service: 's3', bucket: 'b', key: 'lab/terraform.tfstate' }), false],
    ['a listing of the bucket where the lock is an item', dynamodb, request({ operation: 'ListObjects', service: 's3', bucket: 'b' }), false],
    ['another run', dynamodb, request({ operation: 'GetItem', table: 'locks', lockId: 'b/lab/terraform.tfstate', run: 'harness' }), false],
    ['a HEAD of the .tflock (s3api head-object)', lockfile, request({ operation: 'HeadObject', service: 's3', bucket: 'b', key: 'lab/terraform.tfstate.tflock' }), true],
    ['a read of the .tflock', lockfile, request({ operation: 'GetObject', service: 's3', bucket: 'b', key: 'lab/terraform.tfstate.tflock' }), true],
    ['aws s3 ls of the .tflock (a listing)', lockfile, request({ operation: 'ListObjects', service: 's3', bucket: 'b' }), true],
  ])('%s → %s', (_name, names, q, expected) => {
    expect(looksAtLock(q, names, 'c3:contention')).toBe(expected);
  });
});

describe('pollingAt: may the holder let go at its bound?', () => {
  const poll = (at: number) => request({ operation: 'GetItem', table: 'locks', lockId: 'b/lab/terraform.tfstate', at });
  test.each<[string, BackendRequest[], boolean]>([
    ['a pipeline that only slept (no request at all): no (c3-cheat-sleep-past-holder)', [], false],
    ['one that read the lock once at the start and then slept: no', [poll(500)], false],
    ['a poller, its last look 2 s ago: yes', [poll(500), poll(6_000)], true],
    ['a look right at the edge of the window: yes', [poll(8_000 - POLLING_WINDOW_MS)], true],
    ['only state reads lately: no', [request({ operation: 'GetObject', service: 's3', bucket: 'b', key: 'lab/terraform.tfstate', at: 7_000 })], false],
  ])('%s', (_name, requests, expected) => {
    expect(pollingAt(requests, dynamodb, 'c3:contention', 8_000)).toBe(expected);
  });
});

describe('sentByTerraform: whose refusals and reads stand for terraform\'s retry', () => {
  const refusedPut = (fields: Partial<BackendRequest>) => request({ operation: 'PutItem', table: 'locks', lockId: 'b/lab/terraform.tfstate', conditional: true, status: 400, errorType: 'ConditionalCheckFailedException', ...fields });
  const real = { terraformAlive: [{ pid: 41, args: ['apply'], tf_cli_args: {} }] };
  test.each<[string, BackendRequest, boolean]>([
    ['tofu, traced to the real binary', refusedPut({ client: 'tofu', ...real, sender: { terraform: true, pid: 41, detail: 'tofu (pid 41)' } }), true],
    ['terraform, not watched (no sandbox)', refusedPut({ client: 'terraform' }), true],
    ['the AWS CLI playing its part (c3-cheat-fake-refusals)', refusedPut({ client: 'aws-cli', ...real }), false],
    ['curl claiming to be OpenTofu, traced to curl', refusedPut({ client: 'tofu', ...real, sender: { terraform: false, pid: 57, detail: 'curl (pid 57)' } }), false],
    ['claiming to be terraform with no terraform alive in the run', refusedPut({ client: 'terraform', terraformAlive: [] }), false],
  ])('%s → %s', (_name, q, expected) => {
    expect(sentByTerraform(q)).toBe(expected);
  });
});
