// The backend contract: what the lab needs from any AWS backend, run against
// every backend available here, and every capability a backend claims
// measured (a claim the backend does not live up to fails). Backends that
// cannot run are reported as skipped with the reason (printed, and in the
// test's name); in CI the ones lockgrader installs itself (embedded, moto)
// must run.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { backendAvailability, startBackend } from '../../src/backend/index.ts';
import { probeS3ConditionalWrites } from '../../src/backend/capabilities.ts';
import { createClients, createLabStore, deleteLabStore, type LabStore } from '../../src/backend/lab-store.ts';
import type { BackendAvailability, BackendKind, StartedBackend } from '../../src/backend/types.ts';
import { inCi } from '../support/ci.ts';

const availability: BackendAvailability[] = await backendAvailability({ endpoint: process.env.LOCKGRADER_ENDPOINT });
/** Installed by the project's own set-up (./dev, .ci/run): never skipped in CI. */
const INSTALLED_BY_SETUP: readonly BackendKind[] = ['embedded', 'moto'];

for (const entry of availability) {
  if (!entry.available && inCi() && INSTALLED_BY_SETUP.includes(entry.kind)) {
    describe(`backend ${entry.kind}`, () => {
      test('runs in CI', () => {
        throw new Error(`backend ${entry.kind} must run in CI (.ci/run installs it): ${entry.reason}`);
      });
    });
    continue;
  }
  if (!entry.available) {
    process.stdout.write(`backend contract: ${entry.kind} SKIPPED: ${entry.reason}\n`);
    describe(`backend ${entry.kind}`, () => {
      test.skip(`skipped: ${entry.reason}`, () => undefined);
    });
    continue;
  }
  describe(`backend ${entry.kind}`, () => {
    let backend: StartedBackend;
    let store: LabStore;
    let ddb: DynamoDBClient;
    let s3: S3Client;
    beforeAll(async () => {
      backend = await startBackend(entry.kind, { endpoint: process.env.LOCKGRADER_ENDPOINT });
      store = await createLabStore(backend);
      ({ ddb, s3 } = createClients(backend));
    }, 180_000);
    afterAll(async () => {
      ddb?.destroy();
      s3?.destroy();
      if (store) await deleteLabStore(store);
      await backend?.stop();
    });

    const lockItem = (info: string) => ({ LockID: { S: store.lockId }, Info: { S: info } });

    test('the second conditional PutItem is refused; a consistent GetItem reads the first', async () => {
      const put = (info: string) =>
        ddb.send(new PutItemCommand({ TableName: store.table, Item: lockItem(info), ConditionExpression: 'attribute_not_exists(LockID)' }));
      await put('{"ID":"first"}');
      await expect(put('{"ID":"second"}')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      const got = await ddb.send(new GetItemCommand({ TableName: store.table, Key: { LockID: { S: store.lockId } }, ConsistentRead: true }));
      expect(got.Item?.Info?.S).toBe('{"ID":"first"}');
    });

    test('a conditional DeleteItem (Info = :info) is refused when Info differs and succeeds when it matches', async () => {
      const del = (info: string) =>
        ddb.send(
          new DeleteItemCommand({
            TableName: store.table,
            Key: { LockID: { S: store.lockId } },
            ConditionExpression: 'Info = :info',
            ExpressionAttributeValues: { ':info': { S: info } },
          }),
        );
      await expect(del('{"ID":"other"}')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      await del('{"ID":"first"}');
      const got = await ddb.send(new GetItemCommand({ TableName: store.table, Key: { LockID: { S: store.lockId } }, ConsistentRead: true }));
      expect(got.Item).toBeUndefined();
    });

    test('S3 put, get, head, list and delete', async () => {
      await s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: store.key, Body: '{"serial":1}' }));
      const got = await s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: store.key }));
      expect(await got.Body?.transformToString()).toBe('{"serial":1}');
      const head = await s3.send(new HeadObjectCommand({ Bucket: store.bucket, Key: store.key }));
      expect(head.ContentLength).toBe(12);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: store.bucket, Prefix: 'lab/' }));
      expect(listed.Contents?.map((object) => object.Key)).toEqual([store.key]);
      await s3.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: store.key }));
      await expect(s3.send(new HeadObjectCommand({ Bucket: store.bucket, Key: store.key }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    });

    test('If-None-Match: * is honoured exactly when the backend claims it (the capability self-test)', async () => {
      const probe = await probeS3ConditionalWrites(backend, store.bucket);
      const claim = backend.capabilities.s3ConditionalWrites;
      process.stdout.write(`backend contract: ${entry.kind} S3 If-None-Match honoured=${probe.honoured} (second put: ${probe.secondPutStatus}), claimed ${String(claim)}\n`);
      if (claim !== undefined) expect(probe.honoured).toBe(claim);
      if (probe.honoured) {
        expect(probe.secondPutStatus).toBe(412);
        expect(probe.bodyAfter).toBe('first');
      } else {
        // The emulator overwrote: nothing in lockgrader may rely on S3-native locking (use_lockfile) here.
        expect(probe.bodyAfter).toBe('second');
      }
    });

    test('concurrent conditional writers of one .tflock: one winner per round exactly when claimed', async () => {
      const rounds = 5;
      const writers = 8;
      const winners: number[] = [];
      for (let round = 0; round < rounds; round += 1) {
        const key = `${store.key}.race-${round}.tflock`;
        const results = await Promise.allSettled(
          Array.from({ length: writers }, (_, writer) => s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: key, Body: `writer-${writer}`, IfNoneMatch: '*' }))),
        );
        const won = results.flatMap((result, writer) => (result.status === 'fulfilled' ? [writer] : []));
        for (const result of results) {
          if (result.status === 'rejected') expect(result.reason).toMatchObject({ $metadata: { httpStatusCode: expect.any(Number) } });
        }
        const got = await s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }));
        const body = await got.Body?.transformToString();
        if (won.length === 1) expect(body).toBe(`writer-${won[0]}`);
        winners.push(won.length);
        await s3.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: key }));
      }
      process.stdout.write(`backend contract: ${entry.kind} winners per round of ${writers} conditional writers: ${winners.join(', ')}\n`);
      const claim = backend.capabilities.s3ConditionalWrites;
      if (claim !== undefined) expect(winners.every((count) => count === 1)).toBe(claim);
    }, 60_000);
  });
}
