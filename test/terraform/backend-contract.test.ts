// The backend contract: what the lab needs from any AWS backend, run against
// every backend kind, and every capability a backend claims measured (a claim
// the backend does not live up to fails). `endpoint` joins LOCKGRADER_ENDPOINT
// when it is set, else a `lockgrader serve-backend` this suite starts as its own
// process; `localstack` needs a container engine and its image (.ci/run
// provides both). A backend that cannot run is skipped with the reason
// (printed, and in the test's name); in CI that is a failure (nothing is
// skipped there).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { backendAvailability, startBackend } from '../../src/backend/index.ts';
import { probeS3ConditionalWrites } from '../../src/backend/capabilities.ts';
import { CONTAINER_LABELS, connectEngine, type ContainerEngine } from '../../src/backend/container-engine.ts';
import { connectEndpointBackend } from '../../src/backend/endpoint.ts';
import { createClients, createLabStore, deleteLabStore, type LabStore } from '../../src/backend/lab-store.ts';
import type { BackendAvailability, BackendKind, StartedBackend } from '../../src/backend/types.ts';
import { describeUnrunnable } from '../support/ci.ts';
import { listeningPorts } from '../support/leftovers.ts';
import { serveBackend, type ServedBackend } from '../support/serve-backend.ts';

const availability: BackendAvailability[] = await backendAvailability({ endpoint: process.env.LOCKGRADER_ENDPOINT });

// How this suite gets a running backend of each kind, and what it must stop afterwards.
async function openBackend(kind: BackendKind): Promise<{ backend: StartedBackend; served?: ServedBackend }> {
  if (kind !== 'endpoint') return { backend: await startBackend(kind) };
  if (process.env.LOCKGRADER_ENDPOINT) return { backend: await startBackend('endpoint', { endpoint: process.env.LOCKGRADER_ENDPOINT }) };
  const served = await serveBackend();
  return { backend: connectEndpointBackend(served.endpoint, served.env), served };
}

for (const entry of availability) {
  if (!entry.available && entry.kind !== 'endpoint') {
    describeUnrunnable(`backend ${entry.kind}`, entry.reason);
    continue;
  }
  const title = entry.kind === 'endpoint' ? `backend endpoint (${process.env.LOCKGRADER_ENDPOINT ?? 'a lockgrader serve-backend process'})` : `backend ${entry.kind}`;
  describe(title, () => {
    let backend: StartedBackend;
    let served: ServedBackend | undefined;
    let store: LabStore;
    let ddb: DynamoDBClient;
    let s3: S3Client;
    beforeAll(async () => {
      ({ backend, served } = await openBackend(entry.kind));
      process.stdout.write(`backend contract: ${entry.kind}: ${backend.description}, started in ${Math.round(backend.startMs)} ms\n`);
      store = await createLabStore(backend);
      ({ ddb, s3 } = createClients(backend));
    }, 180_000);
    afterAll(async () => {
      ddb?.destroy();
      s3?.destroy();
      if (store) await deleteLabStore(store);
      await backend?.stop();
      await served?.stop();
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

    if (entry.kind !== 'localstack') return;

    describe('LocalStack in its container', () => {
      let engine: ContainerEngine;
      const ours = async () =>
        (await engine.client.container.dockerode.listContainers({ all: true, filters: { label: [`${CONTAINER_LABELS.ownerPid}=${process.pid}`] } })).filter(
          (container) => container.Labels[CONTAINER_LABELS.backend] === 'localstack',
        );
      beforeAll(async () => {
        engine = await connectEngine();
      });

      test("LocalStack's own DynamoDB is not used: it answers 501, and the backend says what serves DynamoDB instead and why", async () => {
        const own = new DynamoDBClient({ endpoint: backend.endpoints.s3, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
        try {
          await expect(own.send(new ListTablesCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 501 }, message: expect.stringMatching(/'dynamodb' is not enabled/) });
        } finally {
          own.destroy();
        }
        expect(backend.endpoints.dynamodb).not.toBe(backend.endpoints.s3);
        expect(backend.services?.dynamodb).toEqual({ servedBy: expect.stringMatching(/^dynalite \d+\.\d+\.\d+ \(in-process\)$/), substitutedBecause: expect.stringMatching(/DynamoDB Local.*licence is not open source/) });
        expect(backend.services?.s3.servedBy).toMatch(/^LocalStack \d+\.\d+/);
      });

      test('one container, labelled with this process, on the network the backend names; on the host network it listens on 127.0.0.1 only', async () => {
        const containers = await ours();
        expect(containers).toHaveLength(1);
        const inspected = await engine.client.container.dockerode.getContainer(containers[0]!.Id).inspect();
        const network = inspected.HostConfig.NetworkMode === 'host' ? 'host' : 'bridge';
        expect(backend.description).toContain(`${network} network`);
        if (network === 'host') {
          expect(inspected.HostConfig.PortBindings ?? {}).toEqual({});
          const port = new URL(backend.endpoints.s3).port;
          expect(inspected.Config.Env).toContain(`GATEWAY_LISTEN=127.0.0.1:${port}`);
          const listening = [...(await listeningPorts())].filter((address) => address.endsWith(`:${port}`));
          expect(listening).toEqual([`127.0.0.1:${port}`]);
        } else {
          expect(Object.keys(inspected.HostConfig.PortBindings ?? {})).toEqual(['4566/tcp']);
        }
      });

      test('stop() removes the container', async () => {
        await backend.stop();
        expect(await ours()).toEqual([]);
      });
    });
  });
}
