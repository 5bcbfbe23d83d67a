// Builds BackendRequest lists for judge table tests: each step is one request
// at a given ms, lasting 5 ms; seq is its position.
import { createHash } from 'node:crypto';
import { stateObject } from '../../src/backend/lab-store.ts';
import type { BackendRequest, ClientKind } from '../../src/evidence/backend-log.ts';

export const BUCKET = 'lab-bucket';
export const KEY = 'lab/terraform.tfstate';
export const LOCK = `${BUCKET}/${KEY}`;
export const DIGEST = `${LOCK}-md5`;
export const NAMES = { bucket: BUCKET, key: KEY, table: 'locks', lockId: LOCK, digestId: DIGEST };

export type Step = Partial<BackendRequest> & { at: number; run: string; operation: string };

export function requests(steps: Step[]): BackendRequest[] {
  return steps.map((step, seq) => {
    const client: ClientKind = step.client ?? 'terraform';
    return {
      seq,
      endAt: step.at + 5,
      connection: seq,
      service: step.service ?? (['PutObject', 'GetObject', 'CopyObject', 'DeleteObject', 'HeadObject'].includes(step.operation) ? 's3' : 'dynamodb'),
      conditional: false,
      status: 200,
      userAgent: client,
      client,
      ...step,
    };
  });
}

export const lockInfo = (id: string, operation = 'OperationTypeApply') =>
  JSON.stringify({ ID: id, Operation: operation, Info: '', Who: 'u@h', Version: '1.11.4', Created: '2026-11-27T10:00:00Z', Path: LOCK });

export const acquire = (at: number, run: string, id: string, operation = 'OperationTypeApply', extra: Partial<BackendRequest> = {}): Step => ({
  at,
  run,
  operation: 'PutItem',
  lockId: LOCK,
  conditional: true,
  condition: 'attribute_not_exists(LockID)',
  item: { LockID: LOCK, Info: lockInfo(id, operation) },
  ...extra,
});
export const refused = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ ...acquire(at, run, 'x'), status: 400, errorType: 'ConditionalCheckFailedException', ...extra });
export const readLock = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ at, run, operation: 'GetItem', lockId: LOCK, ...extra });
export const release = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ at, run, operation: 'DeleteItem', lockId: LOCK, conditional: true, condition: 'Info = :info', ...extra });
export const putState = (at: number, run: string, body: string, extra: Partial<BackendRequest> = {}): Step => ({ at, run, operation: 'PutObject', bucket: BUCKET, key: KEY, body, ...extra });
export const putDigest = (at: number, run: string, extra: Partial<BackendRequest> = {}): Step => ({ at, run, operation: 'PutItem', lockId: DIGEST, item: { LockID: DIGEST }, ...extra });

/** A terraform apply by `run`: take the lock, write the state and digest, release. */
export function apply(at: number, run: string, id: string, body: string, extra: Partial<BackendRequest> = {}): Step[] {
  return [acquire(at, run, id, 'OperationTypeApply', extra), putState(at + 20, run, body, extra), putDigest(at + 30, run, extra), readLock(at + 40, run, extra), release(at + 50, run, extra)];
}

export const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

export const state = stateObject;

/** A state document: the lab's deployment (id `dep-<release>` unless given) and its release output. */
export const stateBody = (serial: number, release: string, lineage = 'L1', id = `dep-${release}`) =>
  JSON.stringify({
    version: 4,
    serial,
    lineage,
    outputs: { release: { value: release, type: 'string' } },
    resources: [{ mode: 'managed', type: 'terraform_data', name: 'deployment', instances: [{ attributes: { id, input: release, triggers_replace: release } }] }],
  });
